"""Reading and checking the JSON of a local datastack (manifest, sidecars, Parquet metadata).

Every problem becomes a :class:`MetadataError` (a DataSourceError) whose message names the
file and the field, says what is wrong and what to do: a user's file never raises
anything else (no TypeError from a list where text was expected, no RecursionError
from deeply nested JSON).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from models.errors import DataSourceError

MAX_JSON_BYTES = 16 * 1024 * 1024  # a manifest or sidecar is small; refuse a huge one


class MetadataError(DataSourceError):
    """A manifest, sidecar or table metadata that is not what the format says."""


def _kind(value) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def parse_json_bytes(raw: bytes, where: str, fix: str):
    """JSON from bytes (UTF-8, a BOM allowed), or MetadataError naming ``where``."""
    if len(raw) > MAX_JSON_BYTES:
        raise MetadataError(f"{where} is {len(raw) // 1024**2} MB, too large for metadata.",
                            hint=fix)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{where} is not UTF-8 text (byte {exc.start}).",
                            hint=f"Save it as UTF-8. {fix}") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise MetadataError(f"{where} is nested too deeply to read.", hint=fix) from None
    except ValueError as exc:
        raise MetadataError(f"{where} is not valid JSON: {exc}.", hint=fix) from None


def read_json_file(path: Path, where: str, fix: str):
    """JSON from a file; a folder, an unreadable file or bad JSON is a MetadataError."""
    if path.is_dir():
        raise MetadataError(f"{where} is a folder, not a file.", hint=fix)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise MetadataError(f"{where} is {size // 1024**2} MB, too large for metadata.",
                                hint=fix)
        raw = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"{where} cannot be read: {exc.strerror or exc}.", hint=fix) from None
    return parse_json_bytes(raw, where, fix)


class Fields:
    """Typed access to one JSON object; wrong types raise MetadataError."""

    def __init__(self, obj, where: str, fix: str):
        if not isinstance(obj, dict):
            raise MetadataError(f"{where} must be a JSON object, not {_kind(obj)}.", hint=fix)
        self.obj, self.where, self.fix = obj, where, fix

    def fail(self, key: str, wanted: str, value=None, *, got: str | None = None):
        got = got if got is not None else _kind(value)
        raise MetadataError(f"In {self.where}, '{key}' must be {wanted}, not {got}.",
                            hint=self.fix)

    def has(self, key: str) -> bool:
        return self.obj.get(key) is not None

    def text(self, key: str, default: str = "") -> str:
        v = self.obj.get(key)
        if v is None:
            return default
        if not isinstance(v, str):
            self.fail(key, "text", v)
        return v

    def texts(self, key: str) -> tuple[str, ...]:
        v = self.obj.get(key)
        if v is None:
            return ()
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.fail(key, "a list of text", v)
        return tuple(v)

    def mapping(self, key: str) -> dict:
        v = self.obj.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict):
            self.fail(key, "an object", v)
        return dict(v)

    def text_mapping(self, key: str) -> dict[str, str]:
        v = self.mapping(key)
        if not all(isinstance(x, str) for x in v.values()):
            self.fail(key, "an object of text values", got="other values")
        return v

    def resolution(self, key: str, default):
        v = self.obj.get(key)
        if v is None:
            return tuple(default)
        wanted = "3 positive numbers (nm per voxel in x, y, z), e.g. [4, 4, 40]"
        if not isinstance(v, list) or len(v) != 3:
            self.fail(key, wanted, v, got=f"{_kind(v)} of {len(v)}" if isinstance(v, list) else None)
        out = []
        for x in v:
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                self.fail(key, wanted, x)
            try:
                f = float(x)
            except OverflowError:
                self.fail(key, wanted, got="a number too large")
            if not math.isfinite(f) or f <= 0:
                self.fail(key, wanted, got=repr(x))
            out.append(f)
        return tuple(out)

    def version_number(self, key: str) -> int:
        v = self.obj.get(key)
        if isinstance(v, str) and v.strip().isascii() and v.strip().isdigit() \
                and len(v.strip()) < 19:
            v = int(v.strip())
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            self.fail(key, "a version number (0 or more)", v,
                      got=repr(v) if isinstance(v, (int, float, str)) else None)
        return v
