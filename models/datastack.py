"""What a data source says about a datastack, its versions and tables."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: str  # models.filters kinds: int, float, string, bool, position, time
    dtype: str = ""  # storage type as the source reports it (int64, list<int64>[3], ...)
    units: str = ""  # for positions: "vx" (at the table's voxel resolution) or "nm"


@dataclass(frozen=True)
class TableInfo:
    name: str
    description: str = ""
    schema: str = ""  # CAVE schema type, e.g. synapse, cell_type_local
    kind: str = "table"  # "table" or "view"
    columns: tuple[ColumnInfo, ...] = ()
    row_count: int | None = None
    voxel_resolution: tuple[float, float, float] = (4.0, 4.0, 40.0)
    reference_table: str = ""
    notice_text: str = ""
    provenance: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def kinds(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.columns}

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def position_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "position"]


@dataclass(frozen=True)
class VersionInfo:
    version: int
    timestamp: datetime | None = None
    expires: datetime | None = None
    description: str = ""
    # a local version: the CAVE materialization version its rows came from, when the
    # manifest says so (per-version key "cave_version"); None: unknown or none
    cave_version: int | None = None

    def tooltip(self) -> str:
        parts = [self.description] if self.description else []
        if self.timestamp:
            parts.append(f"materialized {self.timestamp:%Y-%m-%d %H:%M} UTC")
        if self.expires:
            parts.append(f"expires {self.expires:%Y-%m-%d}")
        return "; ".join(parts)

    def label(self) -> str:
        when = f" · {self.timestamp:%Y-%m-%d %H:%M}" if self.timestamp else ""
        if self.version == 0 and self.description:
            # e.g. the sample's bucket of rows whose version their source does not state
            return f"v0 ({self.description.split(':')[0]})"
        return f"v{self.version}{when}"


@dataclass(frozen=True)
class DatastackInfo:
    """A datastack as a manifest (local) or the CAVE info service describes it."""

    name: str
    description: str = ""
    voxel_resolution: tuple[float, float, float] = (4.0, 4.0, 40.0)
    image_source: str = ""
    segmentation_source: str = ""
    synapse_table: str = ""
    soma_table: str = ""
    cell_type_tables: tuple[str, ...] = ()
    proofreading_table: str = ""
    viewer_site: str = ""
    credits: str = ""
    # a local datastack: the CAVE datastack its rows came from, when the manifest says so
    # (key "cave_datastack", e.g. "minnie65_public"); "": none (Copy as Python says so)
    cave_datastack: str = ""
    transform: dict = field(default_factory=dict, compare=False, hash=False)
    extra: dict = field(default_factory=dict, compare=False, hash=False)
