"""What every view of a context shares: the Workspace it shows (napari's ViewerModel and
glue's DataCollection are the pattern). The main window emits ``contextChanged(ws)``;
a view keeps the workspace and reads source, datastack and version from it."""
from __future__ import annotations


class WorkspaceView:
    """Mixin for panels that observe the main window's Workspace."""

    ws = None  # services.workspace.Workspace, or None before a datastack is open

    @property
    def source(self):
        return None if self.ws is None else self.ws.source

    @property
    def datastack(self) -> str:
        return "" if self.ws is None else self.ws.datastack

    @property
    def version(self):
        return None if self.ws is None else self.ws.requested_version
