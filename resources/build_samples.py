"""Build the bundled sample datastacks from the real data in ``../shared/data``.

Run from the repo root:  ``python resources/build_samples.py [--shared ../shared/data]``

What it does, and why (nothing is invented; every value comes from a source file):
- Column names become CAVE's (``pre_pt_root_id``, ``post_pt_root_id``, ``size``,
  ``ctr_pt_position``, ``pt_position``, ``pt_root_id``) so that queries written in
  Cavern run unchanged against a CAVE server.
- Positions become CAVE-style [x, y, z] lists in voxels of 4 x 4 x 40 nm. Sources in nm
  are divided by (4, 4, 40), sources in um multiplied by (250, 250, 25) and rounded.
- pinky100 ``soma_valence``: its soma_*_nm columns are corrupt (see data README), so
  positions come from ``pt_position`` only.
- minnie65 rows come from different materialization versions; each table goes under
  the version its source states, and rows of unknown version go under version 0,
  labelled "version unknown" in the manifest. Root ids of different versions must not
  be mixed, so no table combines them.
- Each table's provenance (source repository and file), description, schema and units
  go into the Parquet file's "cavern" metadata; files are written with zstd.
- minnie65 v0 has nucleus_detection_v0 (the soma table): nucleus id -> root id pairs of
  the allen_v1_column_types_slanted_ref source, a position only where a source gives one
  (the basket cell's skeleton soma point), NaN (unknown) otherwise. allen_v1_column_types_slanted_ref
  is a cell_type_reference table on it (target_id = nucleus id); as Cavern's local source
  does not join reference tables, the target's pt_root_id/pt_position are merged into the
  file and listed in its "target_columns" metadata.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
OUT = HERE / "samples"
VX = np.array([4.0, 4.0, 40.0])

MICRONS_CREDIT = ("MICrONS Consortium et al., Nature 2025 (minnie65). Data released by the "
                  "MICrONS Consortium under CC BY 4.0.")
PINKY_CREDIT = ("Turner et al., Cell 2022 (pinky100). Data released by the MICrONS Consortium "
                "under CC BY 4.0.")


def position_array(xyz) -> pa.FixedSizeListArray:
    """(n, 3) voxels -> fixed-size int64 lists. A list with None entries (position unknown)
    gives float64 lists with [NaN, NaN, NaN] there: a NaN position reads as "none" in
    Cavern (not finite), and the CAVE test server's position splitting (tests/cave_server/
    datastore.py) handles NaN but not null lists."""
    if isinstance(xyz, np.ndarray):
        flat = pa.array(np.asarray(np.rint(xyz), dtype=np.int64).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, 3)
    flat = np.concatenate([np.full(3, np.nan) if p is None else np.rint(np.asarray(p, float))
                           for p in xyz])
    return pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float64()), 3)


def parse_bracket_triplets(series: pd.Series) -> np.ndarray:
    """'[103860  44385    891]' -> (n, 3) floats."""
    return np.array([[float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", s)] for s in series])


def write_table(folder: Path, name: str, df: pd.DataFrame, positions: dict[str, np.ndarray],
                meta: dict) -> None:
    """Write ``df`` plus voxel position columns as zstd Parquet with 'cavern' metadata."""
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    for col, xyz in positions.items():
        table = table.append_column(col, position_array(xyz))
    meta = {"kind": "table", "voxel_resolution": VX.tolist(),
            "units": {c: "vx" for c in positions}, **meta}
    schema_md = dict(table.schema.metadata or {})
    schema_md.pop(b"pandas", None)
    schema_md[b"cavern"] = json.dumps(meta).encode()
    table = table.replace_schema_metadata(schema_md)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
    print(f"  {folder.name}/{name}: {table.num_rows} rows")


def build_pinky100(src: Path) -> None:
    out = OUT / "pinky100_sample"
    v = out / "v185"
    repo = "AllenInstitute/OFS-EM-Connectomics data/"
    syn = pd.read_csv(src / "soma_subgraph_synapses_spines_v185.csv")
    df = pd.DataFrame({"id": syn["id"], "pre_pt_root_id": syn["pre_root_id"],
                       "post_pt_root_id": syn["post_root_id"], "size": syn["cleft_vx"],
                       "spine_vol_um3": syn["spine_vol_um3"]})
    pos = {k: syn[[f"{p}_pos_{a}_vx" for a in "xyz"]].to_numpy()
           for k, p in (("pre_pt_position", "pre"), ("ctr_pt_position", "ctr"),
                        ("post_pt_position", "post"))}
    write_table(v, "synapses", df, pos, {
        "schema": "synapse",
        "description": "Every synapse among the proofread somas of pinky100 (the complete "
                       "pyramidal-cell subgraph), with synaptic cleft size in voxels and "
                       "spine volume.",
        "provenance": repo + "soma_subgraph_synapses_spines_v185.csv (cleft_vx -> size)"})
    soma = pd.read_csv(src / "soma_valence_v185.csv")
    write_table(v, "soma_valence", soma[["id", "cell_type", "pt_root_id"]],
                {"pt_position": parse_bracket_triplets(soma["pt_position"])}, {
        "schema": "cell_type_local",
        "classification_system": "valence",
        "description": "Somas of pinky100 with valence: e = excitatory, i = inhibitory, "
                       "g = glia.",
        "provenance": repo + "soma_valence_v185.csv (corrupt soma_*_nm columns dropped)"})
    complete = pd.read_csv(src / "complete_soma_ids_v185.csv", header=None, names=["pt_root_id"])
    complete["status"] = "complete"
    write_table(v, "complete_somas", complete, {}, {
        "schema": "proofreading_status",
        "description": "Root ids of cells whose reconstruction is complete (proofread).",
        "provenance": repo + "complete_soma_ids_v185.csv"})
    binder = pd.read_csv(src / "soma_micronsbinder.csv")
    write_table(v, "proofread_somas_micronsbinder",
                binder[["segment_id", "manual_id", "axon_len", "dendrite_len"]].rename(
                    columns={"segment_id": "pt_root_id"}),
                {"pt_position": parse_bracket_triplets(binder["loc"]) / VX}, {
        "schema": "proofread_soma",
        "description": "Proofread somas with axon and dendrite length (um), as published "
                       "with the motif analysis.",
        "provenance": "AllenInstitute/MicronsBinder notebooks/multiscale/motifs/data/soma.csv "
                      "(loc nm -> vx)"})
    pairs = pd.read_csv(src / "synapse_pairs_micronsbinder.csv")
    write_table(v, "synapse_pairs_micronsbinder",
                pairs.rename(columns={"pre": "pre_pt_root_id", "post": "post_pt_root_id"}), {}, {
        "schema": "connection",
        "description": "(pre, post) root-id pairs of the same subgraph, one row per synapse, "
                       "as published with the motif analysis.",
        "provenance": "AllenInstitute/MicronsBinder notebooks/multiscale/motifs/data/synapses.csv"})
    ann = pd.read_csv(src / "manual_annotation_example.csv")
    write_table(v, "manual_annotation_example",
                pd.DataFrame({"pt_root_id": ann["Segment IDs"].astype("Int64"),
                              "type": ann["Type"], "tags": ann["Tags"].astype("string"),
                              "description": ann["Description"].astype("string")}),
                {"pt_position": parse_bracket_triplets(ann["Coordinate 1"])}, {
        "schema": "bound_tag",
        "description": "A small manual point annotation table.",
        "provenance": repo + "manual_annotation_example.csv"})
    manifest = {
        "format": "cavern-datastack/1", "name": "pinky100_sample",
        "description": "MICrONS phase 1 (pinky100), materialization v185: the complete "
                       "subgraph of proofread pyramidal cells and every synapse among them.",
        "voxel_resolution": VX.tolist(),
        "image_source": "precomputed://gs://microns_public_datasets/pinky100_v0/"
                        "son_of_alignment_v15_rechunked",
        "segmentation_source": "precomputed://gs://microns_public_datasets/pinky100_v185/seg",
        "synapse_table": "synapses", "soma_table": "soma_valence",
        "cell_type_tables": ["soma_valence"], "proofreading_table": "complete_somas",
        "viewer_site": "https://spelunker.cave-explorer.org/",
        "credits": PINKY_CREDIT,
        # pinky100's pia runs roughly along -y; depth is measured from y of the pia.
        "transform": {"kind": "linear", "axis": "y", "pia_nm": 0.0, "angle_deg": 0.0},
        "cave_datastack": "pinky100",
        "default_version": 185,
        "versions": [{"version": 185, "folder": "v185", "timestamp": None, "cave_version": 185,
                      "description": "pinky100 materialization v185"}],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _um_to_vx(df, cols):
    return df[cols].to_numpy(float) * 1000.0 / VX


def _split_to_vx(df, prefix, scale):
    return df[[f"{prefix}_{a}" for a in "xyz"]].to_numpy(float) * scale


def _list_to_vx(series):
    return np.stack([np.asarray(p, dtype=float) for p in series])


SYN_COLS = ["id", "pre_pt_root_id", "post_pt_root_id", "size"]


def build_minnie65(src: Path) -> None:
    out = OUT / "minnie65_sample"
    nriedman, neurd = "nriedman/microns ", "reimerlab/NEURD "
    # v343
    v = out / "v343"
    cells = pd.read_csv(src / "cells_no_repeats.csv")
    write_table(v, "aibs_soma_nuc_metamodel_preds_v117", cells[["cell_type", "pt_root_id"]],
                {"pt_position": cells[["pt_x", "pt_y", "pt_z"]].to_numpy()}, {
        "schema": "cell_type_local", "classification_system": "aibs_neuronal",
        "description": "Excitatory neurons with their predicted cell type from "
                       "aibs_soma_nuc_metamodel_preds_v117 (one row per root id).",
        "provenance": nriedman + "data/cells_no_repeats.csv"})
    corners = pd.concat([pd.read_csv(src / f"23P_corner_{k}.csv", index_col=0)
                         for k in (5, 50, 95)], ignore_index=True)
    write_table(v, "synapses_23P_corner_inputs", corners[SYN_COLS + ["cell_type_pre"]],
                {"ctr_pt_position": _um_to_vx(corners, ["ctr_pt_x", "ctr_pt_y", "ctr_pt_z"])}, {
        "schema": "synapse",
        "description": "synapses_pni_2 rows: inputs of three L2/3 pyramidal cells, with the "
                       "presynaptic cell type.",
        "provenance": nriedman + "sample_dataset/23P_corner_{5,50,95}.csv (um -> vx)"})
    # v795
    cell = pd.concat([pd.read_feather(src / f"cell_864691136040432126_{k}.feather")
                      for k in ("post", "pre")], ignore_index=True).drop_duplicates("id")
    write_table(out / "v795", "synapses_pni_2", cell[SYN_COLS],
                {c: _list_to_vx(cell[c]) for c in
                 ("pre_pt_position", "ctr_pt_position", "post_pt_position")}, {
        "schema": "synapse",
        "description": "synapses_pni_2 rows of one cell (864691136040432126), inputs and "
                       "outputs.",
        "provenance": "CAVEconnectome/pcg_skel test data cell_864691136040432126_{pre,post}"
                      ".feather"})
    # v1718
    v = out / "v1718"
    ex = pd.read_csv(src / "exc_23P_864691135774053371_presynaptic.csv")
    write_table(v, "synapses_pni_2_inputs_864691135774053371",
                pd.DataFrame({"pre_pt_root_id": ex["pre_root_id"],
                              "post_pt_root_id": np.int64(864691135774053371),
                              "cell_type_pre": ex["pre_cell_type"]}),
                {"ctr_pt_position": ex[["x_nm", "y_nm", "z_nm"]].to_numpy(float) / VX}, {
        "schema": "synapse",
        "description": "Inputs of the tutorial's example L2/3 cell 864691135774053371 with "
                       "the presynaptic cell type (aibs_metamodel_celltypes_v661). The source "
                       "has no synapse size.",
        "provenance": "saivoru777-ship-it/microns-explorer exc_23P_864691135774053371_"
                      "presynaptic.csv (nm -> vx)"})
    qc = pd.read_csv(src / "analysis_compatibility.csv")
    parts = qc["label"].str.split("_", n=2, expand=True)
    qc.insert(0, "pt_root_id", qc.pop("root_id"))
    qc.insert(1, "cell_class", parts[0])
    qc.insert(2, "cell_type", parts[1])
    write_table(v, "proofread_cells_morphology_qc", qc.drop(columns=["label"]), {}, {
        "schema": "cell_type_local", "classification_system": "aibs_metamodel_celltypes_v661",
        "description": "Cells with proofread axons at v1718 (proofreading_status_and_strategy),"
                       " their class and type, and skeleton morphology quality checks.",
        "provenance": "saivoru777-ship-it/microns-explorer analysis_compatibility.csv"})
    # version unknown: 2020-2025 sources whose materialization version is not stated
    v = out / "v0"
    gt = pd.read_csv(src / "public_cave_ground_truth_cell_types_with_nucleus.csv", index_col=0)
    skel = json.loads((src / "bc_864691135101289504_skeleton.json").read_text())["meta"]
    skel_root = np.int64(skel["root_id"])
    skel_nm = np.array([skel["soma_pt_x"], skel["soma_pt_y"], skel["soma_pt_z"]], float)
    # nucleus_detection_v0 (schema nucleus_detection), the target of the reference table.
    # Rows: the (nucleus id, root id) pairs of the reference table's own source, so its root
    # ids are of the same (unknown) version. man_proof_stats_df_for_e_i.csv pairs nucleus ids
    # with root ids too, but of another version (74 nuclei in both files, none with the same
    # root id), so its pairs are not merged in. Positions: only the basket cell's, from its
    # pcg_skel skeleton (soma_pt in nm, a whole number of 4 x 4 x 40 nm voxels, i.e. a
    # nucleus-table point); every other position is unknown, NaN (no source gives it). No source
    # gives supervoxel ids or nucleus volumes, so those columns are left out.
    nuc = pd.DataFrame({"id": gt["nucleus_id"].astype(np.int64), "valid": True,
                        "pt_root_id": gt["segment_id"].astype(np.int64)}).reset_index(drop=True)
    nuc_pos = [skel_nm / VX if r == skel_root else None for r in nuc["pt_root_id"]]
    nucleus_provenance = (neurd + "public_cave_ground_truth_cell_types_with_nucleus.csv "
                          "(nucleus_id -> id, segment_id -> pt_root_id); pt_position of nucleus "
                          "294749 only: CAVEconnectome/MeshParty test data "
                          "bc_864691135101289504_skeleton.json meta soma_pt (nm -> vx), "
                          "others NaN (unknown)")
    write_table(v, "nucleus_detection_v0", nuc, {"pt_position": nuc_pos}, {
        "schema": "nucleus_detection",
        "description": "Nucleus detections (nucleus_detection_v0) of the cells in "
                       "allen_v1_column_types_slanted_ref: nucleus id and root id. Only the "
                       "basket cell 864691135101289504 has a position here.",
        "provenance": nucleus_provenance})
    # allen_v1_column_types_slanted_ref (schema cell_type_reference): its own columns are id,
    # valid, target_id (the nucleus id), classification_system, cell_type; pt_root_id and
    # pt_position belong to the target nucleus_detection_v0. The source gives no annotation
    # ids, so id is the target id, and no classification system, so classification_system is
    # null. Cavern's local source does not join a reference table to its target, so the
    # target's pt_root_id and pt_position are merged in here and named in "target_columns"
    # (a CAVE-shaped copy drops them).
    write_table(v, "allen_v1_column_types_slanted_ref",
                pd.DataFrame({"id": nuc["id"], "valid": True, "target_id": nuc["id"],
                              "classification_system": pd.Series([None] * len(nuc),
                                                                 dtype="string"),
                              "cell_type": gt["cell_type"].to_numpy(),
                              "pt_root_id": nuc["pt_root_id"]}),
                {"pt_position": nuc_pos}, {
        "schema": "cell_type_reference", "reference_table": "nucleus_detection_v0",
        "target_columns": ["pt_root_id", "pt_position"],
        "description": "Manual cell types of the V1 column (allen_v1_column_types_slanted_ref)"
                       ", a reference table on nucleus_detection_v0 (target_id = nucleus id)."
                       " pt_root_id and pt_position are the target's, merged in.",
        "provenance": neurd + "public_cave_ground_truth_cell_types_with_nucleus.csv "
                      "(nucleus_id -> target_id, cell_type); pt_root_id, pt_position from "
                      "nucleus_detection_v0 (" + nucleus_provenance + ")"})
    mp = pd.read_csv(src / "man_proof_stats_df_for_e_i.csv", index_col=0)
    write_table(v, "manually_proofread_cells_e_i",
                mp.rename(columns={"segment_id": "pt_root_id"}), {}, {
        "schema": "proofreading_status",
        "description": "Manually proofread cells with nucleus id, E/I labels and spine and "
                       "synapse densities.",
        "provenance": neurd + "man_proof_stats_df_for_e_i.csv"})
    write_table(v, "skeleton_soma_positions",
                pd.DataFrame({"pt_root_id": [np.int64(skel["root_id"])],
                              "soma_radius_nm": [float(skel["soma_radius"])]}),
                {"pt_position": np.array([[skel["soma_pt_x"], skel["soma_pt_y"],
                                           skel["soma_pt_z"]]]) / VX}, {
        "schema": "soma_position",
        "description": "Soma positions recorded in pcg_skel skeletons (the V1-column basket "
                       "cell 864691135101289504).",
        "provenance": "CAVEconnectome/MeshParty test data bc_864691135101289504_skeleton.json "
                      "meta soma_pt (nm -> vx)"})
    frames, positions = [], {c: [] for c in ("pre_pt_position", "ctr_pt_position", "post_pt_position")}
    for k in ("pre", "post"):
        d = pd.read_feather(src / f"bc_864691135101289504_{k}.feather")
        frames.append(d[SYN_COLS])
        for c in positions:
            positions[c].append(_split_to_vx(d, c, 1.0 / VX))
    for k in ("post", "pre"):
        d = pd.read_feather(src / f"pt_864691136362774498_{k}.feather")
        frames.append(d[SYN_COLS])
        for c in positions:
            positions[c].append(_list_to_vx(d[c]))
    syn = pd.concat(frames, ignore_index=True)
    pos = {c: np.concatenate(p) for c, p in positions.items()}
    keep = ~syn["id"].duplicated().to_numpy()
    write_table(v, "synapses_pni_2", syn[keep], {c: p[keep] for c, p in pos.items()}, {
        "schema": "synapse",
        "description": "synapses_pni_2 rows (inputs and outputs) of a V1-column basket cell "
                       "(864691135101289504) and a layer-5 PT cell (864691136362774498).",
        "provenance": "CAVEconnectome/MeshParty test data bc_864691135101289504_{pre,post}."
                      "feather (nm -> vx); CAVEconnectome/nglui test data "
                      "pt_864691136362774498_{pre,post}.feather"})
    manifest = {
        "format": "cavern-datastack/1", "name": "minnie65_sample",
        "description": "Real rows of MICrONS minnie65_public tables, grouped by the "
                       "materialization version each source states. Partial: a few cells' "
                       "synapses and several cell-type tables.",
        "voxel_resolution": VX.tolist(),
        "image_source": "precomputed://https://bossdb-open-data.s3.amazonaws.com/iarpa_microns/"
                        "minnie/minnie65/em",
        "segmentation_source": "graphene://https://minnie.microns-daf.com/segmentation/table/"
                               "minnie65_public",
        "synapse_table": "synapses_pni_2", "soma_table": "nucleus_detection_v0",
        "cell_type_tables": ["allen_v1_column_types_slanted_ref",
                             "aibs_soma_nuc_metamodel_preds_v117", "proofread_cells_morphology_qc"],
        "proofreading_table": "manually_proofread_cells_e_i",
        "viewer_site": "https://spelunker.cave-explorer.org/",
        "credits": MICRONS_CREDIT,
        "transform": {"kind": "minnie65"},
        # the CAVE datastack and versions the rows come from ("Copy as Python" names them)
        "cave_datastack": "minnie65_public",
        "default_version": 0,
        "versions": [
            {"version": 0, "folder": "v0", "timestamp": None,
             "description": "version unknown: rows from 2020-2025 sources that do not state "
                            "their materialization version"},
            {"version": 343, "folder": "v343", "timestamp": None, "cave_version": 343,
             "description": "minnie65_public v343"},
            {"version": 795, "folder": "v795", "timestamp": None, "cave_version": 795,
             "description": "minnie65_public v795"},
            {"version": 1718, "folder": "v1718", "timestamp": None, "cave_version": 1718,
             "description": "minnie65_public v1718 (queried 2026-03-16)"},
        ],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


SKELETON_KEYS = ("vertices", "edges", "root", "compartment", "radius")


def build_skeletons(src: Path) -> None:
    """minnie65 skeletons/: the basket cell's pcg_skel skeleton as the skeleton service's dict
    (vertices nm, edges, root, SWC compartment codes, radius, meta), values as given. Its
    mesh_to_skel_map and lvl2_ids (level-2 mesh bookkeeping, not needed to draw it) are left
    out; provenance goes under "cavern"."""
    out = OUT / "minnie65_sample" / "skeletons"
    out.mkdir(parents=True, exist_ok=True)
    d = json.loads((src / "bc_864691135101289504_skeleton.json").read_text())
    sk = {k: d[k] for k in SKELETON_KEYS if k in d}
    sk["meta"] = d["meta"]
    sk["cavern"] = {"units": "nm", "root_id": int(d["meta"]["root_id"]),
                    "provenance": "CAVEconnectome/MeshParty test data "
                                  "bc_864691135101289504_skeleton.json (mesh_to_skel_map and "
                                  "lvl2_ids dropped)", "credits": MICRONS_CREDIT}
    path = out / f"{int(d['meta']['root_id'])}.json.gz"  # compressed: the repo stays small
    path.write_bytes(gzip.compress(json.dumps(sk, separators=(",", ":")).encode(), 9, mtime=0))
    print(f"  skeletons/{path.name}: {len(sk['vertices'])} vertices")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data")
    args = ap.parse_args(argv)
    if not args.shared.is_dir():
        print(f"no data folder at {args.shared}", file=sys.stderr)
        return 2
    print("pinky100_sample")
    build_pinky100(args.shared / "pinky100")
    print("minnie65_sample")
    build_minnie65(args.shared / "minnie65")
    build_skeletons(args.shared / "minnie65")
    return 0


if __name__ == "__main__":
    sys.exit(main())
