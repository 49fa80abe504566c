"""TokenStore against an in-memory keyring backend (the user's keyring is never touched)."""
import keyring
import keyring.backend
import keyring.errors
import pytest

from models.errors import InvalidInputError
from services.cave.token_store import (FAIL, PLAINTEXT, SECURE, TokenStore, classify_backend,
                                  create_token_url, list_tokens_url, service_name)

TOKEN = "0123456789abcdef0123456789abcdef"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.data = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.data:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.data[(service, username)]


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt's plaintext file backend."""


class RefusingKeyring(MemoryKeyring):
    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError("locked")


@pytest.fixture
def memory_keyring():
    before = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(before)


def test_set_get_forget_one_entry_per_server(memory_keyring):
    store = TokenStore()
    assert store.backend_kind() == SECURE and store.insecure_reason() == ""
    assert store.get_token("https://a.example.org") is None
    assert store.set_token("https://a.example.org/", TOKEN) is True
    store.set_token("https://b.example.org", "ffff" * 8)
    assert store.get_token("https://a.example.org") == TOKEN
    assert store.get_token("https://b.example.org") == "ffff" * 8
    assert set(memory_keyring.data) == {("cavern:https://a.example.org", "cave-token"),
                                        ("cavern:https://b.example.org", "cave-token")}
    store.forget_token("https://a.example.org")
    assert store.get_token("https://a.example.org") is None
    assert store.get_token("https://b.example.org") == "ffff" * 8
    store.forget_token("https://a.example.org")  # forgetting twice is fine


def test_token_survives_a_new_store(memory_keyring):
    TokenStore().set_token("https://a.example.org", TOKEN)
    assert TokenStore().get_token("https://a.example.org") == TOKEN


def test_plaintext_backend_keeps_token_in_memory_only():
    kr = PlaintextKeyring()
    store = TokenStore(backend=kr)
    assert store.backend_kind() == PLAINTEXT
    assert "plaintext" in store.insecure_reason()
    assert store.set_token("https://a.example.org", TOKEN) is False
    assert store.get_token("https://a.example.org") == TOKEN
    assert kr.data == {}  # never written to the file backend
    assert TokenStore(backend=kr).get_token("https://a.example.org") is None
    store.forget_token("https://a.example.org")
    assert store.get_token("https://a.example.org") is None


def test_fail_backend_is_reported():
    from keyring.backends.fail import Keyring as FailKeyring
    store = TokenStore(backend=FailKeyring())
    assert store.backend_kind() == FAIL
    assert "No system keyring" in store.insecure_reason()
    assert store.set_token("https://a.example.org", TOKEN) is False
    assert store.get_token("https://a.example.org") == TOKEN


def test_keyring_refusing_falls_back_to_session():
    store = TokenStore(backend=RefusingKeyring())
    assert store.set_token("https://a.example.org", TOKEN) is False
    assert store.get_token("https://a.example.org") == TOKEN
    reason = store.insecure_reason()
    assert "PasswordSetError" in reason and TOKEN not in reason


def test_chainer_is_judged_by_its_best_backend():
    class Chainer:
        backends = [PlaintextKeyring(), MemoryKeyring()]
    assert classify_backend(Chainer()) == SECURE
    Chainer.backends = [PlaintextKeyring()]
    assert classify_backend(Chainer()) == PLAINTEXT
    Chainer.backends = []
    assert classify_backend(Chainer()) == FAIL


@pytest.mark.parametrize("bad", ["", "   ", "abc def", "abc\ndef", "a\x00b"])
def test_bad_tokens_are_refused(bad):
    store = TokenStore(backend=MemoryKeyring())
    with pytest.raises(InvalidInputError):
        store.set_token("https://a.example.org", bad)


def test_pasted_token_is_trimmed():
    kr = MemoryKeyring()
    TokenStore(backend=kr).set_token("https://a.example.org", f"  {TOKEN}\n")
    assert kr.data[("cavern:https://a.example.org", "cave-token")] == TOKEN


def test_names_and_token_pages():
    assert service_name("https://x.org/") == "cavern:https://x.org"
    assert create_token_url("https://x.org/") == "https://x.org/auth/api/v1/create_token"
    assert list_tokens_url("https://x.org") == "https://x.org/auth/api/v1/user/token"
    with pytest.raises(InvalidInputError):
        service_name("  ")


@pytest.mark.parametrize("bad", ["http://[::1", "https://host:99999", "https://host:port"])
def test_unparsable_addresses_are_typed_errors(bad):
    from services.cave.token_store import normalise_server
    with pytest.raises(InvalidInputError):
        normalise_server(bad)
