"""Joins through the loopback CAVE server (real caveclient) equal the local ones."""
import pandas as pd

from services.cave.cave_source import CaveSource
from services.tables.joins import JoinSpec, run_join
from services.workspace import Workspace
from tests.e2e.conftest import GOOD_TOKEN
from tests.unit.tables.test_joins import PROOFREAD_23P


def _same(cave, local, key):
    a = cave.frame.sort_values(key).reset_index(drop=True)
    b = local.frame.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b)
    assert a[key].tolist() == b[key].tolist()


def test_join_on_cave_equals_local(cave_server, sample_source):
    src = CaveSource(cave_server.url, GOOD_TOKEN)
    try:
        for ds, v, spec, key in (
                ("pinky100_sample", 185, JoinSpec("soma_valence", "complete_somas",
                                                  drop_duplicates=True), "pt_root_id"),
                ("minnie65_sample", 0, PROOFREAD_23P, "nucleus_id")):
            cave, rep = run_join(Workspace(src, ds, v), spec)
            local, _ = run_join(Workspace(sample_source, ds, v), spec)
            _same(cave, local, key)
            assert cave.source == "cave" and len(cave.frame) > 0
    finally:
        src.close()
