"""PostgreSQL's ``~`` operator (advanced regular expressions) approximated with Python's re.

The materialization engine applies filter_regex_dict as ``column ~ pattern``: an unanchored
search, case-sensitive, where ``.`` and bracket expressions also match a newline and ``$``
matches only at the very end. The ARE escapes that mean something else in Python are
translated:

    \\m  start of a word        -> (?<!\\w)(?=\\w)
    \\M  end of a word          -> (?<=\\w)(?!\\w)
    \\y  either word boundary   -> \\b
    \\Y  not a word boundary    -> \\B
    \\b  backspace (not a word boundary!) -> \\x08
    \\Z  end of string          -> \\Z (same), \\A start (same)
    [[:alpha:]] etc. POSIX classes inside brackets, [[:<:]] / [[:>:]] word edges
    a leading ***= (the rest is a literal) and ***: (the rest is an ARE)

Not imitated (rare in practice): embedded options other than a leading (?i)/(?x)-style
group Python also understands, \\e, \\xhhh hex escapes wider than two digits, collating
elements [[.x.]] and equivalence classes [[=x=]]; a pattern Python cannot compile is
answered like PostgreSQL's "invalid regular expression" error.
"""
from __future__ import annotations

import re

_POSIX = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "word": r"\w", "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e",
}
_ESCAPES = {"m": r"(?<!\w)(?=\w)", "M": r"(?<=\w)(?!\w)", "y": r"\b", "Y": r"\B",
            "b": r"\x08", "Z": r"\Z", "A": r"\A"}


class PgRegexError(ValueError):
    pass


def translate(pattern: str) -> str:
    if pattern.startswith("***="):
        return re.escape(pattern[4:])
    if pattern.startswith("***:"):
        pattern = pattern[4:]
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise PgRegexError("invalid escape \\ sequence")
            e = pattern[i + 1]
            out.append(_ESCAPES.get(e, "\\" + e))
            i += 2
        elif c == "$":
            out.append(r"\Z")  # PostgreSQL's $ does not match before a final newline
            i += 1
        elif c == "[":
            if pattern.startswith("[[:<:]]", i):
                out.append(_ESCAPES["m"])
                i += 7
                continue
            if pattern.startswith("[[:>:]]", i):
                out.append(_ESCAPES["M"])
                i += 7
                continue
            j, parts = i + 1, ["["]
            if j < n and pattern[j] == "^":
                parts.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                parts.append(r"\]")  # a leading ] is literal in POSIX brackets
                j += 1
            while j < n and pattern[j] != "]":
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j + 2)
                    if end < 0:
                        raise PgRegexError("invalid character class")
                    name = pattern[j + 2:end]
                    if name not in _POSIX:
                        raise PgRegexError(f"invalid character class {name!r}")
                    parts.append(_POSIX[name])
                    j = end + 2
                elif pattern[j] == "\\" and j + 1 < n:
                    e = pattern[j + 1]
                    parts.append(r"\x08" if e == "b" else "\\" + e)
                    j += 2
                elif pattern[j] == "[":
                    parts.append(r"\[")
                    j += 1
                else:
                    parts.append(pattern[j])
                    j += 1
            if j >= n:
                raise PgRegexError("brackets [] not balanced")
            parts.append("]")
            out.append("".join(parts))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def compile_pg(pattern: str) -> re.Pattern:
    """Compile a PostgreSQL ARE; PgRegexError for what PostgreSQL would also reject."""
    try:
        return re.compile(translate(str(pattern)), re.DOTALL)
    except re.error as exc:
        raise PgRegexError(f"invalid regular expression: {exc}") from None
