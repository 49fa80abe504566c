"""Is a root id current? The chunkedgraph's answer, at the time of the version read.

Root ids change with proofreading: an id of materialization v795 may have been replaced
since. Checked at the version's timestamp (``get_timestamp``), an id is "current" when it
is the latest at that time; its successor is suggested at that time too, and the
suggestion is re-checked with ``is_latest_roots`` (PyChunkedGraph answers False for ids it
does not know, so an unknown id is never reported as current).
"""
from __future__ import annotations

from datetime import datetime

import numpy as np

from models.cell import RootIdStatus
from models.errors import CavernError, DataSourceError
from models.ids import parse_id
from services.http_errors import map_exception


def root_id_status(client, root_id, server: str = "the CAVE server",
                   timestamp: datetime | None = None) -> RootIdStatus:
    """``client`` is duck-typed: ``client.chunkedgraph.is_latest_roots`` and
    ``suggest_latest_roots`` (caveclient's CAVEclient, or a test double)."""
    rid = parse_id(root_id)
    at = {} if timestamp is None else {"timestamp": timestamp}
    when = "" if timestamp is None else f" at {timestamp:%Y-%m-%d %H:%M} UTC"
    try:
        cg = client.chunkedgraph
        if _latest(cg, rid, at):
            now = None
            if timestamp is not None and not _latest(cg, rid, {}):
                now = int(cg.suggest_latest_roots(rid))
                now = now if now != rid and _latest(cg, now, {}) else None
            msg = f"{rid} is the current root id{when}."
            if now is not None:
                msg += (f" The cell has been edited since; its id today is {now} (live data "
                        f"and Neuroglancer use that one).")
            return RootIdStatus(rid, True, rid, message=msg, edited_since=now)
        suggested = int(cg.suggest_latest_roots(rid, **at))
        confirmed = _latest(cg, suggested, at)
    except CavernError:
        raise
    except Exception as exc:  # one typed error for network, auth or server faults
        raise map_exception(exc, "checking whether the root id is current", server) from None
    if suggested == rid or not confirmed:
        return RootIdStatus(rid, False, None,
                            message=f"{rid} is not a current root id{when} and the server "
                                    f"suggests no current successor (it may be unknown).")
    return RootIdStatus(rid, False, suggested,
                        message=f"{rid} has been edited since; its current id{when} is "
                                f"{suggested}.")


def _latest(cg, rid: int, at: dict) -> bool:
    return bool(np.asarray(cg.is_latest_roots([rid], **at)).reshape(-1)[0])


MAX_SUGGESTIONS = 100  # successors looked up one by one: bounded for a long pasted list
ROOT_CHECK_BATCH = 10_000  # ids per is_latest_roots request (a 100,000-id list: 10 requests)


def stale_root_ids(client, root_ids, server: str = "the CAVE server",
                   timestamp: datetime | None = None) -> dict[int, int | None]:
    """The ids among ``root_ids`` that are not roots at ``timestamp`` (now when None), each
    with its successor at that time where the chunkedgraph suggests a current one (None
    otherwise, and for ids past the first MAX_SUGGESTIONS)."""
    ids = [parse_id(r, "root_ids", "root id") for r in root_ids]
    at = {} if timestamp is None else {"timestamp": timestamp}
    try:
        cg = client.chunkedgraph
        latest = np.concatenate([
            np.asarray(cg.is_latest_roots(ids[k:k + ROOT_CHECK_BATCH], **at),
                       dtype=bool).reshape(-1)
            for k in range(0, len(ids), ROOT_CHECK_BATCH)]) if ids else np.zeros(0, bool)
        if len(latest) != len(ids):
            raise DataSourceError(f"{server} answered {len(latest):,} root-id checks for "
                                  f"{len(ids):,} ids.")
        stale = [i for i, ok in zip(ids, latest) if not ok]
        out: dict[int, int | None] = {}
        for n, rid in enumerate(stale):
            new = int(cg.suggest_latest_roots(rid, **at)) if n < MAX_SUGGESTIONS else None
            out[rid] = new if new is not None and new != rid and _latest(cg, new, at) else None
    except CavernError:
        raise
    except Exception as exc:
        raise map_exception(exc, "checking whether the root ids are current", server) from None
    return out
