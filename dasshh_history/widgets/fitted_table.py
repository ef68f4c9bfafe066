"""Filling a ``DataTable`` with its columns as wide as their widest cell from the start.

A table left to widen its columns itself does so when idle: under load it was
drawn (CI caught it twice, on the secrets and stats screens) with its rows at
the new widths and its header still at the labels' widths.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable


def fill_fitted(table: DataTable, rows: Sequence[Sequence[Text]], keys: Sequence[str] | None = None) -> None:
    """Replace ``table``'s rows with ``rows`` (keyed by ``keys``, if given), its columns (same labels) as wide as
    the widest of their label and cells."""
    labels = [column.label for column in table.columns.values()]
    table.clear(columns=True)
    for index, label in enumerate(labels):
        table.add_column(label, width=max([label.cell_len, *(cells[index].cell_len for cells in rows)]))
    for n, cells in enumerate(rows):
        table.add_row(*cells, key=keys[n] if keys is not None else None)


__all__ = ["fill_fitted"]
