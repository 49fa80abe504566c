"""Asking where to write a table (CSV, Parquet or TSV): one dialog for every export of rows."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

FILE_FILTERS = "CSV (*.csv);;Parquet (*.parquet);;TSV (*.tsv)"


def ask_table_path(parent, title: str, start: str) -> str | None:
    """The file the user chose, with the suffix of the chosen type added when missing;
    None when cancelled."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, start, FILE_FILTERS)
    if not path:
        return None
    if not Path(path).suffix:
        path += ".parquet" if chosen.startswith("Parquet") else (
            ".tsv" if chosen.startswith("TSV") else ".csv")
    return path
