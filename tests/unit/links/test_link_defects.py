"""The link defects of issue 15, each read back with neuroglancer.parse_url and compared with
the source rows in the rows' own units."""
import neuroglancer
import numpy as np
import pytest

from models.query_spec import QuerySpec
from services.links import neuroglancer_links as ngl
from services.links.partners_link import cell_partners_link, soma_positions
from services.workspace import Workspace
from tests.unit.links.ngl_parse import ann_nm, position_nm, tags_of

BC = 864691135101289504  # V1-column basket cell (minnie65 sample)


@pytest.fixture(scope="module")
def pinky(sample_source):
    return sample_source.datastack_info("pinky100_sample")


def _rows(src, res=None, limit=12):
    spec = QuerySpec("soma_valence", "pinky100_sample", limit=limit, desired_resolution=res)
    return src.query(spec).frame


def test_rows_queried_in_nm_are_placed_in_nm(sample_source, pinky):
    vx, nm = _rows(sample_source), _rows(sample_source, (1, 1, 1))
    truth_nm = np.vstack(vx.pt_position.to_numpy()).astype(float) * pinky.voxel_resolution
    assert np.allclose(np.vstack(nm.pt_position.to_numpy()), truth_nm)  # the rows are nm
    nm.attrs[ngl.RESOLUTION_ATTR] = (1, 1, 1)  # what the main window sets from the spec
    for frame, explicit in ((nm, None), (nm.copy(), (1.0, 1.0, 1.0)), (vx, None)):
        link = ngl.rows_link(pinky, frame, resolution=explicit)
        state = neuroglancer.parse_url(link.url)
        assert np.allclose(ann_nm(state, "rows"), truth_nm)
        assert np.allclose(position_nm(state), truth_nm[0])  # opens at the first row
        assert state.position is not None


def test_bad_resolution_is_a_clear_error(pinky, sample_source):
    from models.errors import InvalidInputError
    with pytest.raises(InvalidInputError):
        ngl.rows_link(pinky, _rows(sample_source), resolution=(0, 1, 1))


def test_a_cell_without_soma_opens_at_its_first_annotation(sample_source):
    ds = sample_source.datastack_info("minnie65_sample")
    ws = Workspace(sample_source, "minnie65_sample", None)
    from services.cells.cell_inspection import fetch_cell_synapses
    syn = fetch_cell_synapses(ws, [BC])
    link = ngl.cell_synapses_link(ds, BC, syn, max_annotations=50)  # no centre, no soma
    state = neuroglancer.parse_url(link.url)
    first = ann_nm(state, "inputs")[0]
    assert np.allclose(position_nm(state), first)
    assert any("opens at the first annotation" in n for n in link.notes)
    bare = ngl.cells_link(ds, [BC])  # nothing to open at: the note says so, honestly
    assert neuroglancer.parse_url(bare.url).position is None or \
        not list(neuroglancer.parse_url(bare.url).position)
    assert any("default position" in n for n in bare.notes)
    assert not any("first annotation" in n for n in bare.notes)


def test_the_partners_link_has_soma_and_synapse_points(sample_source):
    ws = Workspace(sample_source, "minnie65_sample", None)
    from services.cells.cell_inspection import fetch_cell_synapses
    syn = fetch_cell_synapses(ws, [BC])
    pre, post = syn.pre_pt_root_id.to_numpy(), syn.post_pt_root_id.to_numpy()
    outs = post[(pre == BC) & (post != BC)]
    ins = pre[(post == BC) & (pre != BC)]
    partners = [int(outs[0]), int(ins[0])] if len(ins) else [int(outs[0]), int(outs[1])]
    link = cell_partners_link(ws, BC, partners)
    state = neuroglancer.parse_url(link.url)
    assert sorted(int(s) for s in state.layers["segmentation"].segments) == sorted([BC] + partners)
    somas = soma_positions(ws, [BC] + partners)
    assert BC in somas
    soma_layer = state.layers["somas"]
    assert len(soma_layer.annotations) == len(somas)
    ds = ws.info
    assert np.allclose(position_nm(state), np.asarray(somas[BC]) * ds.voxel_resolution)
    lay = state.layers["synapses"]
    want = syn[((syn.pre_pt_root_id == BC) & syn.post_pt_root_id.isin(partners))
               | ((syn.post_pt_root_id == BC) & syn.pre_pt_root_id.isin(partners))]
    assert len(lay.annotations) == len(want) == link.n_annotations - len(somas)
    got = {tuple(np.round(p).astype(int)) for p in ann_nm(state, "synapses")}
    truth = {tuple(np.round(np.asarray(p, float) * ds.voxel_resolution).astype(int))
             for p in want.ctr_pt_position}
    assert got == truth
    dirs = {t for a in lay.annotations for t in tags_of(lay, a)}
    assert dirs <= {"input", "output"} and dirs
    for a in lay.annotations:  # each point is linked to its partner
        assert int(a.segments[0][0]) in partners
    assert not any("No soma position" in n for n in link.notes)


def test_short_links_keep_an_explicit_target_site():
    """CaveSource names target_site, so caveclient never asks the viewer site over the net;
    the spelunker form is the '#!middleauth+' one that both viewers read."""
    import inspect
    from services.cave import cave_source  # read as text: links never import cave
    src = inspect.getsource(cave_source.CaveSource.upload_state)
    assert 'target_site="spelunker"' in src
