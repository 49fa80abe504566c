"""The colours every message in the app uses: one place, so an error looks the same everywhere.

``kind`` is one of "" (plain), "note", "warning" or "error". A message of another kind
always replaces the colour of the one before (a success never stays red).
"""
from __future__ import annotations

ERROR = "#c0392b"    # a request failed, an input is wrong
WARNING = "#b9770e"  # it worked, but something is missing or approximate
NOTE = "#7a5b00"     # worth knowing (a nearest-version fallback, an edited cell)
MUTED = "#666666"    # secondary text

ERROR_STYLE = f"color: {ERROR};"
WARNING_STYLE = f"color: {WARNING};"
NOTE_STYLE = f"color: {NOTE};"
MUTED_STYLE = f"color: {MUTED};"
BAD_FIELD_STYLE = f"QLineEdit {{ border: 1px solid {ERROR}; background: #fdecea; }}"

KINDS = ("", "note", "warning", "error")
_COLOURS = {"error": ERROR, "warning": WARNING, "note": NOTE}


def colour(kind: str) -> str:
    """The text colour of a message kind ("" for the palette's own)."""
    return _COLOURS.get(kind, "")


def label_style(kind: str) -> str:
    """A QLabel style sheet for a message kind."""
    c = colour(kind)
    return f"color: {c};" if c else ""


def status_bar_style(kind: str) -> str:
    c = colour(kind)
    return f"QStatusBar {{ color: {c}; }}" if c else ""


def html_span(text: str, kind: str) -> str:
    """Rich text in a kind's colour (text must already be HTML-escaped)."""
    c = colour(kind)
    return f"<span style='color:{c}'>{text}</span>" if c and text else text
