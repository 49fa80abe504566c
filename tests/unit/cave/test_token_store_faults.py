"""TokenStore with keyring backends that fail the way real ones do."""
import keyring.backend
import keyring.errors
import pytest

from models.errors import CavernError
from services.cave.token_store import TokenStore, TokenStoreError

TOKEN = "0123456789abcdef0123456789abcdef"
SERVER = "https://a.example.org"


class DBusErrorResponse(Exception):
    """Shaped like jeepney.wrappers.DBusErrorResponse (not a KeyringError)."""


class FlakyKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self, get_exc=None, set_exc=None, delete_exc=None):
        super().__init__()
        self.data = {}
        self.get_exc, self.set_exc, self.delete_exc = get_exc, set_exc, delete_exc

    def get_password(self, service, username):
        if self.get_exc:
            raise self.get_exc
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        if self.set_exc:
            raise self.set_exc
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        if self.delete_exc:
            raise self.delete_exc
        if (service, username) not in self.data:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.data[(service, username)]


ERRORS = [RuntimeError("no session bus"), OSError(5, "I/O error"),
          DBusErrorResponse("org.freedesktop.DBus.Error.ServiceUnknown"),
          UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
          keyring.errors.KeyringLocked("locked")]


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_failing_get_is_no_token_not_a_crash(exc):
    store = TokenStore(backend=FlakyKeyring(get_exc=exc))
    assert store.get_token(SERVER) is None
    assert store.has_token(SERVER) is False
    assert type(exc).__name__ in store.insecure_reason()


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_failing_set_keeps_the_token_for_the_session(exc):
    store = TokenStore(backend=FlakyKeyring(set_exc=exc))
    assert store.set_token(SERVER, TOKEN) is False
    assert store.get_token(SERVER) == TOKEN
    reason = store.insecure_reason()
    assert type(exc).__name__ in reason and TOKEN not in reason


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_failing_get_after_a_good_set_keeps_the_session_token(exc):
    kr = FlakyKeyring()
    store = TokenStore(backend=kr)
    assert store.set_token(SERVER, TOKEN) is True
    kr.get_exc = exc
    assert store.get_token(SERVER) == TOKEN
    assert store.has_token(SERVER)


@pytest.mark.parametrize("exc", ERRORS + [keyring.errors.PasswordDeleteError("denied")],
                         ids=lambda e: type(e).__name__)
def test_failed_delete_says_the_token_is_still_stored(exc):
    kr = FlakyKeyring()
    store = TokenStore(backend=kr)
    store.set_token(SERVER, TOKEN)
    kr.delete_exc = exc
    with pytest.raises(TokenStoreError, match="still stored") as err:
        store.forget_token(SERVER)
    assert isinstance(err.value, CavernError) and TOKEN not in str(err.value)
    assert store.get_token(SERVER) == TOKEN  # reported honestly: it is still there


def test_failed_delete_and_failed_check_is_reported():
    kr = FlakyKeyring()
    store = TokenStore(backend=kr)
    store.set_token(SERVER, TOKEN)
    kr.delete_exc = RuntimeError("bus")
    kr.get_exc = OSError("gone")
    with pytest.raises(TokenStoreError, match="cannot tell"):
        store.forget_token(SERVER)


def test_forget_with_nothing_stored_is_fine_and_forget_really_forgets():
    kr = FlakyKeyring()
    store = TokenStore(backend=kr)
    store.forget_token(SERVER)
    store.set_token(SERVER, TOKEN)
    store.forget_token(SERVER)
    assert kr.data == {} and store.get_token(SERVER) is None


def test_a_non_text_answer_is_no_token():
    kr = FlakyKeyring()
    kr.data[("cavern:" + SERVER, "cave-token")] = b"bytes"
    assert TokenStore(backend=kr).get_token(SERVER) is None
