"""Cell-type labels as segment properties (no Qt): one label per root id, conflicts shown as
such, tags per type; the loopback server answers only its token's newest document."""
import json
import urllib.error
import urllib.request

import pandas as pd
import pytest

from models.errors import NotFoundError
from services.links.segment_labels import (cell_type_labels, label_table, labels_frame,
                                           labels_of, segment_properties)
from services.links.segment_property_server import SegmentPropertyServer
from services.workspace import Workspace


def test_one_label_per_root_id_and_conflicts_are_shown():
    rows = pd.DataFrame({"pt_root_id": [5, 3, 5, 3, 0, 9, 7],
                         "cell_type": ["23P", "BC", "4P", "BC", "MC", None, " "],
                         "classification_system": ["exc", "inh", "exc", "inh", "inh", "x", "y"]})
    labels = labels_frame(rows, "classification_system")
    assert labels.pt_root_id.tolist() == [3, 5]  # no root 0, no empty or missing type
    assert labels.label.tolist() == ["BC", "23P / 4P"]
    doc, notes = segment_properties(labels, "my_types")
    assert labels_of(doc) == {3: "BC", 5: "23P / 4P"} and notes == []
    props = {p["id"]: p for p in doc["inline"]["properties"]}
    tags = props["tags"]
    named = [{tags["tags"][k] for k in v} for v in tags["values"]]
    assert named == [{"BC", "inh"}, {"23P", "4P", "exc"}]
    assert props["description"]["values"] == ["my_types: BC", "my_types: 23P / 4P"]


def test_labels_of_the_sample_table(sample_source):
    ws = Workspace(sample_source, "pinky100_sample", None)
    got = cell_type_labels(ws)
    truth = sample_source.query(ws.spec(label_table(ws), columns=("pt_root_id", "cell_type"))
                                ).frame
    assert got.table == "soma_valence" and got.n_segments == truth.pt_root_id.nunique()
    labels = labels_of(got.document)
    some = truth.drop_duplicates("pt_root_id").head(20)
    assert all(labels[int(r)] == t for r, t in zip(some.pt_root_id, some.cell_type))
    with pytest.raises(NotFoundError):
        cell_type_labels(ws, table="synapses")


def test_server_answers_the_newest_document_on_loopback_only():
    server = SegmentPropertyServer()
    try:
        first = server.publish({"@type": "neuroglancer_segment_properties", "n": 1})
        second = server.publish({"@type": "neuroglancer_segment_properties", "n": 2})
        assert first != second and second.startswith("precomputed://http://127.0.0.1:")
        http = second[len("precomputed://"):]
        with urllib.request.urlopen(http + "/info", timeout=5) as answer:
            assert json.loads(answer.read())["n"] == 2
        for bad in (first[len("precomputed://"):] + "/info",  # an older one: gone
                    http.replace(server.base_url.rsplit("/", 1)[1], "0" * 32) + "/info"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(bad, timeout=5)
            assert err.value.code == 404
        assert server.served == 1
    finally:
        server.stop()
    assert not server.running


def test_links_carry_the_servers_labels_or_say_they_are_live_only(sample_source, monkeypatch):
    import neuroglancer
    from services.links import neuroglancer_links as ngl
    from services.links.segment_labels import label_link
    ws = Workspace(sample_source, "pinky100_sample", None)
    link = ngl.cells_link(ws.info, [648518346349540057])
    local = label_link(ws, link)
    assert local.url == link.url and any("only in Cavern's live viewer" in n and
                                         "local data" in n for n in local.notes)
    served = "precomputed://middleauth+https://cave.example/materialize/segprops"
    asked = []
    monkeypatch.setattr(type(sample_source), "segment_property_source",
                        lambda self, d, t, v=None: asked.append((d, t)) or served)
    labelled = label_link(ws, link)
    assert asked == [("pinky100_sample", "soma_valence")]
    state = neuroglancer.parse_url(labelled.url)
    seg = state.layers[ngl.SEG_LAYER]
    assert [s.url for s in seg.source][-1] == served
    assert [int(s) for s in seg.segments] == [648518346349540057]
    assert any("labelled with their cell types from soma_valence" in n for n in labelled.notes)
