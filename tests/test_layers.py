"""Layers import in one direction only: domain <- data <- widgets/screens <- app; domain is the standard library only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dasshh_history"

FORBIDDEN = {
    "data": ("textual", "rich", "dasshh_history.widgets", "dasshh_history.screens", "dasshh_history.app"),
    "domain": ("textual", "rich", "sqlalchemy", "dasshh_history.data", "dasshh_history.widgets",
               "dasshh_history.screens", "dasshh_history.app"),
    "widgets": ("dasshh_history.screens", "dasshh_history.app"),
    "screens": ("dasshh_history.app",),
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str):
    files = sorted((PACKAGE / layer).glob("*.py"))
    assert files
    for path in files:
        for name in imports(path):
            for banned in FORBIDDEN[layer]:
                assert not (name == banned or name.startswith(banned + ".")), f"{path.name} imports {name}"


def test_the_domain_layer_is_the_standard_library_only():
    import sys

    for path in sorted((PACKAGE / "domain").glob("*.py")):
        for name in imports(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("dasshh_history.domain") or top == "__future__", (
                f"{path.name} imports {name}"
            )
