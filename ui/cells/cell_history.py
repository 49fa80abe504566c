"""Recently inspected cells with Back/Forward, like a web browser's history.

Plain Python (no Qt) so the panel's navigation rules are simple to test.
"""
from __future__ import annotations


class CellHistory:
    """A list of (datastack, root id) entries and a cursor.

    Visiting a new cell after going Back drops the entries ahead of the cursor, as a
    browser does; visiting the cell already under the cursor changes nothing.
    """

    def __init__(self, limit: int = 50):
        self.limit = limit
        self._items: list[tuple[str, int]] = []
        self._pos = -1

    def visit(self, datastack: str, root_id: int) -> None:
        entry = (datastack, int(root_id))
        if self.current() == entry:
            return
        del self._items[self._pos + 1:]
        self._items.append(entry)
        if len(self._items) > self.limit:
            del self._items[0]
        self._pos = len(self._items) - 1

    def current(self) -> tuple[str, int] | None:
        return self._items[self._pos] if 0 <= self._pos < len(self._items) else None

    def can_back(self) -> bool:
        return self._pos > 0

    def can_forward(self) -> bool:
        return self._pos < len(self._items) - 1

    def back(self) -> tuple[str, int] | None:
        if self.can_back():
            self._pos -= 1
        return self.current()

    def forward(self) -> tuple[str, int] | None:
        if self.can_forward():
            self._pos += 1
        return self.current()

    def go(self, index: int) -> tuple[str, int] | None:
        if 0 <= index < len(self._items):
            self._pos = index
        return self.current()

    def entries(self) -> list[tuple[str, int]]:
        return list(self._items)

    @property
    def position(self) -> int:
        return self._pos
