"""The CAVE connection dialog: token state, unsafe keyring warning, bad addresses."""
from services.cave.token_store import TokenStore
from tests.unit.cave.test_token_store import MemoryKeyring, PlaintextKeyring
from ui.cave.cave_connect_dialog import CaveConnectDialog


def _dialog(qtbot, backend):
    made = []
    d = CaveConnectDialog(TokenStore(backend=backend), lambda s, t: made.append((s, t)),
                          ["https://example.org"])
    qtbot.addWidget(d)
    return d, made


def test_plaintext_keyring_is_named_and_token_kept_for_the_session(qtbot):
    d, _ = _dialog(qtbot, PlaintextKeyring())
    assert not d.keyring_label.isHidden()
    assert "session only" in d.keyring_label.text()
    assert "no token" in d.token_label.text()
    assert d.tokens.set_token("https://example.org", "abc123") is False  # not persisted
    d._server_changed("https://example.org")
    assert "token is stored" in d.token_label.text()


def test_secure_keyring_has_no_warning_and_forget_works(qtbot):
    d, _ = _dialog(qtbot, MemoryKeyring())
    assert d.keyring_label.isHidden()
    d.tokens.set_token("https://example.org", "abc123")
    d._server_changed("https://example.org")
    assert d.forget_token_button.isEnabled()
    d.forget_token_button.click()
    assert "no token" in d.token_label.text()


def test_bad_server_address_is_flagged_and_nothing_is_contacted(qtbot):
    d, made = _dialog(qtbot, MemoryKeyring())
    d.server_combo.setEditText("not a server")
    d.fetch_button.click()
    assert "not a server address" in d.status.text()
    assert made == [] and not d.ok_button.isEnabled()
