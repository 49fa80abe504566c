from ui.tables.table_browser_panel import TableBrowserPanel


def test_lists_filters_and_describes_tables(qtbot, sample_source):
    p = TableBrowserPanel()
    qtbot.addWidget(p)
    tables = sample_source.tables("pinky100_sample")
    with qtbot.waitSignal(p.tableSelected) as blocker:
        p.set_tables(tables, select="synapses")
    assert blocker.args[0].name == "synapses"
    assert p.tree.topLevelItemCount() == len(tables)
    html = p.details.toPlainText()
    assert "1,961" in html and "synapse" in html and "ctr_pt_position" in html
    p.filter_edit.setText("valence")
    visible = [p.tree.topLevelItem(i).text(0) for i in range(p.tree.topLevelItemCount())
               if not p.tree.topLevelItem(i).isHidden()]
    assert visible == ["soma_valence"]
    p.filter_edit.setText("excitatory")  # matches the description, not the name
    visible = [p.tree.topLevelItem(i).text(0) for i in range(p.tree.topLevelItemCount())
               if not p.tree.topLevelItem(i).isHidden()]
    assert visible == ["soma_valence"]


def test_count_button_for_unknown_row_counts(qtbot, sample_source):
    from dataclasses import replace
    p = TableBrowserPanel()
    qtbot.addWidget(p)
    t = replace(sample_source.table_info("pinky100_sample", "synapses"), row_count=None)
    p.set_tables([t])
    assert p.count_button.isVisibleTo(p)
    with qtbot.waitSignal(p.countRequested) as blocker:
        p.count_button.click()
    assert blocker.args[0] == "synapses"
    p.update_row_count("synapses", 1961)
    assert p.tree.topLevelItem(0).text(1) == "1,961"
    assert not p.count_button.isVisibleTo(p)


def test_count_button_is_offered_again_after_a_failed_count(qtbot, sample_source):
    from dataclasses import replace
    p = TableBrowserPanel()
    qtbot.addWidget(p)
    p.set_tables([replace(sample_source.table_info("pinky100_sample", "synapses"), row_count=None)])
    p.count_button.click()
    assert not p.count_button.isEnabled()
    p.reset_count_button()
    assert p.count_button.isEnabled() and p.count_button.text() == "Count rows"
