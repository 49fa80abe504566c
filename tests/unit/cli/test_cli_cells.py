"""`cavern cell` and `cavern link` on the bundled samples."""
import json

import pytest

from services.cli.cli_commands import cli_main
from services.links.neuroglancer_links import decode_state

BASKET = 864691135101289504  # minnie65 V1-column basket cell, nucleus 294749
PT = 864691136362774498  # minnie65 layer-5 PT cell
PINKY = 648518346349539437  # pinky100 pyramidal cell, nucleus 103
PINKY2 = 648518346349537978


def test_cell_json_of_the_basket_cell(capsys):
    rc = cli_main(["cell", str(BASKET), "--datastack", "minnie65_sample", "--version", "0",
                    "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    facts = json.loads(out)
    assert facts["root_id"] == BASKET and str(BASKET) in out  # exact, not a float
    assert facts["nucleus_id"] == 294749
    assert {"table": "allen_v1_column_types_slanted_ref",
            "classification_system": "",  # the source names none
            "cell_type": "BC"} in facts["cell_types"]
    assert facts["n_input_synapses"] == 12424 and facts["n_output_synapses"] == 6514
    assert facts["n_input_partners"] == 10358 and facts["n_output_partners"] == 3234
    assert "depth_um" in facts and facts["version"] == 0


def test_cell_by_nucleus_id_gives_the_same_cell(capsys):
    assert cli_main(["cell", "294749", "--datastack", "minnie65_sample", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["root_id"] == BASKET


def test_cell_text_of_a_pinky_cell(capsys):
    assert cli_main(["cell", str(PINKY)]) == 0
    out = capsys.readouterr().out
    lines = {ln.split("  ")[0].strip(): ln for ln in out.splitlines()}
    assert str(PINKY) in lines["root id"] and "103" in lines["nucleus id"]
    assert "e" == lines["cell type (soma_valence / valence)"].split()[-1]
    assert "192.0" in lines["depth (um below pia)"]
    assert "76712, 47989, 306" in lines["soma position (vx)"]
    assert lines["input synapses"].split()[-1] == "4"
    assert lines["output synapses"].split()[-1] == "14"


def test_pt_cell_types_from_two_tables(capsys):
    assert cli_main(["cell", str(PT), "--datastack", "minnie65_sample", "--json"]) == 0
    types = {c["cell_type"] for c in json.loads(capsys.readouterr().out)["cell_types"]}
    assert {"5P-PT", "5PET"} <= types


def test_link_of_one_cell_with_both_synapse_directions(capsys):
    rc = cli_main(["link", str(PINKY), "--synapses", "both"])
    assert rc == 0
    cap = capsys.readouterr()
    url = cap.out.strip()
    assert url.startswith("https://spelunker.cave-explorer.org/#!")
    state = decode_state(url)
    layers = {lay["name"]: lay for lay in state["layers"]}
    seg = layers["segmentation"]
    assert [str(s).lstrip("!") for s in seg["segments"]] == [str(PINKY)]
    assert len(layers["inputs"]["annotations"]) == 4
    assert len(layers["outputs"]["annotations"]) == 14
    assert "18 annotations" in cap.err


def test_link_of_several_cells_on_classic_neuroglancer(capsys):
    rc = cli_main(["link", str(PINKY), str(PINKY2), "103", "--site", "neuroglancer"])
    assert rc == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://neuroglancer-demo.appspot.com/#!")
    seg = next(lay for lay in decode_state(url)["layers"] if lay["name"] == "segmentation")
    # nucleus 103 is PINKY again: listed once
    assert sorted(str(s).lstrip("!") for s in seg["segments"]) == sorted([str(PINKY),
                                                                          str(PINKY2)])


def test_link_of_several_cells_with_inputs_tags_each_cell(capsys):
    assert cli_main(["link", str(PINKY), str(PINKY2), "--synapses", "in"]) == 0
    state = decode_state(capsys.readouterr().out.strip())
    rows = next(lay for lay in state["layers"] if lay["name"] == "rows")  # one layer, tagged
    tags = {p.get("tag", p["id"]) for p in rows["annotationProperties"]}
    assert {f"inputs of {PINKY}", f"inputs of {PINKY2}"} <= tags
    assert not any(t.startswith("outputs") for t in tags)


def test_capped_link_says_what_was_left_out(capsys):
    rc = cli_main(["link", str(BASKET), "--synapses", "in", "--datastack", "minnie65_sample",
                    "--version", "0"])
    assert rc == 0
    cap = capsys.readouterr()
    layer = next(lay for lay in decode_state(cap.out.strip())["layers"]
                 if lay["name"] == "inputs")
    assert 0 < len(layer["annotations"]) < 12424
    assert f"{12424 - len(layer['annotations']):,} left out" in cap.err


@pytest.mark.parametrize("argv,msg", [
    (["cell", "abc"], "not a whole number"),
    (["cell", "8.6469e17"], "not a cell id"),
    (["cell", "-5"], "not a cell id"),
    (["link", "12x"], "not a whole number"),
    (["link", str(PINKY), "--datastack", "nothing"], "No local datastack"),
    (["cell", "999999", "--datastack", "minnie65_sample"], "999999"),
])
def test_bad_ids_exit_2_with_one_line(capsys, argv, msg):
    rc = cli_main(argv)
    cap = capsys.readouterr()
    assert rc == 2, cap
    err = cap.err.strip()
    assert msg in err and len(err.splitlines()) == 1
    assert cap.out == ""


def test_bad_choice_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["link", str(PINKY), "--synapses", "sideways"])
    assert exc.value.code == 2
