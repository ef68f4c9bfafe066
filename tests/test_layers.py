"""Layers import in one direction only: domain <- data <- errors <- services <- widgets <- screens <- app.

Every module of the package is covered, top-level ones included; the domain is
the standard library only; no module imports one that imports it back; and the
command line's ``list`` never loads Textual.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dasshh_history"
UI = ("textual", "rich")
ABOVE_DATA = ("dasshh_history.errors", "dasshh_history.services", "dasshh_history.widgets", "dasshh_history.screens",
              "dasshh_history.app", "dasshh_history.cli")

#: What each layer (a folder, or a top-level module) must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (*UI, "sqlalchemy", "dasshh_history.data", *ABOVE_DATA),
    "data": (*UI, *ABOVE_DATA),
    "errors": (*UI, *ABOVE_DATA[1:]),
    "services": (*UI, *ABOVE_DATA[2:]),
    "widgets": ("dasshh_history.screens", "dasshh_history.app", "dasshh_history.cli"),
    "screens": ("dasshh_history.app", "dasshh_history.cli"),
    "app": ("dasshh_history.cli",),
    "cli": UI,  # list and export are for scripts; the app is imported only to run it
    "cli_trash": (*UI, "dasshh_history.cli", "dasshh_history.app"),  # prune and restore, for scripts too
    "cli_reports": (*UI, "dasshh_history.cli", "dasshh_history.app"),  # search and stats, for scripts
    "cli_common": (*UI, "dasshh_history.cli", "dasshh_history.app", "dasshh_history.data"),  # the commands' helpers
    "cli_secrets": (*UI, "dasshh_history.cli", "dasshh_history.app"),  # secrets and redact, run by cli
    "demo": (*UI, *ABOVE_DATA),
    "idle_gc": (*UI, "sqlalchemy", "dasshh_history"),
    "__init__": ("dasshh_history.",),
    "__main__": (*UI,),
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    if not name.startswith("dasshh_history."):
        return False
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative: resolve against this module's package
                base = module_name(path).split(".")
                base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
                found.add(".".join([*base, node.module]))
            else:
                # "from package import module" depends on the module (the package is being loaded anyway).
                submodules = {f"{node.module}.{alias.name}" for alias in node.names}
                modules_named = {name for name in submodules if _is_module(name)}
                found.update(modules_named or {node.module})
                found.update(submodules - modules_named)
    return found


def test_every_module_has_a_layer():
    assert {layer_of(path) for path in modules()} <= set(FORBIDDEN), "a new layer: say what it may import"


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str):
    files = [path for path in modules() if layer_of(path) == layer]
    assert files
    for path in files:
        for name in imports(path):
            for banned in FORBIDDEN[layer]:
                hit = name.startswith(banned) if banned.endswith(".") else name == banned or name.startswith(banned + ".")
                assert not hit, f"{path.relative_to(PACKAGE)} imports {name}"


def test_the_domain_layer_is_the_standard_library_only():
    for path in sorted((PACKAGE / "domain").glob("*.py")):
        for name in imports(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("dasshh_history.domain") or top == "__future__", (
                f"{path.name} imports {name}"
            )


def test_no_import_cycle():
    names = {module_name(path): path for path in modules()}
    graph = {
        name: {target for target in imports(path) if target in names and target != name}
        for name, path in names.items()
    }

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(name):], name]))
        for target in sorted(graph[name]):
            if target not in done:
                visit(target, [*trail, name])
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        visit(name, [])


def test_every_module_says_its_job_on_its_first_line():
    for path in modules():
        if path.name == "__main__.py" or not path.read_text().strip():
            continue
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and doc.splitlines()[0].strip(), f"{path.relative_to(PACKAGE)} has no docstring"


def test_no_module_is_much_over_450_lines():
    long = {str(path.relative_to(PACKAGE)): n for path in modules() if (n := len(path.read_text().splitlines())) > 470}
    assert long == {}


def test_list_never_imports_textual(tmp_path: Path):
    code = (
        "import sys\n"
        "from dasshh_history.cli import main\n"
        f"status = main(['--db', {str(tmp_path / 'none.db')!r}, 'list'])\n"
        "assert 'textual' not in sys.modules and 'rich' not in sys.modules, sorted(sys.modules)\n"
        "print('ok', status)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok 0", result.stderr
