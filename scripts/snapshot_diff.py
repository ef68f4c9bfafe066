"""Show how the text of changed snapshot SVGs differs from the committed ones.

Run after ``pytest --snapshot-update``: ``python scripts/snapshot_diff.py``.
It prints, per changed SVG, the lines of screen text that changed, so that a
review starts from what moved; colours and layout still need a look at the
SVG itself (``rsvg-convert -w 1400 FILE.svg -o FILE.png``).
"""

from __future__ import annotations

import difflib
import html
import re
import subprocess
import sys

TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")


def screen_text(svg: str) -> list[str]:
    return [html.unescape(t).replace("\xa0", " ") for t in TEXT.findall(svg)]


def changed_snapshots() -> list[str]:
    out = subprocess.run(["git", "diff", "--name-only", "--", "*.svg"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def main(paths: list[str]) -> int:
    for path in paths or changed_snapshots():
        before = subprocess.run(["git", "show", f"HEAD:{path}"], capture_output=True, text=True).stdout
        with open(path, encoding="utf-8") as fh:
            after = fh.read()
        diff = [
            line
            for line in difflib.unified_diff(screen_text(before), screen_text(after), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        print(f"{path}: {len(diff)} changed text runs")
        for line in diff:
            print("   ", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
