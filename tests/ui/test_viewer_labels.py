"""Cell-type labels on the live viewer's segments: the viewer's segmentation layer gets a
loopback segment-properties source whose document is a valid
neuroglancer_segment_properties whose labels are the cell-type table's types (computed here
from the sample's Parquet file with pandas, not through Cavern)."""
import json
import threading
import urllib.error
import urllib.request

import pandas as pd
import pytest

from services.links.live_viewer import Selection
from services.local.local_source import sample_folders
from services.workspace import Workspace
from ui.neuroglancer.viewer_controller import NeuroglancerController


@pytest.fixture
def controller(qtbot, sample_source, monkeypatch):
    monkeypatch.setattr("ui.neuroglancer.viewer_controller.QDesktopServices.openUrl",
                        lambda url: True)
    before = {t.ident for t in threading.enumerate()}
    ctl = NeuroglancerController()
    yield ctl
    ctl.stop()
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, f"threads left after stop: {left}"


def _expected_labels(datastack: str, folder: str, table: str) -> dict[int, str]:
    root = next(p for p in sample_folders() if p.name == datastack)
    df = pd.read_parquet(root / folder / f"{table}.parquet", columns=["pt_root_id", "cell_type"])
    df = df[(df.pt_root_id.astype("int64") != 0) & df.cell_type.notna()
            & (df.cell_type.astype(str).str.strip() != "")]
    return {int(k): " / ".join(sorted(set(v.astype(str).str.strip())))
            for k, v in df.groupby("pt_root_id").cell_type}


def _check_document(doc: dict) -> dict[int, str]:
    """The spec's rules (neuroglancer precomputed segment_properties.md), and the labels."""
    assert doc["@type"] == "neuroglancer_segment_properties"
    ids = doc["inline"]["ids"]
    assert all(isinstance(i, str) and i.isdigit() for i in ids) and len(set(ids)) == len(ids)
    props = doc["inline"]["properties"]
    assert len({p["id"] for p in props}) == len(props)
    kinds = [p["type"] for p in props]
    assert kinds.count("label") == 1 and kinds.count("tags") <= 1
    for p in props:
        if p["type"] == "tags":
            assert all(not t.startswith("#") and " " not in t for t in p["tags"])
            assert len(p["values"]) == len(ids)
            assert all(0 <= k < len(p["tags"]) for v in p["values"] for k in v)
        else:
            assert len(p["values"]) == len(ids)
    label = next(p for p in props if p["type"] == "label")
    return dict(zip((int(i) for i in ids), label["values"]))


@pytest.mark.parametrize("datastack, folder, table", [
    ("pinky100_sample", "v185", "soma_valence"),
    ("minnie65_sample", "v0", "allen_v1_column_types_slanted_ref"),
])
def test_viewer_serves_cell_type_labels(qtbot, controller, sample_source, datastack, folder,
                                        table):
    ctl = controller
    ctl.set_context(Workspace(sample_source, datastack, None))
    with qtbot.waitSignal(ctl.labelsShown, timeout=30000) as shown:
        url = ctl.open_viewer()
    assert url and shown.args[0].table == table
    seg = ctl.live.viewer.state.layers["segmentation"]
    served = [s.url for s in seg.source if s.url.startswith("precomputed://http://127.0.0.1:")]
    assert served == [ctl.live.labels_url]
    info = served[0][len("precomputed://"):] + "/info"
    with urllib.request.urlopen(info, timeout=10) as answer:
        assert answer.headers["Access-Control-Allow-Origin"] == "*"  # the viewer's page
        doc = json.loads(answer.read())  # is on another port
    labels = _check_document(doc)
    assert labels == _expected_labels(datastack, folder, table)

    # a selection pushed afterwards keeps the labels
    some = sorted(labels)[:2]
    with qtbot.waitSignal(ctl.selectionShown, timeout=20000):
        ctl.show_selection(Selection(tuple(some)))
    seg = ctl.live.viewer.state.layers["segmentation"]
    assert ctl.live.labels_url in [s.url for s in seg.source]
    assert [int(s) for s in seg.segments] == some
    ctl.stop()
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(info, timeout=2)
