"""The cell inspector's facts as HTML for a QTextBrowser (selectable, copyable text)."""
from __future__ import annotations

import html

from services.cells.cell_inspection import Inspection
from ui.common import styles

MUTED = styles.MUTED


def _fmt_int(v) -> str:
    return f"<span style='color:{MUTED}'>unknown</span>" if v is None else f"{v:,}"


def _unknown(text: str = "unknown") -> str:
    return f"<span style='color:{MUTED}'>{html.escape(text)}</span>"


def _xyz(p) -> str:
    return _unknown() if p is None else ", ".join(f"{v:,.0f}" for v in p)


def facts_html(insp: Inspection) -> str:
    e = html.escape
    r = insp.record
    out = [f"<h3 style='margin:0'>Cell {r.root_id}</h3>"]
    s = insp.status
    if insp.is_stale:
        out.append(f"<p style='color:{styles.NOTE}'><b>Root id not current.</b> {e(s.message)}</p>")
    ident = [("Root id", f"<code>{r.root_id}</code>"),
             ("Nucleus id", _unknown() if r.nucleus_id is None else f"<code>{r.nucleus_id}</code>"),
             ("Datastack", e(r.datastack)),
             ("Version read", _unknown() if r.version is None else f"v{r.version}")]
    if s is not None and s.message:
        ident.append(("Root id status", e(s.message)))
    out.append(_kv(ident))

    out.append("<h4 style='margin-bottom:2px'>Cell types</h4>")
    types = [(e(c.table), e(c.classification_system) or _unknown("—"), f"<b>{e(c.cell_type)}</b>")
             for c in r.cell_types]
    for p in r.proofreading:  # a proofreading table's E/I label is a cell type too
        label = _proofreading_type(p.raw)
        if label:
            types.append((e(p.table), "excitatory/inhibitory (proofreading table)",
                          f"<b>{e(label)}</b>"))
    if types:
        out.append(_table(["Table", "Classification system", "Type"], types))
    else:
        out.append(f"<p>{_unknown('No cell-type table of this datastack lists this cell.')}</p>")

    out.append("<h4 style='margin-bottom:2px'>Proofreading</h4>")
    if r.proofreading:
        whole = any(p.status is not None for p in r.proofreading)
        parts = any(p.axon_status is not None or p.dendrite_status is not None
                    for p in r.proofreading)
        header = ["Table"] + (["Status"] if whole or not parts else []) + (
            ["Axon", "Dendrite"] if parts else [])
        rows = []
        for p in r.proofreading:
            row = [e(p.table)]
            if whole or not parts:  # pinky100's complete_somas: one whole-cell status
                row.append(_status(p.status, None))
            if parts:
                row += [_status(p.axon_status, p.strategy_axon),
                        _status(p.dendrite_status, p.strategy_dendrite)]
            rows.append(row)
        out.append(_table(header, rows))
    else:
        out.append(f"<p>{_unknown('Not in the proofreading table: treat its axon and dendrite as not proofread.')}</p>")

    res = " × ".join(f"{v:g}" for v in r.voxel_resolution)
    depth = _unknown() if r.depth_um is None else f"{r.depth_um:,.1f} µm below pia"
    out.append("<h4 style='margin-bottom:2px'>Soma</h4>")
    at = "" if r.soma_position_vx is None else f" <span style='color:{MUTED}'>at {res} nm/voxel</span>"
    out.append(_kv([("Position (voxels)", _xyz(r.soma_position_vx) + at),
                    ("Position (nm)", _xyz(r.soma_position_nm)),
                    ("Cortical depth", depth)]))

    syn = f" in <i>{e(r.synapse_table)}</i>" if r.synapse_table else ""
    out.append(f"<h4 style='margin-bottom:2px'>Synapses{syn}</h4>")
    out.append(_table(["", "Synapses", "Partner cells"],
                      [("Inputs (onto this cell)", _fmt_int(r.n_input_synapses),
                        _fmt_int(r.n_input_partners)),
                       ("Outputs (from this cell)", _fmt_int(r.n_output_synapses),
                        _fmt_int(r.n_output_partners))], right=True))
    if r.notes:
        out.append("<h4 style='margin-bottom:2px'>Notes</h4><ul style='margin-top:0'>"
                   + "".join(f"<li>{e(n)}</li>" for n in r.notes) + "</ul>")
    return "".join(out)


E_I_COLUMNS = ("cell_type", "cell_type_manual", "allen_e_i", "e_i", "valence", "classification")


def _proofreading_type(raw: dict) -> str | None:
    for name in E_I_COLUMNS:
        v = raw.get(name)
        if v is not None and str(v).strip() and str(v) not in ("nan", "None"):
            return str(v)
    return None


def _status(status, strategy) -> str:
    if status is None:
        return _unknown("—")
    return html.escape(status) + (f" <span style='color:{MUTED}'>({html.escape(strategy)})</span>"
                                  if strategy else "")


def _kv(rows) -> str:
    cells = "".join(f"<tr><td style='color:{MUTED};padding-right:12px'>{k}</td><td>{v}</td></tr>"
                    for k, v in rows)
    return f"<table cellspacing='0' cellpadding='2'>{cells}</table>"


def _table(header, rows, right: bool = False) -> str:
    head = "".join(f"<th align='left' style='padding-right:14px'>{h}</th>" for h in header)
    body = []
    for row in rows:
        tds = []
        for i, v in enumerate(row):
            align = "right" if right and i > 0 else "left"
            tds.append(f"<td align='{align}' style='padding-right:14px'>{v}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (f"<table cellspacing='0' cellpadding='3' border='0'>"
            f"<tr style='background:#eee'>{head}</tr>{''.join(body)}</table>")
