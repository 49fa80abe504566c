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

from models.errors import CavernError, InvalidInputError

SERVICE_PREFIX = "cavern:"
USERNAME = "cave-token"  # one token per server: the service name carries the server

# Backend kinds reported by TokenStore.backend_kind()
SECURE, PLAINTEXT, FAIL = "secure", "plaintext", "fail"


class TokenStoreError(CavernError):
    """The keyring failed in a way the user must know about (e.g. a token not removed)."""


def normalise_server(server: str) -> str:
    """A CAVE server address as Cavern keys it everywhere (token entry, connection):
    scheme added if missing (https), no trailing slash; anything else is refused."""
    s = (server or "").strip().rstrip("/")
    if not s:
        raise InvalidInputError("Type the server address.", field="server")
    if "://" not in s:
        s = "https://" + s
    try:
        parsed = urlparse(s)
        parsed.port  # noqa: B018 - a bad port or bracket raises ValueError here
    except ValueError:
        parsed = None
    if (parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc
            or any(c.isspace() for c in s)):
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
        self._remembered: dict[str, str] = {}  # tokens the keyring accepted in this process
        self._lock = threading.Lock()
        self._last_error = ""
        self._read_error = ""

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
        if self._read_error:
            return (f"The system keyring could not be read ({self._read_error}); Cavern uses "
                    "the token stored in this session, if any.")
        return ""

    # ---- tokens -----------------------------------------------------------------
    # Keyring backends raise far more than KeyringError: RuntimeError, OSError, D-Bus
    # errors (jeepney, secretstorage, dbus), UnicodeDecodeError from a damaged entry...
    # Every backend call therefore catches Exception and reports only the class name,
    # which can never hold the token.
    def get_token(self, server: str) -> str | None:
        key = normalise_server(server)
        with self._lock:
            if key in self._session:
                return self._session[key]
            remembered = self._remembered.get(key)
        if self.backend_kind() != SECURE:
            return None
        try:
            token = self.backend().get_password(service_name(key), USERNAME)
        except Exception as exc:  # noqa: BLE001 - see above
            self._read_error = type(exc).__name__
            # A token stored in this session is still the user's: no new sign-in for a
            # keyring that fails to read back what it just accepted.
            return remembered
        self._read_error = ""
        return token if isinstance(token, str) and token else None

    def set_token(self, server: str, token: str) -> bool:
        """Store the token; True if it went to the keyring, False if kept for this session."""
        key, token = normalise_server(server), check_token(token)
        with self._lock:
            self._session.pop(key, None)
            self._remembered.pop(key, None)
        if self.backend_kind() == SECURE:
            try:
                self.backend().set_password(service_name(key), USERNAME, token)
                self._last_error = ""
                with self._lock:
                    self._remembered[key] = token
                return True
            except Exception as exc:  # noqa: BLE001 - see above
                # Say which kind of failure, never echo anything that could hold the token.
                self._last_error = type(exc).__name__
        with self._lock:
            self._session[key] = token
        return False

    def forget_token(self, server: str) -> None:
        """Remove the server's token; TokenStoreError when the keyring still holds it."""
        key = normalise_server(server)
        with self._lock:
            self._session.pop(key, None)
            self._remembered.pop(key, None)
        if self.backend_kind() != SECURE:
            return
        problem = ""
        try:
            self.backend().delete_password(service_name(key), USERNAME)
            return
        except keyring.errors.PasswordDeleteError as exc:
            problem = type(exc).__name__  # usually "nothing stored": checked below
        except Exception as exc:  # noqa: BLE001 - see above
            problem = type(exc).__name__
        try:
            still = self.backend().get_password(service_name(key), USERNAME)
        except Exception as exc:  # noqa: BLE001 - cannot tell: say so, never claim success
            raise TokenStoreError(
                f"Cavern could not remove the token for {key} from the system keyring "
                f"({problem}) and cannot tell whether it is still stored ({type(exc).__name__}).",
                hint=f"Check the entry '{service_name(key)}' in your keyring app "
                     "(Keychain Access, Credential Manager, Seahorse...).") from None
        if still:
            raise TokenStoreError(
                f"Cavern could not remove the token for {key} from the system keyring "
                f"({problem}); it is still stored there.",
                hint=f"Unlock the keyring and try again, or delete the entry "
                     f"'{service_name(key)}' in your keyring app.")

    def has_token(self, server: str) -> bool:
        return bool(self.get_token(server))
