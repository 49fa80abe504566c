"""The query builder edits a QuerySpec and flags bad input at the field."""
from models.filters import Op
from ui.tables.query_builder_panel import QueryBuilderPanel


def _panel(qtbot, sample_source, table="synapses"):
    p = QueryBuilderPanel()
    qtbot.addWidget(p)
    p.set_table(sample_source.table_info("pinky100_sample", table))
    return p


def test_filters_and_columns_make_a_spec(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    p.add_filter("size").set_values("size", Op.GE, "300")
    p.add_filter("pre_pt_root_id").set_values("pre_pt_root_id", Op.IN, "648518346349539437\n648518346349537978")
    p.add_filter("ctr_pt_position").set_values("ctr_pt_position", Op.WITHIN, "0,0,0,400000,400000,80000", "nm")
    p.all_columns.setChecked(False)
    for i in range(p.columns_list.count()):
        item = p.columns_list.item(i)
        if item.data(256) not in ("id", "size"):
            item.setCheckState(p.columns_list.item(0).checkState().Unchecked)
    p.limit_spin.setValue(50)
    spec = p.spec("pinky100_sample", 185)
    assert spec.columns == ("id", "size") and spec.limit == 50
    ops = {f.column: f for f in spec.filters}
    assert ops["size"].value == 300
    assert ops["pre_pt_root_id"].value == (648518346349539437, 648518346349537978)
    assert ops["ctr_pt_position"].units == "nm"
    with qtbot.waitSignal(p.runRequested) as blocker:
        p.run_button.click()
    assert blocker.args[0].table == "synapses"


def test_bad_value_is_flagged_and_blocks_run(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    row = p.add_filter("pre_pt_root_id")
    row.set_values("pre_pt_root_id", Op.EQ, "not-an-id")
    assert "not a whole number" in row.error_label.text()
    assert not row.error_label.isHidden()
    assert not p.run_button.isEnabled()
    row.value_edit.setText("648518346349539437")
    assert row.error_label.isHidden() and p.run_button.isEnabled()
    box = p.add_filter("ctr_pt_position")
    box.set_values("ctr_pt_position", Op.WITHIN, "1,2,3,1,5,6")
    assert "empty" in box.error_label.text()
    box.value_edit.setText("1,2,3")
    assert "6 numbers" in box.error_label.text()


def test_empty_value_and_no_columns_give_messages(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    p.add_filter("size")
    with qtbot.waitSignal(p.message) as blocker:
        p.run_button.click()
    assert "has no value" in blocker.args[0]
    p.rows[0].removeRequested.emit(p.rows[0])
    p.all_columns.setChecked(False)
    for i in range(p.columns_list.count()):
        p.columns_list.item(i).setCheckState(p.columns_list.item(i).checkState().Unchecked)
    with qtbot.waitSignal(p.message) as blocker:
        p.run_button.click()
    assert "at least one column" in blocker.args[0]


def test_filters_survive_a_table_switch_when_the_column_exists(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    p.add_filter("pre_pt_root_id").set_values("pre_pt_root_id", Op.EQ, "5")
    p.add_filter("size").set_values("size", Op.GT, "5")
    p.set_table(sample_source.table_info("pinky100_sample", "synapse_pairs_micronsbinder"))
    assert [r.column_combo.currentText() for r in p.rows] == ["pre_pt_root_id"]
    assert p.rows[0].value_edit.text() == "5"


def test_ops_follow_the_column_kind(qtbot, sample_source):
    p = _panel(qtbot, sample_source, "soma_valence")
    row = p.add_filter("cell_type")
    ops = [row.op_combo.itemData(i) for i in range(row.op_combo.count())]
    assert Op.REGEX in ops and Op.GT not in ops
    row.column_combo.setCurrentText("pt_position")
    assert [row.op_combo.itemData(i) for i in range(row.op_combo.count())] == [Op.WITHIN]
    assert not row.units_combo.isHidden()
    row.column_combo.setCurrentText("cell_type")
    assert row.units_combo.isHidden()


def test_positions_in_nm_sets_desired_resolution(qtbot, sample_source):
    p = _panel(qtbot, sample_source)
    assert p.spec().desired_resolution is None
    p.resolution_combo.setCurrentIndex(1)
    assert p.spec().desired_resolution == (1.0, 1.0, 1.0)
    p.set_table(sample_source.table_info("pinky100_sample", "complete_somas"))
    assert p.spec().desired_resolution is None  # no position column: nothing to convert


# ---- issue 16 item 10: distinct-value completion of filter values ----------------------
import threading  # noqa: E402

from services.source import DataSource  # noqa: E402


class GatedSource:
    """Wraps the sample source; distinct_values waits for ``gate`` and counts calls."""

    def __init__(self, inner):
        self.inner, self.gate, self.calls = inner, threading.Event(), 0

    def distinct_values(self, *args, **kwargs):
        self.calls += 1
        assert self.gate.wait(10)
        return self.inner.distinct_values(*args, **kwargs)


class NoValuesSource(DataSource):  # the base class: distinct_values answers None
    datastacks = datastack_info = versions = tables = row_count = query = None


def test_string_filter_completes_from_distinct_values_in_a_worker(qtbot, sample_source):
    p = _panel(qtbot, sample_source, "soma_valence")
    src = GatedSource(sample_source)
    p.set_context(src, "pinky100_sample", None)
    row = p.add_filter("cell_type")  # returns while the source is still blocked
    assert row.value_edit.completer() is None and src.calls <= 1
    with qtbot.waitSignal(row.completionReady, timeout=5000):
        src.gate.set()
    completer = row.value_edit.completer()
    assert completer.values() == ["e", "g", "i", "uncertain"]
    assert completer.splitPath("unc") == ["unc"]
    row.op_combo.setCurrentIndex(row.op_combo.findData(Op.IN))  # a list: complete its last item
    assert completer.splitPath("e, unc") == ["unc"]
    row.value_edit.setText("e, unc")
    index = completer.model().index(3, 0)
    assert completer.pathFromIndex(index) == "e, uncertain"
    # a second row on the same column: from the cache, at once, no second fetch
    calls = src.calls
    again = p.add_filter("cell_type")
    assert again.value_edit.completer().values() == ["e", "g", "i", "uncertain"]
    assert src.calls == calls
    assert "suggest" in again.value_edit.toolTip()


def test_no_completer_for_numbers_or_a_source_without_values(qtbot, sample_source):
    p = _panel(qtbot, sample_source, "soma_valence")
    p.set_context(NoValuesSource(), "pinky100_sample", None)
    row = p.add_filter("cell_type")
    assert row.value_edit.completer() is None and row.values_runner.pending == 0
    p.set_context(sample_source, "pinky100_sample", None)
    num = p.add_filter("id")
    assert num.value_edit.completer() is None and num.values_runner.pending == 0
