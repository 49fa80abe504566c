"""Recent queries per table (issue 16): the last queries run on a table are kept in
QSettings as JSON (never a token), listed in the builder's Recent menu, and picking one
puts its columns, filters, limit and position units back, ready to run."""
import json

from PySide6.QtCore import Qt

from models.filters import Op
from ui.common.recent_queries import MAX_RECENT, RecentQueries
from ui.tables.query_builder_panel import QueryBuilderPanel

DS = "pinky100_sample"


def _panel(qtbot, sample_source, settings, table="synapses"):
    p = QueryBuilderPanel()
    qtbot.addWidget(p)
    p.set_recent_store(RecentQueries(settings))
    p.set_context(None, DS, 185)
    p.set_table(sample_source.table_info(DS, table))
    return p


def _run(qtbot, p):
    with qtbot.waitSignal(p.runRequested, timeout=2000) as blocker:
        p.run_button.click()
    return blocker.args[0]


def test_a_run_query_is_listed_and_restored(qtbot, sample_source, ini_settings):
    p = _panel(qtbot, sample_source, ini_settings)
    assert not p.recent_button.isEnabled()
    p.add_filter("size").set_values("size", Op.GE, "300")
    p.add_filter("pre_pt_root_id").set_values("pre_pt_root_id", Op.IN, "648518346349539437, 648518346349537978")
    p.all_columns.setChecked(False)
    for i in range(p.columns_list.count()):
        item = p.columns_list.item(i)
        if item.data(Qt.ItemDataRole.UserRole) not in ("id", "size", "pre_pt_root_id"):
            item.setCheckState(Qt.CheckState.Unchecked)
    p.limit_spin.setValue(250)
    p.resolution_combo.setCurrentIndex(1)  # nm
    first = _run(qtbot, p)
    assert p.recent_button.isEnabled() and p.recent_button.text() == "Recent (1)"

    # stored as JSON under the datastack and table, with no token or server in it
    raw = ini_settings.value(f"recent_queries/{DS}/synapses", "", str)
    stored = json.loads(raw)
    assert stored[0]["limit"] == 250 and stored[0]["positions"] == 1
    assert "token" not in raw.lower()

    # another query, then the builder is emptied
    for r in list(p.rows):
        p._remove_row(r)
    p.all_columns.setChecked(True)
    p.limit_spin.setValue(0)
    p.resolution_combo.setCurrentIndex(0)
    _run(qtbot, p)
    assert len(p.recent_entries()) == 2

    # the menu lists them, newest first; picking the older one restores it
    p._fill_recent_menu()
    actions = p.recent_menu.actions()
    assert len(actions) == 2 and "size >= 300" in actions[1].text()
    assert "no filters" in actions[0].text()
    with qtbot.waitSignal(p.recentRestored, timeout=2000):
        actions[1].trigger()
    assert p.limit_spin.value() == 250 and p.resolution_combo.currentIndex() == 1
    assert not p.all_columns.isChecked()
    again = _run(qtbot, p)
    assert again.filters == first.filters and again.columns == first.columns
    assert again.limit == 250 and again.desired_resolution == (1.0, 1.0, 1.0)


def test_recents_are_per_table_and_kept_to_ten(qtbot, sample_source, ini_settings):
    p = _panel(qtbot, sample_source, ini_settings)
    for n in range(MAX_RECENT + 3):
        p.limit_spin.setValue(100 + n)
        _run(qtbot, p)
    entries = p.recent_entries()
    assert len(entries) == MAX_RECENT and entries[0]["limit"] == 100 + MAX_RECENT + 2
    p.set_table(sample_source.table_info(DS, "complete_somas"))
    assert p.recent_entries() == [] and not p.recent_button.isEnabled()
    # a new builder on the same settings (the next start) finds them again
    q = _panel(qtbot, sample_source, ini_settings)
    assert len(q.recent_entries()) == MAX_RECENT


def test_a_damaged_entry_gives_no_recents(qtbot, sample_source, ini_settings):
    ini_settings.setValue(f"recent_queries/{DS}/synapses", "{not json")
    p = _panel(qtbot, sample_source, ini_settings)
    assert p.recent_entries() == [] and not p.recent_button.isEnabled()
