"""One selection of cells shared by the views (the result table, the soma map, the partner
tables, the matrix, and whatever else hooks it, e.g. a live Neuroglancer viewer).

The main window owns one :class:`CellSelection` (``window.cell_selection``). A view that
selects cells calls :meth:`CellSelection.set` with itself as ``source``; every view
listens to :attr:`CellSelection.changed` and highlights the cells, ignoring the changes
it made itself (so two views never echo a selection back and forth).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from PySide6.QtCore import QObject, Signal


class CellSelection(QObject):
    #: (frozenset of root ids, the object that set them or None). Emitted only on change.
    changed = Signal(object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._ids: frozenset[int] = frozenset()
        self.source: object | None = None  # who made the current selection

    def ids(self) -> frozenset[int]:
        return self._ids

    def id_array(self) -> np.ndarray:
        """The selected root ids, sorted, as int64 (for np.isin over a view's column)."""
        return np.fromiter(sorted(self._ids), dtype=np.int64, count=len(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, root_id) -> bool:
        return int(root_id) in self._ids

    def set(self, root_ids: Iterable, source: object | None = None) -> bool:
        """Select exactly these cells (0 and missing values are no cell). True if changed."""
        ids = frozenset(int(i) for i in root_ids if i is not None and int(i) > 0)
        if ids == self._ids:
            return False
        self._ids, self.source = ids, source
        self.changed.emit(ids, source)
        return True

    def clear(self, source: object | None = None) -> bool:
        return self.set((), source)
