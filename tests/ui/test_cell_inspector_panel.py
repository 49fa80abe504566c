"""The cell inspector on the bundled samples: lookups, history, links, errors."""
import pandas as pd
import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.links.neuroglancer_links import decode_state
from services.workspace import Workspace
from ui.cells.cell_inspector_panel import CellInspectorPanel

BASKET = 864691135101289504
PT = 864691136362774498
PINKY = 648518346349539437
PINKY2 = 648518346349537978


def _panel(qtbot, source, datastack="pinky100_sample", version=None):
    p = CellInspectorPanel()
    qtbot.addWidget(p)
    p.set_context(Workspace(source, datastack, version))
    return p


def _inspect(qtbot, p, value):
    with qtbot.waitSignal(p.cellShown, timeout=20000) as blocker:
        if isinstance(value, int):
            p.inspect(value)
        else:
            p.inspect_text(value)
    return blocker.args[0]


def test_basket_cell_facts(qtbot, sample_source):
    p = _panel(qtbot, sample_source, "minnie65_sample", 0)
    insp = _inspect(qtbot, p, BASKET)
    assert insp.record.root_id == BASKET and insp.record.nucleus_id == 294749
    text = p.facts.toPlainText()
    for want in ("294749", "allen_v1_column_types_slanted_ref",
                 "BC", "12,424", "6,514", "10,358",
                 "3,234", "appears in version v0"):
        assert want in text, want
    assert p.partners_button.isEnabled() and p.open_button.isEnabled()
    assert not p.progress.isVisible() and not p.cancel_button.isVisible()


def test_nucleus_id_is_resolved_and_position_depth_shown(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    insp = _inspect(qtbot, p, " 103 ")
    assert insp.record.root_id == PINKY
    assert p.id_edit.text() == str(PINKY)
    assert "nucleus 103" in p.status.text()
    text = p.facts.toPlainText()
    assert "76,712, 47,989, 306" in text and "306,848, 191,956, 12,240" in text
    assert "192.0 µm below pia" in text


@pytest.mark.parametrize("typed,msg", [("abc", "not a whole number"),
                                       ("8.6469e17", "lost its last digits"),
                                       ("", "Type a root id"),
                                       ("999999", "Nucleus 999999 is not")])
def test_bad_ids_show_a_message_not_a_traceback(qtbot, sample_source, typed, msg):
    p = _panel(qtbot, sample_source)
    with qtbot.waitSignal(p.message, timeout=20000) as blocker:
        p.inspect_text(typed)
    assert msg in blocker.args[0]
    assert msg in p.status.text() and "Traceback" not in p.status.text()
    assert p.record is None and not p.partners_button.isEnabled()
    _inspect(qtbot, p, PINKY)  # still usable afterwards


def test_unknown_root_id_is_flagged(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    _inspect(qtbot, p, 123456789012345678)
    assert "not in any table of pinky100_sample" in p.status.text()


def test_no_datastack_gives_a_message(qtbot):
    p = CellInspectorPanel()
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.message) as blocker:
        p.inspect(PINKY)
    assert "No datastack" in blocker.args[0]


def test_back_forward_and_recent(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    assert not p.back_button.isEnabled() and not p.forward_button.isEnabled()
    _inspect(qtbot, p, PINKY)
    _inspect(qtbot, p, PINKY2)
    assert p.back_button.isEnabled() and not p.forward_button.isEnabled()
    assert p.recent_combo.count() == 2 and str(PINKY2) in p.recent_combo.itemText(0)
    with qtbot.waitSignal(p.cellShown, timeout=20000) as blocker:
        p.back_button.click()
    assert blocker.args[0].record.root_id == PINKY
    assert p.forward_button.isEnabled() and not p.back_button.isEnabled()
    with qtbot.waitSignal(p.cellShown, timeout=20000) as blocker:
        p.forward_button.click()
    assert blocker.args[0].record.root_id == PINKY2
    with qtbot.waitSignal(p.cellShown, timeout=20000) as blocker:
        p.recent_combo.activated.emit(1)  # the older entry
    assert blocker.args[0].record.root_id == PINKY
    # a new cell after going back drops the forward entries
    _inspect(qtbot, p, "648518346349538466")
    assert [rid for _, rid in p.history.entries()] == [PINKY, 648518346349538466]


def test_show_partners_emits_the_exact_root_id(qtbot, sample_source):
    p = _panel(qtbot, sample_source, "minnie65_sample", 0)
    _inspect(qtbot, p, BASKET)
    with qtbot.waitSignal(p.showPartners) as blocker:
        p.partners_button.click()
    assert blocker.args[0] == BASKET


def test_copy_link_with_synapses_says_what_was_capped(qtbot, sample_source):
    p = _panel(qtbot, sample_source, "minnie65_sample", 0)
    _inspect(qtbot, p, BASKET)
    p.link_kind_combo.setCurrentIndex(p.link_kind_combo.findData("both"))
    p.site_combo.setCurrentIndex(p.site_combo.findData("neuroglancer"))
    with qtbot.waitSignal(p.linkReady, timeout=30000) as blocker:
        p.copy_link_button.click()
    link = blocker.args[0]
    assert QGuiApplication.clipboard().text() == link.url
    assert link.url.startswith("https://neuroglancer-demo.appspot.com/#!")
    layers = {lay["name"]: lay for lay in decode_state(link.url)["layers"]}
    n_in, n_out = len(layers["inputs"]["annotations"]), len(layers["outputs"]["annotations"])
    assert n_in + n_out == link.n_annotations
    assert link.n_dropped == 12424 + 6514 - link.n_annotations > 0
    assert f"{link.n_dropped:,} left out" in p.link_label.text()
    assert "random sample" in p.link_label.text()


class _UrlCatcher(QObject):
    def __init__(self):
        super().__init__()
        self.urls = []

    @Slot(QUrl)
    def open(self, url):
        self.urls.append(url.toString())


def test_open_in_browser_opens_the_cell_link(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    _inspect(qtbot, p, PINKY)
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("https", catcher, "open")
    try:
        with qtbot.waitSignal(p.linkReady, timeout=30000):
            p.open_button.click()
        qtbot.waitUntil(lambda: bool(catcher.urls))
    finally:
        QDesktopServices.unsetUrlHandler("https")
    state = decode_state(catcher.urls[0])
    assert catcher.urls[0].startswith("https://spelunker.cave-explorer.org/")
    seg = next(lay for lay in state["layers"] if lay["name"] == "segmentation")
    assert [str(s).lstrip("!") for s in seg["segments"]] == [str(PINKY)]
    assert state["position"] == [76712.0, 47989.0, 306.0]


class _ChunkedGraph:
    def is_latest_roots(self, ids):
        return [int(i) != BASKET for i in ids]  # every other id is current

    def suggest_latest_roots(self, rid):
        return PT


class _Client:
    chunkedgraph = _ChunkedGraph()


class _CaveLike:
    """The local sample seen through a CAVE-like source whose chunkedgraph says that
    the basket cell's id was replaced by another one."""
    kind = "cave"
    server = "test server"
    has_state_server = True

    def __init__(self, local):
        self._local = local

    def root_id_status(self, datastack, root_id, version=None, timestamp=None):
        from services.cave.cave_roots import root_id_status
        return root_id_status(_Client(), root_id, self.server, timestamp)

    def __getattr__(self, name):
        return getattr(self._local, name)


def test_stale_root_id_offers_the_current_one(qtbot, sample_source):
    p = _panel(qtbot, _CaveLike(sample_source), "minnie65_sample", 0)
    insp = _inspect(qtbot, p, BASKET)
    assert insp.is_stale and insp.suggested_id == PT
    assert not p.stale_label.isHidden() and str(PT) in p.stale_label.text()
    assert not p.use_current_button.isHidden()
    assert not p.short_button.isHidden()  # short links are offered on CAVE sources
    with qtbot.waitSignal(p.cellShown, timeout=20000) as blocker:
        p.use_current_button.click()
    assert blocker.args[0].record.root_id == PT
    assert p.stale_label.isHidden()


def test_cancel_stops_the_lookup(qtbot, sample_source):
    p = _panel(qtbot, sample_source, "minnie65_sample", 0)
    p.inspect(BASKET)
    assert not p.cancel_button.isHidden()
    p.cancel_button.click()
    assert p.status.text() == "Cancelled." and p.cancel_button.isHidden()
    assert p.record is None


def _rows(source):
    spec = QuerySpec("soma_valence", "pinky100_sample", None,
                     filters=(Filter("cell_type", Op.IN, ("e", "i")),), limit=40)
    return source.query(spec).frame


def test_link_of_selected_rows_by_cell_type(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    frame = _rows(sample_source)
    dlg = p.link_for_rows(frame, group_by="cell_type")
    qtbot.addWidget(dlg)
    assert dlg.group_combo.currentText() == "cell_type"
    assert dlg.position_combo.currentText() == "pt_position"
    with qtbot.waitSignal(dlg.linkReady, timeout=30000) as blocker:
        dlg.copy_button.click()
    link = blocker.args[0]
    assert QGuiApplication.clipboard().text() == link.url
    rows = next(lay for lay in decode_state(link.url)["layers"] if lay["name"] == "rows")
    tag_of = [p.get("tag", p["id"]) for p in rows["annotationProperties"]]  # one layer, tags
    got = pd.Series([tag_of[a["props"].index(max(a["props"]))] for a in rows["annotations"]])
    assert got.value_counts().to_dict() == frame["cell_type"].value_counts().to_dict()
    assert link.n_annotations == len(frame) and "Link ready" in dlg.status.text()


def test_link_of_no_rows_explains(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    dlg = p.link_for_rows(_rows(sample_source).iloc[:0])
    qtbot.addWidget(dlg)
    assert "No rows are selected" in dlg.status.text()
    assert not dlg.copy_button.isEnabled()


def test_back_to_a_cell_of_another_datastack_explains(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    _inspect(qtbot, p, PINKY)
    p.set_context(Workspace(sample_source, "minnie65_sample", 0))
    _inspect(qtbot, p, BASKET)
    p.back_button.click()
    assert "is from pinky100_sample" in p.status.text()
    assert p.id_edit.text() == str(PINKY) and p.record.root_id == BASKET
    assert not p.runner.busy
