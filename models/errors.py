"""Typed errors whose message a researcher can act on.

Every service raises a subclass of CavernError; the UI and CLI show ``str(err)``
and never a traceback.
"""
from __future__ import annotations


class CavernError(Exception):
    """Base class: ``message`` says what failed, why, and what to do."""

    def __init__(self, message: str, *, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InvalidInputError(CavernError):
    """Input typed by the user is malformed (bad id, bad filter value...)."""

    def __init__(self, message: str, *, field: str = "", hint: str = ""):
        super().__init__(message, hint=hint)
        self.field = field


class NotFoundError(CavernError):
    """A datastack, version, table, column or cell does not exist."""


class DataSourceError(CavernError):
    """Reading data failed (corrupt file, server fault, malformed response)."""


class AuthError(CavernError):
    """401: the token is missing, wrong or expired."""


class PermissionDeniedError(CavernError):
    """403: no permission, or terms of service not accepted (``tos_url``)."""

    def __init__(self, message: str, *, hint: str = "", tos_url: str = ""):
        super().__init__(message, hint=hint)
        self.tos_url = tos_url


class NetworkError(CavernError):
    """No network, server down, connection dropped or timed out."""


class CancelledError(CavernError):
    """The user cancelled a running request."""

    def __init__(self, message: str = "The request was cancelled."):
        super().__init__(message)


class ExportError(CavernError):
    """Writing an export file failed; the target file is untouched."""


class IncompleteResultError(DataSourceError):
    """The source answered with fewer rows than match (a server's row limit), where a
    partial answer would be a wrong one (counts, matrices, partner tables)."""


class NotSortedError(DataSourceError):
    """A table read as sorted by (pre, post) is not; the caller aggregates another way."""
