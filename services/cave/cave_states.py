"""CaveStates: Neuroglancer states and segment properties, a mixin of :class:`CaveSource`.

Short links: a state is uploaded to, and read back only from, this source's own state
server (the token goes nowhere else). Segment properties: whether the materialization
server serves a cell table's properties, probed once per table and version.

It is not a source on its own: it uses the host's ``client``, ``_service``, ``_call``,
``_mat``, ``_check_version``, ``_lock``, ``_segprops`` and ``server``, all set up by
``CaveSource.__init__``.
"""
from __future__ import annotations

from models.errors import CancelledError, CavernError, InvalidInputError


class CaveStates:
    """The state server (short links) and segment-property sources of a CAVE server."""

    def state_server_name(self) -> str:
        return self.server

    def upload_state(self, datastack: str, state: dict, base_url: str) -> str:
        # The viewer site is named, so caveclient does not ask it over the network.
        client = self.client(datastack)
        self._service(datastack, "state")
        state_id = self._call("uploading the Neuroglancer state",
                              client.state.upload_state_json, state)
        return client.state.build_neuroglancer_url(state_id, base_url, target_site="spelunker")

    def segment_property_source(self, datastack: str, table: str,
                                version: int | None = None) -> str | None:
        # newer materialization servers serve a cell table's segment properties; one probe
        # of its info per table says whether this one does (remembered)
        v = self._check_version(datastack, version)
        key = (datastack, table, v)
        with self._lock:
            if key in self._segprops:
                return self._segprops[key]
        mat = self._mat(datastack)
        try:
            info = self._call(f"asking for the segment properties of {table}",
                              mat.neuroglancer_segprop_info, table, datastack, v)
        except CancelledError:
            raise
        except CavernError:
            info = None
        ok = isinstance(info, dict) and info.get("@type") == "neuroglancer_segment_properties"
        url = mat.neuroglancer_segprop_path(table, datastack, v) if ok else None
        with self._lock:
            self._segprops[key] = url
        return url

    def fetch_state(self, datastack: str, url: str) -> dict:
        # Only this source's own state server is asked: the token goes nowhere else.
        import re
        from urllib.parse import urlsplit
        svc = self._service(datastack, "state")
        here, there = urlsplit(str(svc.server_address)).netloc, urlsplit(url).netloc
        m = re.search(r"/nglstate/(?:api/v1/)?(?:raw/)?(\d+)/?$", urlsplit(url).path)
        if there.lower() != here.lower() or m is None:
            raise InvalidInputError(
                f"This short link's state is at {there or url}, not on {here}'s state "
                "server, so Cavern does not read it (your token goes to your server only).",
                field="url", hint="Connect to the server the link belongs to, or paste the "
                                  "full link.")
        return self._call("reading the Neuroglancer state", svc.get_state_json, int(m.group(1)))
