"""The regular expressions a ``regex`` filter accepts: the part of the syntax that DuckDB's
RE2 (local datastacks) and PostgreSQL's ``~`` (CAVE servers) both have, with one meaning.

Python's ``re`` is not the judge: it accepts lookbehinds and backreferences that RE2 refuses,
overflows on ``a{4294967296}`` and recurses on deep nesting. This is a small parser of the
common subset instead; it never compiles anything, so it is fast on any input:

- literals, ``.``, ``^``, ``$``, ``|``, ``(...)``, ``(?:...)``, a leading ``(?i)``;
- ``*``, ``+``, ``?``, ``{n}``, ``{n,}``, ``{n,m}`` (n, m <= 255, PostgreSQL's limit; nested
  counts multiply to at most 1000, RE2's), each optionally lazy (``*?``);
- ``[...]`` / ``[^...]`` with ranges, ``[:alpha:]``-style classes and escapes;
- escapes ``\\d \\s \\n \\t \\r \\f \\v`` and a backslash before punctuation.

Everything else is refused with the name of the construct and what to write instead.
A filter is an unanchored search on both engines (``column ~ pattern``,
``regexp_matches``).
"""
from __future__ import annotations

from models.errors import InvalidInputError

MAX_LENGTH = 1000
MAX_DEPTH = 50  # nested groups
MAX_COUNT = 255  # PostgreSQL's RE_DUPMAX for {n,m}
MAX_NESTED_COUNT = 1000  # RE2's limit on nested repetition counts multiplied

POSIX_CLASSES = {"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
                 "punct", "space", "upper", "xdigit"}

_WORD = ("DuckDB's \\w is ASCII only but CAVE's (PostgreSQL) also matches accented letters",
         "write the characters out, e.g. [A-Za-z0-9_]")
_ESCAPE_HELP = {
    "w": _WORD, "W": _WORD,
    "b": ("\\b is a word boundary in DuckDB but a backspace on CAVE (PostgreSQL)",
          "match the neighbour instead, e.g. (^|[^A-Za-z0-9_])word([^A-Za-z0-9_]|$)"),
    "B": ("\\B (not a word boundary) exists only in DuckDB", "remove it"),
    "A": ("\\A (start of text) is spelled differently by the two engines", "use ^"),
    "z": ("\\z (end of text) is spelled differently by the two engines", "use $"),
    "Z": ("\\Z (end of text) is spelled differently by the two engines", "use $"),
    "m": ("\\m (start of word) exists only on CAVE (PostgreSQL)", "use (^|[^A-Za-z0-9_])"),
    "M": ("\\M (end of word) exists only on CAVE (PostgreSQL)", "use ([^A-Za-z0-9_]|$)"),
    "y": ("\\y (word boundary) exists only on CAVE (PostgreSQL)", "match the neighbour"),
    "Y": ("\\Y exists only on CAVE (PostgreSQL)", "remove it"),
    "x": ("hex escapes (\\x..) are read differently by the two engines",
          "type the character itself"),
    "u": ("\\u escapes exist only on CAVE (PostgreSQL)", "type the character itself"),
    "U": ("\\U escapes exist only on CAVE (PostgreSQL)", "type the character itself"),
    "p": ("Unicode classes (\\p{...}) exist only in DuckDB (RE2)",
          "list the characters in brackets, e.g. [αβγ]"),
    "P": ("Unicode classes (\\P{...}) exist only in DuckDB (RE2)",
          "list the characters in brackets, e.g. [^αβγ]"),
    "Q": ("\\Q...\\E quoting exists only in DuckDB (RE2)",
          "put a backslash before each special character, e.g. a\\.b"),
    "E": ("\\E ends \\Q quoting, which exists only in DuckDB (RE2)", "remove it"),
    "k": ("named backreferences (\\k<name>) are not supported by DuckDB (RE2)",
          "repeat the text instead"),
    "g": ("backreferences (\\g) are not supported by DuckDB (RE2)", "repeat the text instead"),
    "0": ("octal and NUL escapes (\\0) differ between the engines",
          "type the character itself"),
}
_GROUP_HELP = [
    ("(?<=", "lookbehind (?<=...) is not supported by DuckDB (RE2)",
     "match the preceding text as part of the pattern"),
    ("(?<!", "negative lookbehind (?<!...) is not supported by DuckDB (RE2)",
     "add a second filter, or use a bracket such as [^x]"),
    ("(?=", "lookahead (?=...) is not supported by DuckDB (RE2)",
     "match the following text as part of the pattern"),
    ("(?!", "negative lookahead (?!...) is not supported by DuckDB (RE2)",
     "add a second filter, or use a bracket such as [^x]"),
    ("(?P=", "named backreferences (?P=name) are not supported by DuckDB (RE2)",
     "repeat the text instead"),
    ("(?P<", "named groups (?P<name>...) are not supported on CAVE (PostgreSQL)",
     "use a plain group (...)"),
    ("(?<", "named groups (?<name>...) are not supported on CAVE (PostgreSQL)",
     "use a plain group (...)"),
    ("(?'", "named groups (?'name'...) are not supported", "use a plain group (...)"),
    ("(?#", "comments (?#...) are not supported by DuckDB (RE2)", "remove the comment"),
    ("(?>", "atomic groups (?>...) are not supported by either engine", "use (?:...)"),
    ("(?|", "branch reset groups (?|...) are not supported by either engine", "use (?:...)"),
]


class _Parser:
    def __init__(self, pattern: str, column: str):
        self.p, self.i, self.depth, self.column = pattern, 0, 0, column

    def fail(self, what: str, hint: str = "") -> None:
        where = f" for '{self.column}'" if self.column else ""
        raise InvalidInputError(f"The regex{where} cannot be used: {what}.", field=self.column,
                                hint=(hint[0].upper() + hint[1:] + ".") if hint else "")

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def alternation(self) -> int:
        """Parse branches up to ')' or the end; returns the largest nested repeat count."""
        most = self.sequence()
        while self.peek() == "|":
            self.i += 1
            most = max(most, self.sequence())
        return most

    def sequence(self) -> int:
        most, prev = 1, None  # prev: repeat count inside the last atom, None if no atom
        while self.i < len(self.p) and self.peek() not in "|)":
            c = self.peek()
            if c in "*+?{":
                if prev is None:
                    self.fail(f"'{c}' at position {self.i + 1} has nothing before it to repeat",
                              f"put a backslash before it to match it literally (\\{c})")
                most = max(most, self.quantifier(prev))
                prev = None  # a second quantifier right after is an error
                continue
            if c == "(":
                prev = self.group()
            elif c == "[":
                self.bracket()
                prev = 1
            elif c == "\\":
                prev = self.escape()
            elif c in "^$":
                self.i += 1
                prev = None
            else:
                self.i += 1
                prev = 1
            most = max(most, prev or 1)
        return most

    def quantifier(self, inner: int) -> int:
        c = self.peek()
        start = self.i
        self.i += 1
        count = 1
        if c == "{":
            lo, hi = self.number(), None
            if lo is None:
                self.fail(f"'{{' at position {start + 1} does not start a count like {{2}} or "
                          "{2,5}", "write \\{ to match a brace")
            if self.peek() == ",":
                self.i += 1
                hi = self.number()
            else:
                hi = lo
            if self.peek() != "}":
                self.fail(f"'{{' at position {start + 1} does not start a count like {{2}} or "
                          "{2,5}", "write \\{ to match a brace")
            self.i += 1
            top = max(lo, hi if hi is not None else lo)
            if top > MAX_COUNT:
                self.fail(f"the count {self.p[start:self.i]} is above {MAX_COUNT}, the most "
                          "CAVE (PostgreSQL) allows", "use + or * for long runs")
            if hi is not None and hi < lo:
                self.fail(f"the count {self.p[start:self.i]} has its larger number first",
                          "write the smaller number first, e.g. {2,5}")
            count = max(top, 1)
        if self.peek() == "?":  # lazy: same matches for a yes/no filter
            self.i += 1
        if self.peek() and self.peek() in "*+?{":
            self.fail(f"two repetitions in a row at position {self.i + 1}",
                      "possessive and stacked quantifiers are not supported: "
                      "use a group, e.g. (a{2}){3}")
        total = inner * count
        if total > MAX_NESTED_COUNT:
            self.fail(f"nested counts repeat {total:,} times, above DuckDB's (RE2) limit of "
                      f"{MAX_NESTED_COUNT}", "use + or * instead of a large count")
        return total

    def number(self) -> int | None:
        j = self.i
        while j < len(self.p) and "0" <= self.p[j] <= "9":
            j += 1
        if j == self.i:
            return None
        n, self.i = int(self.p[self.i:j]), j
        return n

    def group(self) -> int | None:
        start = self.i
        if self.depth >= MAX_DEPTH:
            self.fail(f"groups are nested more than {MAX_DEPTH} deep", "simplify the pattern")
        if self.p.startswith("(?", self.i):
            if self.p.startswith("(?:", self.i):
                self.i += 3
            elif self.p.startswith("(?i)", self.i) and self.i == 0:
                self.i += 4
                return None  # an option: nothing to repeat
            else:
                for prefix, what, hint in _GROUP_HELP:
                    if self.p.startswith(prefix, self.i):
                        self.fail(what, hint)
                self.fail("inline options like (?s) or (?i) after the start are read "
                          "differently by the two engines", "only (?i) at the very start "
                          "(case-insensitive) is supported")
        else:
            self.i += 1
        self.depth += 1
        most = self.alternation()
        self.depth -= 1
        if self.peek() != ")":
            self.fail(f"the group opened at position {start + 1} is not closed",
                      "add ')' or write \\( to match a parenthesis")
        self.i += 1
        return most

    def escape(self, in_bracket: bool = False) -> int:
        """A backslash escape; returns 1 (a character class or literal)."""
        c = self.peek(1)
        if not c:
            self.fail("it ends with a backslash", "write \\\\ to match a backslash")
        self.i += 2
        if c in "dsntrfv" or (c in "DS" and not in_bracket):
            return 1
        if c in "DS":
            self.fail(f"\\{c} inside [...] is not supported on CAVE (PostgreSQL)",
                      f"use [^...] with \\{c.lower()} or a negated class")
        if c.isascii() and not c.isalnum():
            return 1  # an escaped punctuation character is itself on both engines
        if c in "123456789":
            self.fail(f"backreferences (\\{c}) are not supported by DuckDB (RE2)",
                      "repeat the group's text instead, or filter in two steps")
        if c in _ESCAPE_HELP:
            what, hint = _ESCAPE_HELP[c]
            self.fail(what, hint)
        self.fail(f"the escape \\{c} is not supported by both engines",
                  "remove the backslash, or escape only punctuation such as \\. or \\(")
        return 1

    def bracket(self) -> None:
        start = self.i
        self.i += 1
        if self.peek() == "^":
            self.i += 1
        first, prev, kind = True, None, None  # kind of the last member: char, class, range
        while True:
            c = self.peek()
            if not c:
                self.fail(f"the '[' at position {start + 1} is not closed",
                          "add ']' or write \\[ to match a bracket")
            if c == "]" and not first:
                self.i += 1
                return
            first = False
            if c == "[" and self.peek(1) in (".", "="):
                self.fail("collating elements like [.a.] and [=a=] exist only on CAVE "
                          "(PostgreSQL)", "list the characters instead")
            if c == "[" and self.peek(1) == ":":
                end = self.p.find(":]", self.i + 2)
                name = self.p[self.i + 2:end] if end >= 0 else ""
                if name not in POSIX_CLASSES:
                    self.fail(f"[:{name[:20]}:] is not a character class both engines know",
                              "use one of " + ", ".join(sorted(POSIX_CLASSES))
                              + ", e.g. [[:digit:]]")
                self.i = end + 2
                kind = "class"
                continue
            if c == "-" and kind is not None and self.peek(1) not in ("]", ""):
                if kind != "char":
                    self.fail("a '-' in [...] after a range or a class such as \\d is "
                              "ambiguous", "put a literal '-' last, e.g. [a-z-]")
                self.i += 1
                hi = self.bracket_char()
                if hi is None:
                    self.fail("a range in [...] ends in a class such as \\d",
                              "put a literal '-' last, e.g. [a-z-]")
                if ord(hi) < ord(prev):
                    self.fail(f"the range {prev}-{hi} is backwards", f"write {hi}-{prev}")
                kind = "range"
                continue
            prev = self.bracket_char()
            kind = "char" if prev is not None else "class"

    def bracket_char(self) -> str | None:
        """One member of a bracket: its character, or None for a class like \\d."""
        c = self.peek()
        if c == "\\":
            e = self.peek(1)
            self.escape(in_bracket=True)
            return {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}.get(
                e, e if not e.isalnum() else None)
        self.i += 1
        return c


def check_regex(pattern: str, column: str = "") -> str:
    """Return ``pattern`` if DuckDB and PostgreSQL both accept it with the same meaning,
    else raise InvalidInputError saying which construct and what to use instead."""
    where = f" for '{column}'" if column else ""
    if not isinstance(pattern, str):
        raise InvalidInputError(f"The regex{where} must be text.", field=column)
    if pattern == "":
        raise InvalidInputError(f"The regex{where} is empty.", field=column,
                                hint="Type a pattern, e.g. ^23P.")
    if len(pattern) > MAX_LENGTH:
        raise InvalidInputError(f"The regex{where} is {len(pattern):,} characters long; "
                                f"at most {MAX_LENGTH:,} are accepted.", field=column,
                                hint="Use an 'in list' filter for many exact values.")
    check_text(pattern, f"The regex{where}", column)
    parser = _Parser(pattern, column)
    parser.alternation()
    if parser.i < len(pattern):  # only an unmatched ')' stops the top level early
        parser.fail(f"the ')' at position {parser.i + 1} has no '(' before it",
                    "write \\) to match a parenthesis")
    return pattern


def check_text(text: str, what: str, column: str = "") -> None:
    """Text that a server's database can store: no NUL, no lone surrogate."""
    if "\x00" in text:
        raise InvalidInputError(f"{what} contains a NUL character, which CAVE's database "
                                "cannot store.", field=column, hint="Remove it.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{what} contains characters that are not valid text "
                                "(a lone surrogate).", field=column,
                                hint="Retype the value.") from None
