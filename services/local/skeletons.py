"""Skeletons of a local datastack: ``<folder>/skeletons/<root id>.json`` or ``.json.gz`` (the
CAVE skeleton service's dict, vertices in nm) or ``<root id>.swc`` (SWC, nm). A datastack's manifest may
name another folder with ``"skeletons": "<folder>"``."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from models.errors import DataSourceError
from services.morphology.skeleton import Skeleton


def skeleton_folder(datastack_folder: Path, manifest_value: str | None = None) -> Path:
    return Path(datastack_folder) / (manifest_value or "skeletons")


def read_skeleton(datastack_folder: Path, root_id: int,
                  manifest_value: str | None = None) -> Skeleton | None:
    """The skeleton of ``root_id`` in the datastack's skeletons folder, or None."""
    folder = skeleton_folder(datastack_folder, manifest_value)
    rid = int(root_id)
    js, gz, swc = folder / f"{rid}.json", folder / f"{rid}.json.gz", folder / f"{rid}.swc"
    try:
        for path, read in ((js, Path.read_bytes), (gz, lambda f: gzip.decompress(f.read_bytes()))):
            if path.is_file():
                return Skeleton.from_dict(json.loads(read(path)), rid,
                                          source=f"{folder.name}/{path.name}")
        if swc.is_file():
            import pandas as pd
            frame = pd.read_csv(swc, sep=r"\s+", comment="#", header=None,
                                names=["id", "type", "x", "y", "z", "radius", "parent"])
            return Skeleton.from_swc(frame, rid, source=f"{folder.name}/{swc.name}")
    except (OSError, ValueError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataSourceError(f"The skeleton file of {rid} could not be read: {exc}.",
                              hint=f"Check {folder}.") from None
    return None
