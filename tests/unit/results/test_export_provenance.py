"""Every export says where its rows came from (issue 16): Parquet metadata, or a sidecar
JSON beside CSV/TSV; the rows themselves are unchanged."""
import json
from datetime import datetime, timezone

import pandas as pd
import pyarrow.parquet as pq

from models.filters import Filter, Op
from models.query_spec import QueryResult, QuerySpec
from services.results.export import export_frame
from services.results.provenance import KEY, SIDECAR_SUFFIX, result_provenance

FRAME = pd.DataFrame({"id": [1, 2], "pt_root_id": [864691135101289504, 864691136362774498]})


def _result(version=185, **kw):
    spec = QuerySpec("soma_valence", "pinky100_sample", version,
                     filters=(Filter("cell_type", Op.EQ, "e"),), desired_resolution=(1, 1, 1),
                     **kw)
    return QueryResult(spec, FRAME, notes=["a note"])


def test_parquet_carries_it_in_its_metadata(tmp_path):
    prov = result_provenance(_result(), "https://example.org", app_version="0.1.0")
    out = export_frame(FRAME, tmp_path / "r.parquet", provenance=prov)
    meta = json.loads(pq.read_schema(out).metadata[KEY])
    assert meta["datastack"] == "pinky100_sample" and meta["materialization_version"] == 185
    assert meta["filters"] == ["cell_type = e"] and meta["positions"] == "nm"
    assert meta["server"] == "https://example.org" and meta["rows"] == 2
    assert meta["notes"] == ["a note"] and meta["exported_by"] == "Cavern 0.1.0"
    assert pd.read_parquet(out)["pt_root_id"].tolist() == FRAME["pt_root_id"].tolist()
    assert not (tmp_path / ("r.parquet" + SIDECAR_SUFFIX)).exists()


def test_csv_gets_a_sidecar_and_unchanged_rows(tmp_path):
    when = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    prov = result_provenance(_result(timestamp=when, version=None))
    out = export_frame(FRAME, tmp_path / "r.csv", provenance=prov)
    side = json.loads((tmp_path / ("r.csv" + SIDECAR_SUFFIX)).read_text())
    assert side["live_timestamp"].startswith("2024-05-01T12:00")
    assert side["materialization_version"] is None and side["server"] == "local"
    assert out.read_text().splitlines()[0] == "id,pt_root_id"  # no comment lines in the CSV


def test_no_provenance_no_sidecar(tmp_path):
    export_frame(FRAME, tmp_path / "r.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
