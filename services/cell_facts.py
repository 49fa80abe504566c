"""Facts about one cell for the cell inspector and ``cavern cell``, asked of any DataSource.

Every table is asked through a filtered QuerySpec (``pt_root_id = id``, ``id = nucleus``,
``post_pt_root_id = id`` ...), so only the cell's rows are read, locally (DuckDB pushes the
filter into Parquet) and on a CAVE server alike. Tables come from the datastack's
manifest/info: soma table, ``cell_type_tables``, proofreading table, synapse table.

A local datastack may keep tables at different versions (the minnie65 sample does); a
table named by the manifest but absent at the asked version is read at the nearest
version that holds it, and a note says so. On a CAVE server only the asked version is read.
"""
from __future__ import annotations

from dataclasses import replace

import re
from typing import Iterable

import numpy as np

from models.cell import CellRecord, CellTypeLabel, ProofreadingStatus, RootIdStatus
from models.datastack import DatastackInfo, TableInfo
from models.errors import CavernError, InvalidInputError, NotFoundError
from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.cortical_depth import DepthTransform
from services.data_source import CancelToken, DataSource

# Nucleus ids are small detection counters; root ids carry the chunk-graph layer in their
# top bits (MICrONS/FlyWire root ids have 17-19 digits). Anything below this is a nucleus id.
NUCLEUS_ID_MAX = 2**40
_SPLIT = re.compile(r"[\s,;|]+")


# ----------------------------------------------------------------------------- id parsing
def parse_cell_ids(text: str) -> list[int]:
    """Ids typed or pasted (commas, spaces, new lines, brackets, quotes) as exact ints.

    Duplicates are dropped, order kept. Floats (``8.6e17``, ``864691135101289504.0``) are
    refused: they cannot hold 18 digits, so they would point at another cell.
    """
    cleaned = re.sub(r"[\[\](){}'\"]", " ", str(text or ""))
    cleaned = re.sub(r"\b(?:np\.)?u?int64\b", " ", cleaned)
    tokens = [t for t in _SPLIT.split(cleaned) if t]
    if not tokens:
        raise InvalidInputError("Type or paste a root id or nucleus id.", field="cell_id",
                                hint="e.g. 864691135101289504")
    out: list[int] = []
    for t in tokens:
        if not t.isdigit():
            what = "a decimal number" if re.fullmatch(r"[-+]?\d*\.?\d+(e[-+]?\d+)?", t, re.I) \
                else "not a whole number"
            hint = ("Ids are whole numbers; a value like 8.6469e17 has lost its last digits: "
                    "copy the id from a table with integer columns.") if "number" in what else \
                "Ids are whole numbers such as 864691135101289504."
            if t.startswith("-"):
                what, hint = "negative", "Ids are positive whole numbers."
            raise InvalidInputError(f"'{t}' is {what}, so it is not a cell id.",
                                    field="cell_id", hint=hint)
        v = int(t)
        if v == 0 or v >= 2**63:
            raise InvalidInputError(f"{t} is not a valid cell id (0 or too large for 64 bits).",
                                    field="cell_id")
        if v not in out:
            out.append(v)
    return out


def parse_cell_id(text) -> int:
    """Exactly one id (int or text)."""
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        return parse_cell_ids(str(int(text)))[0]
    ids = parse_cell_ids(text)
    if len(ids) != 1:
        raise InvalidInputError(f"Expected one id, got {len(ids)}.", field="cell_id")
    return ids[0]


def is_nucleus_id(cell_id: int) -> bool:
    return 0 < int(cell_id) < NUCLEUS_ID_MAX


# ----------------------------------------------------------------------------- table lookup
class _Tables:
    """The tables a datastack names, with the version each is read at."""

    def __init__(self, source: DataSource, datastack: str, version: int):
        self.source, self.datastack, self.version = source, datastack, version
        self.local = getattr(source, "kind", "") == "local"
        self._by_version: dict[int, dict[str, TableInfo]] = {}

    def _tables_at(self, v: int) -> dict[str, TableInfo]:
        if v not in self._by_version:
            self._by_version[v] = {t.name: t for t in self.source.tables(self.datastack, v)}
        return self._by_version[v]

    def find(self, name: str) -> tuple[TableInfo, int] | None:
        if not name:
            return None
        here = self._tables_at(self.version)
        if name in here:
            return self._exact(name, self.version), self.version
        if not self.local:
            return None
        others = sorted((v.version for v in self.source.versions(self.datastack)
                         if v.version != self.version), key=lambda v: abs(v - self.version))
        for v in others:
            if name in self._tables_at(v):
                return self._exact(name, v), v
        return None

    def _exact(self, name: str, v: int) -> TableInfo:
        """The table's real columns: a CAVE listing gives its schema's columns, which a
        table may not all have (table_info checks them, once per table)."""
        try:
            return self.source.table_info(self.datastack, name, v)
        except CavernError:
            return self._tables_at(v)[name]

    def rows(self, info: TableInfo, v: int, filters, columns=(), cancel=None, limit=None):
        cols = tuple(c for c in columns if c in info.kinds)
        spec = QuerySpec(info.name, self.datastack, v, filters=tuple(filters), columns=cols,
                         limit=limit, is_view=info.kind == "view")
        return self.source.query(spec, cancel)


def _root_col(info: TableInfo) -> str | None:
    kinds = info.kinds
    if "pt_root_id" in kinds:
        return "pt_root_id"
    return next((c for c in kinds if c.endswith("root_id") and kinds[c] == "int"), None)


def _nucleus_col(info: TableInfo, is_soma_table: bool) -> str | None:
    kinds = info.kinds
    if is_soma_table and "id" in kinds:
        return "id"
    for c in ("target_id", "nucleus_id"):  # reference tables point at the nucleus table
        if c in kinds:
            return c
    return None


def _first(frame, col):
    if col is None or col not in frame.columns or frame.empty:
        return None
    v = frame[col].iloc[0]
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _where(tag: str, v: int, asked: int) -> str:
    return f"{tag} (v{v})" if v != asked else tag


# ----------------------------------------------------------------------------- gathering
def gather_cell_facts(source: DataSource, datastack: str, root_id_or_nucleus_id,
                      version: int | None = None, cancel: CancelToken | None = None
                      ) -> CellRecord:
    """Everything the datastack's tables say about one cell (by root id or nucleus id)."""
    cell_id = parse_cell_id(root_id_or_nucleus_id)
    ds: DatastackInfo = source.datastack_info(datastack)
    v = source.default_version(datastack) if version is None else int(version)
    if v is None:
        raise NotFoundError(f"Datastack '{datastack}' has no versions to read.")
    tabs = _Tables(source, datastack, v)
    if not ds.cell_type_tables:
        # CAVE's info service names no cell-type tables: take those of a cell_type schema.
        typed = tuple(sorted(n for n, t in tabs._tables_at(v).items()
                             if t.schema.startswith("cell_type")))
        ds = replace(ds, cell_type_tables=typed)
    rec = CellRecord(root_id=cell_id, datastack=datastack, version=v,
                     voxel_resolution=tuple(ds.voxel_resolution))
    id_tables = _id_tables(ds, tabs)
    if ds.soma_table and not any(role is True for _, _, role in id_tables):
        rec.notes.append(f"The soma table '{ds.soma_table}' is not in this datastack.")
    if is_nucleus_id(cell_id):
        rec.nucleus_id = cell_id
        rec.root_id = _root_of_nucleus(tabs, id_tables, cell_id, cancel)
    for info, tv, is_soma in id_tables:
        root_col = _root_col(info)
        if root_col is None:
            continue
        want = [root_col, _nucleus_col(info, is_soma) or "",
                *info.position_columns, "cell_type", "classification_system"]
        res = tabs.rows(info, tv, [Filter(root_col, Op.EQ, rec.root_id)], want, cancel)
        frame = res.frame
        if frame.empty:
            continue
        if rec.nucleus_id is None:
            nuc = _first(frame, _nucleus_col(info, is_soma))
            rec.nucleus_id = int(nuc) if nuc is not None else None
        if rec.soma_position_vx is None and info.position_columns:
            pos_col = "pt_position" if "pt_position" in info.kinds else info.position_columns[0]
            _set_soma(rec, ds, info, pos_col, _first(frame, pos_col), tv, v)
        if is_soma is False and info.name in ds.cell_type_tables and "cell_type" in frame:
            system_default = str(info.extra.get("classification_system", ""))
            for _, row in frame.iterrows():
                system = row.get("classification_system", system_default)
                rec.cell_types.append(CellTypeLabel(
                    _where(info.name, tv, v), str(system if system is not None else ""),
                    str(row["cell_type"])))
    _proofreading(rec, ds, tabs, cancel)
    _synapse_counts(rec, ds, tabs, cancel)
    if rec.soma_position_vx is None:
        rec.notes.append("No soma position: the cell is not in the soma table"
                         + (f" ({ds.soma_table})" if ds.soma_table else "")
                         + " or any table with a position.")
    return rec


def _id_tables(ds: DatastackInfo, tabs: _Tables) -> list[tuple[TableInfo, int, bool | None]]:
    """(table, version, role): the soma table (True) first, for nucleus id and position,
    then cell-type tables (False), then the proofreading table (None) when it has nucleus ids."""
    out: list[tuple[TableInfo, int, bool | None]] = []
    soma = tabs.find(ds.soma_table)
    if soma:
        out.append((soma[0], soma[1], True))
    for name in ds.cell_type_tables:
        # a soma table can carry the cell type too (pinky100's soma_valence)
        hit = soma if (soma and name == ds.soma_table) else tabs.find(name)
        if hit:
            out.append((hit[0], hit[1], False))
    proof = tabs.find(ds.proofreading_table)
    if proof and _nucleus_col(proof[0], False):
        out.append((proof[0], proof[1], None))
    return out


def _root_of_nucleus(tabs: _Tables, id_tables, nucleus: int, cancel) -> int:
    for info, tv, is_soma in id_tables:
        ncol, rcol = _nucleus_col(info, bool(is_soma)), _root_col(info)
        if ncol is None or rcol is None:
            continue
        frame = tabs.rows(info, tv, [Filter(ncol, Op.EQ, nucleus)], [rcol], cancel).frame
        roots = [int(r) for r in frame[rcol].tolist() if r is not None and int(r) != 0]
        if roots:
            return roots[0]
    raise NotFoundError(f"Nucleus {nucleus} is not in the soma or cell-type tables of "
                        f"'{tabs.datastack}' v{tabs.version}.",
                        hint="Check the id, or type the cell's root id instead.")


def _set_soma(rec: CellRecord, ds: DatastackInfo, info: TableInfo, col: str, pos, tv, v):
    if pos is None:
        return
    p = np.asarray(pos, dtype=float).reshape(-1)
    if p.size != 3 or not np.isfinite(p).all():
        return
    res = np.asarray(info.voxel_resolution, dtype=float)
    col_info = info.column(col)
    nm = p if (col_info and col_info.units == "nm") else p * res
    vx = nm / np.asarray(ds.voxel_resolution, dtype=float)
    rec.soma_position_vx = tuple(float(x) for x in vx)
    rec.soma_position_nm = tuple(float(x) for x in nm)
    tf = DepthTransform.from_manifest(ds.transform)
    depth = tf.depth_um([nm], units="nm")[0]
    rec.depth_um = None if np.isnan(depth) else float(depth)
    if info.name != ds.soma_table:
        rec.notes.append(f"Soma position from {_where(info.name, tv, v)}.")
    if rec.depth_um is None:
        rec.notes.append("Depth unknown: " + tf.describe() + ".")


def _proofreading(rec: CellRecord, ds: DatastackInfo, tabs: _Tables, cancel) -> None:
    hit = tabs.find(ds.proofreading_table)
    if not hit:
        if ds.proofreading_table:
            rec.notes.append(f"Proofreading table '{ds.proofreading_table}' is not available.")
        return
    info, tv = hit
    rcol = _root_col(info)
    if rcol is None:
        return
    frame = tabs.rows(info, tv, [Filter(rcol, Op.EQ, rec.root_id)], (), cancel).frame
    for _, row in frame.iterrows():
        raw = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()
               if not isinstance(v, (list, np.ndarray))}

        def pick(*names):
            return next((str(raw[n]) for n in names if raw.get(n) is not None), None)
        rec.proofreading.append(ProofreadingStatus(
            _where(info.name, tv, tabs.version),
            status=pick("status"),
            axon_status=pick("status_axon", "axon_status"),
            dendrite_status=pick("status_dendrite", "dendrite_status"),
            strategy_axon=pick("strategy_axon"), strategy_dendrite=pick("strategy_dendrite"),
            raw=raw))


def _synapse_counts(rec: CellRecord, ds: DatastackInfo, tabs: _Tables, cancel) -> None:
    hit = tabs.find(ds.synapse_table)
    if not hit:
        rec.notes.append("No synapse table" + (f" '{ds.synapse_table}'" if ds.synapse_table
                                               else "") + ": synapse counts unknown.")
        return
    info, tv = hit
    if not {"pre_pt_root_id", "post_pt_root_id"} <= set(info.kinds):
        rec.notes.append(f"{info.name} has no pre/post root id columns: counts unknown.")
        return
    rec.synapse_table = _where(info.name, tv, tabs.version)
    for own, partner, n_attr, p_attr in (("post_pt_root_id", "pre_pt_root_id",
                                          "n_input_synapses", "n_input_partners"),
                                         ("pre_pt_root_id", "post_pt_root_id",
                                          "n_output_synapses", "n_output_partners")):
        res = tabs.rows(info, tv, [Filter(own, Op.EQ, rec.root_id)], [partner], cancel)
        setattr(rec, n_attr, len(res.frame))
        setattr(rec, p_attr, int(res.frame[partner].nunique()))
        if res.truncated:
            rec.notes.append(f"{n_attr.replace('_', ' ')[2:]}: the server's row limit cut the "
                             f"answer; the true count is larger than {len(res.frame):,}.")
    if tabs.local:
        rec.notes.append(f"Synapse counts are of the rows in the local table {rec.synapse_table}"
                         + (f": {info.description}" if info.description else "."))


def fetch_cell_synapses(source: DataSource, datastack: str, root_id, version: int | None = None,
                        inputs: bool = True, outputs: bool = True,
                        cancel: CancelToken | None = None):
    """The cell's synapse rows (for a synapse link): one filtered query per direction.

    Returns (frame, notes). Rows are de-duplicated by ``id`` (an autapse is both an input
    and an output).
    """
    import pandas as pd
    rid = parse_cell_id(root_id)
    ds = source.datastack_info(datastack)
    v = source.default_version(datastack) if version is None else int(version)
    tabs = _Tables(source, datastack, v)
    hit = tabs.find(ds.synapse_table)
    if not hit:
        raise NotFoundError(f"Datastack '{datastack}' has no synapse table at v{v}.",
                            hint="Name one as synapse_table in the manifest.")
    info, tv = hit
    wanted = ("id", "pre_pt_root_id", "post_pt_root_id", "size", "ctr_pt_position")
    frames, notes = [], []
    for on, flag, label in (("post_pt_root_id", inputs, "input"),
                            ("pre_pt_root_id", outputs, "output")):
        if not flag:
            continue
        res = tabs.rows(info, tv, [Filter(on, Op.EQ, rid)], wanted, cancel)
        frames.append(res.frame)
        if res.truncated:
            notes.append(f"The server's row limit cut the {label} synapses: not all are shown.")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=wanted)
    if "id" in frame.columns:
        frame = frame.drop_duplicates("id", ignore_index=True)
    if tv != v:
        notes.append(f"Synapses from {info.name} v{tv}.")
    return frame, notes


# ----------------------------------------------------------------------------- staleness
def root_id_status(client, root_id, server: str = "the CAVE server") -> RootIdStatus:
    """Is ``root_id`` current on the chunkedgraph? If not, the id that replaced it.

    ``client`` is duck-typed: ``client.chunkedgraph.is_latest_roots`` and
    ``suggest_latest_roots`` (caveclient's CAVEclient, or a test double).
    """
    from services.cave_errors import map_exception
    rid = parse_cell_id(root_id)
    try:
        latest = bool(np.asarray(client.chunkedgraph.is_latest_roots([rid])).reshape(-1)[0])
        if latest:
            return RootIdStatus(rid, True, rid, message=f"{rid} is the current root id.")
        suggested = int(client.chunkedgraph.suggest_latest_roots(rid))
    except CavernError:
        raise
    except Exception as exc:  # one typed error for network, auth or server faults
        raise map_exception(exc, "checking whether the root id is current", server) from None
    return RootIdStatus(rid, False, suggested,
                        message=f"{rid} has been edited since; its current id is {suggested}.")


def local_root_id_status(source: DataSource, datastack: str, root_id,
                         cancel: CancelToken | None = None) -> RootIdStatus:
    """On a local datastack: the versions whose soma/cell-type/proofreading/synapse
    tables hold this root id (a local folder cannot say whether it is current)."""
    rid = parse_cell_id(root_id)
    ds = source.datastack_info(datastack)
    names = [ds.soma_table, *ds.cell_type_tables, ds.proofreading_table, ds.synapse_table]
    found: list[int] = []
    for vi in source.versions(datastack):
        tables = {t.name: t for t in source.tables(datastack, vi.version)}
        if _version_holds(source, datastack, vi.version, tables, names, rid, cancel):
            found.append(vi.version)
    if found:
        vs = ", ".join(f"v{x}" for x in found)
        msg = f"{rid} appears in version{'s' if len(found) > 1 else ''} {vs} of {datastack}."
    else:
        msg = f"{rid} is in none of the soma, cell-type, proofreading or synapse tables."
    return RootIdStatus(rid, None, None, tuple(found), msg)


def _version_holds(source, datastack, v, tables, names: Iterable[str], rid, cancel) -> bool:
    for name in dict.fromkeys(n for n in names if n):
        info = tables.get(name)
        if info is None:
            continue
        cols = [c for c in ("pt_root_id", "pre_pt_root_id", "post_pt_root_id") if c in info.kinds]
        for c in cols:
            spec = QuerySpec(name, datastack, v, filters=(Filter(c, Op.EQ, rid),),
                             columns=(c,), limit=1, is_view=info.kind == "view")
            if len(source.query(spec, cancel).frame):
                return True
    return False
