"""The one parser of cell ids (root ids, nucleus ids) typed or pasted by the user.

Accepted: one id or a list separated by commas, semicolons, bars, spaces or new lines;
brackets, quotes and ``np.int64(...)`` wrappers as Python prints them; a header line
(``pt_root_id`` as copied from a table) above the ids. Every id becomes an exact Python
int. Floats (``8.6e17``, ``864691135101289504.0``) are refused: they cannot hold 18
digits, so they would point at another cell.
"""
from __future__ import annotations

import re

import numpy as np

from models.errors import InvalidInputError

# Nucleus ids are small detection counters; root ids carry the chunk-graph layer in their
# top bits (MICrONS/FlyWire root ids have 17-19 digits). Anything below this is a nucleus id.
NUCLEUS_ID_MAX = 2**40
ID_MAX = 2**63  # ids are signed 64-bit integers on CAVE

_SPLIT = re.compile(r"[\s,;|]+")
_WRAPPERS = re.compile(r"\b(?:np\.|numpy\.)?u?int(?:64|32)?\b|\barray\b|\bdtype\b")
_DECIMAL = re.compile(r"[-+]?\d*\.?\d+(e[-+]?\d+)?", re.I)


def is_nucleus_id(cell_id: int) -> bool:
    return 0 < int(cell_id) < NUCLEUS_ID_MAX


def strip_header(text: str) -> str:
    """Drop a first line without any digit (a column header) when more lines follow."""
    lines = str(text or "").strip().splitlines()
    if len(lines) > 1 and not re.search(r"\d", lines[0]):
        lines = lines[1:]
    return "\n".join(lines)


def _tokens(text: str) -> list[str]:
    cleaned = re.sub(r"[\[\](){}'\"=]", " ", strip_header(text))
    cleaned = _WRAPPERS.sub(" ", cleaned)
    return [t for t in _SPLIT.split(cleaned) if t]


def _one(token: str, field: str, what: str) -> int:
    if not token.isdigit():
        if token.startswith("-") and token[1:].isdigit():
            raise InvalidInputError(f"'{token}' is negative, so it is not a {what}.",
                                    field=field, hint="Ids are positive whole numbers.")
        if _DECIMAL.fullmatch(token):
            raise InvalidInputError(
                f"'{token}' is a decimal number, so it is not a {what}.", field=field,
                hint="Ids are whole numbers; a value like 8.6469e17 has lost its last digits: "
                     "copy the id from a table with integer columns.")
        raise InvalidInputError(f"'{token}' is not a whole number, so it is not a {what}.",
                                field=field, hint="Ids are whole numbers such as "
                                                  "864691135101289504.")
    v = int(token)
    if v == 0 or v >= ID_MAX:
        raise InvalidInputError(f"{token} is not a valid {what} (0 or too large for 64 bits).",
                                field=field)
    return v


def parse_ids(text, field: str = "cell_id", what: str = "cell id") -> list[int]:
    """Ids typed or pasted, as exact ints; duplicates dropped, order kept."""
    tokens = _tokens(text)
    if not tokens:
        raise InvalidInputError("Type or paste a root id or nucleus id.", field=field,
                                hint="e.g. 864691135101289504")
    return list(dict.fromkeys(_one(t, field, what) for t in tokens))


def parse_id(value, field: str = "cell_id", what: str = "cell id") -> int:
    """Exactly one id, from an int (numpy ints too) or text."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"'{value}' is not a {what}.", field=field)
    if isinstance(value, (int, np.integer)):
        return _one(str(int(value)), field, what)
    if not isinstance(value, str):
        raise InvalidInputError(f"'{value}' is not a {what}.", field=field,
                                hint="A root id is a whole number such as 864691135774053371.")
    ids = parse_ids(value, field, what)
    if len(ids) != 1:
        raise InvalidInputError(f"Expected one id, got {len(ids)}.", field=field)
    return ids[0]


def parse_id_array(text, field: str = "root_ids", what: str = "root id") -> np.ndarray:
    """Pasted ids as a unique int64 array (order kept), for cell sets and filters."""
    return np.array(parse_ids(text, field, what), dtype=np.int64)
