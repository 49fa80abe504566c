"""Save version for offline use: a bad existing manifest stops before any write; the copy
opened next to its source never replaces it."""
import json

import pytest

from models.errors import ExportError
from services.local.local_source import DatastackNameTakenError, LocalSource, sample_folders
from services.local.offline_copy import save_version_offline

PINKY = "pinky100_sample"


@pytest.mark.parametrize("text", ["[1]", '{"versions": 3}', '{"versions": [[1]]}',
                                  '{"versions": [{"version": "x"}]}', "{"])
def test_bad_existing_manifest_is_an_export_error(tmp_path, text):
    src = LocalSource(sample_folders())
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(ExportError, match="Cannot save into"):
        save_version_offline(src, PINKY, None, ["synapses"], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_offline_copy_does_not_replace_the_open_sample(tmp_path):
    src = LocalSource(sample_folders())
    n = len(src.tables(PINKY))
    save_version_offline(src, PINKY, None, ["synapses"], tmp_path)
    assert json.loads((tmp_path / "manifest.json").read_text())["name"] == PINKY
    with pytest.raises(DatastackNameTakenError) as err:
        src.add_folder(tmp_path)
    assert len(src.tables(PINKY)) == n
    name = src.add_folder(tmp_path, name=err.value.suggestion)
    assert [t.name for t in src.tables(name)] == ["synapses"] and len(src.tables(PINKY)) == n
