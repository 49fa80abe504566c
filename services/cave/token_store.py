"""CAVE tokens in the OS keyring, one entry per server address.

A token is a password: it lives in the keyring (macOS Keychain, Windows Credential
Locker, Secret Service...) and nowhere else. When the only backend is a plaintext file
or none at all, the token is kept in memory for this session and the UI says why
(:meth:`TokenStore.insecure_reason`). Nothing here logs, prints or writes a token.
"""
from __future__ import annotations

import threading
from urllib.parse import urlparse

import keyring
import keyring.errors

from models.errors import InvalidInputError

SERVICE_PREFIX = "cavern:"
USERNAME = "cave-token"  # one token per server: the service name carries the server

# Backend kinds reported by TokenStore.backend_kind()
SECURE, PLAINTEXT, FAIL = "secure", "plaintext", "fail"


def normalise_server(server: str) -> str:
    """A CAVE server address as Cavern keys it everywhere (token entry, connection):
    scheme added if missing (https), no trailing slash; anything else is refused."""
    s = (server or "").strip().rstrip("/")
    if not s:
        raise InvalidInputError("Type the server address.", field="server")
    if "://" not in s:
        s = "https://" + s
    parsed = urlparse(s)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in s):
        raise InvalidInputError(f"'{server}' is not a server address.", field="server",
                                hint="For example https://global.daf-apis.com.")
    return s


def service_name(server: str) -> str:
    return SERVICE_PREFIX + normalise_server(server)


def create_token_url(server: str) -> str:
    """Page where a signed-in user makes a new token."""
    return normalise_server(server) + "/auth/api/v1/create_token"


def list_tokens_url(server: str) -> str:
    """Page listing the user's existing tokens."""
    return normalise_server(server) + "/auth/api/v1/user/token"


def check_token(token: str) -> str:
    """A token goes into an HTTP header: refuse anything that could break it."""
    t = (token or "").strip()
    if not t:
        raise InvalidInputError("The token is empty.", field="token",
                                hint="Paste the token shown on the server's token page.")
    if any(c.isspace() for c in t) or not t.isprintable() or len(t) > 4096:
        raise InvalidInputError("That does not look like a CAVE token (it has spaces or "
                                "control characters).", field="token",
                                hint="Copy only the token itself, e.g. a 32-character hex string.")
    return t


def classify_backend(backend) -> str:
    """SECURE, PLAINTEXT or FAIL for a keyring backend (chainers judged by their parts)."""
    parts = getattr(backend, "backends", None)
    if parts is not None:  # keyring's ChainerBackend: as good as its best part
        kinds = [classify_backend(b) for b in parts]
        for k in (SECURE, PLAINTEXT):
            if k in kinds:
                return k
        return FAIL
    cls = type(backend)
    mod, name = cls.__module__.lower(), cls.__name__.lower()
    if mod.startswith("keyring.backends.fail") or mod.startswith("keyring.backends.null"):
        return FAIL
    if "plaintext" in name or (mod.startswith("keyrings.alt.file") and "encrypted" not in name):
        return PLAINTEXT
    return SECURE


class TokenStore:
    """get/set/forget a server's token; memory-only when the keyring is not safe.

    ``backend`` is for tests (an in-memory backend); by default the process keyring.
    """

    def __init__(self, backend=None):
        self._backend = backend
        self._session: dict[str, str] = {}  # server -> token, this process only
        self._lock = threading.Lock()
        self._last_error = ""

    # ---- backend ----------------------------------------------------------------
    def backend(self):
        return self._backend if self._backend is not None else keyring.get_keyring()

    def backend_name(self) -> str:
        b = self.backend()
        return f"{type(b).__module__}.{type(b).__name__}"

    def backend_kind(self) -> str:
        return classify_backend(self.backend())

    @property
    def persistent(self) -> bool:
        """True when set_token keeps the token across sessions in a safe keyring."""
        return self.backend_kind() == SECURE and not self._last_error

    def insecure_reason(self) -> str:
        """Empty when tokens are safe; otherwise what the user should know."""
        kind = self.backend_kind()
        if kind == PLAINTEXT:
            return ("The system keyring here is a plaintext file, so Cavern keeps your token "
                    "in memory for this session only. Install a secure keyring to remember it.")
        if kind == FAIL:
            return ("No system keyring is available, so Cavern keeps your token in memory "
                    "for this session only.")
        if self._last_error:
            return (f"The system keyring refused the token ({self._last_error}); it is kept "
                    "in memory for this session only.")
        return ""

    # ---- tokens -----------------------------------------------------------------
    def get_token(self, server: str) -> str | None:
        key = normalise_server(server)
        with self._lock:
            if key in self._session:
                return self._session[key]
        if self.backend_kind() != SECURE:
            return None
        try:
            return self.backend().get_password(service_name(key), USERNAME) or None
        except keyring.errors.KeyringError:
            return None  # a locked keyring behaves as "no token yet"

    def set_token(self, server: str, token: str) -> bool:
        """Store the token; True if it went to the keyring, False if kept for this session."""
        key, token = normalise_server(server), check_token(token)
        with self._lock:
            self._session.pop(key, None)
        if self.backend_kind() == SECURE:
            try:
                self.backend().set_password(service_name(key), USERNAME, token)
                self._last_error = ""
                return True
            except keyring.errors.KeyringError as exc:
                # Say which kind of failure, never echo anything that could hold the token.
                self._last_error = type(exc).__name__
        with self._lock:
            self._session[key] = token
        return False

    def forget_token(self, server: str) -> None:
        key = normalise_server(server)
        with self._lock:
            self._session.pop(key, None)
        if self.backend_kind() != SECURE:
            return
        try:
            self.backend().delete_password(service_name(key), USERNAME)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored: already forgotten
        except keyring.errors.KeyringError:
            pass

    def has_token(self, server: str) -> bool:
        return bool(self.get_token(server))
