"""CaveSkeletons: the CAVE skeleton service, a mixin of :class:`CaveSource`.

A current root id's skeleton from the skeleton service (through caveclient's endpoint
builder and decoding, without the CloudVolume check), kept in the disk cache beside the
result cache for materialized versions.

It is not a source on its own: it uses the host's ``_call``, ``_service``, ``_ctx``,
``cache`` and ``server``, all set up by ``CaveSource.__init__``.
"""
from __future__ import annotations

from models.errors import DataSourceError, InvalidInputError, NotFoundError
from services.source import CancelToken, check_cancel


class CaveSkeletons:
    """Skeletons of root ids from the CAVE skeleton service."""

    def skeleton(self, datastack: str, root_id: int, version: int | None = None,
                 timestamp=None, cancel: CancelToken | None = None):
        """The skeleton service's skeleton (dict format: vertices nm, edges, root,
        compartment, radius, meta) of a current root id; None when the service has none.

        caveclient 8.2.1's ``get_skeleton`` first asks for an L2 cache and builds a
        CloudVolume (the cloud-volume package, not installed, and the segmentation's
        storage) only to check that the id is a root-layer id: that check is made here from
        the chunkedgraph's info (the id's layer bits), the chunkedgraph's ``is_valid_nodes``
        check is kept, and the request uses caveclient's own endpoint builder and decoding.
        Materialized versions read and fill the disk cache beside the result cache; a
        Cancel frees the caller at once (the request ends on its own thread)."""
        from services.morphology.skeleton import Skeleton
        from services.morphology.skeleton_cache import SkeletonCache
        check_cancel(cancel)
        rid = int(root_id)
        cache = SkeletonCache.beside(self.cache) if version is not None and \
            timestamp is None else None
        hit = cache.get(self.server, datastack, rid, 4) if cache is not None else None
        if hit is not None:
            return Skeleton.from_dict(hit, rid, source="CAVE skeleton service (v4, disk cache)")
        outer = getattr(self._ctx, "cancel", None)
        self._ctx.cancel = cancel
        try:
            skv, d = self._call(f"getting the skeleton of {rid}", self._skeleton_dict,
                                datastack, rid)
        finally:
            self._ctx.cancel = outer
        check_cancel(cancel)
        if d is None:
            return None
        if cache is not None:
            cache.put(self.server, datastack, rid, skv, d)
        return Skeleton.from_dict(d, rid, source=f"CAVE skeleton service (v{skv})")

    def _skeleton_dict(self, datastack: str, rid: int):
        """(skeleton version, the service's dict or None when it has no skeleton)."""
        from caveclient.skeletonservice import SkeletonClient
        from packaging.version import Version
        sk = self._service(datastack, "skeleton")
        cg = self._service(datastack, "chunkedgraph")
        graph = (cg.segmentation_info or {}).get("graph") or {}
        bits, layers = graph.get("n_bits_for_layer_id"), graph.get("n_layers")
        if isinstance(bits, int) and isinstance(layers, int) and 0 < bits < 64 and \
                0 < rid >> (64 - bits) < layers:  # a root id's layer is the top one
            raise InvalidInputError(
                f"{rid} is a layer-{rid >> (64 - bits)} id (a supervoxel or an L2 chunk), "
                "not a root id, so it has no skeleton.", field="root_id",
                hint="Use the cell's root id (pt_root_id), not a supervoxel id.")
        if not cg.is_valid_nodes(rid).all():
            raise NotFoundError(f"{rid} is not a valid root id of {datastack}.",
                                hint="Check the id (a supervoxel id is not a root id).")
        versions = sk.get_versions()
        if versions is None and sk._server_version is None:
            raise NotFoundError(f"{self.server} has no skeleton service (its skeletoncache "
                                "answers 404).", hint="Use a local datastack with skeletons.")
        versions = versions or [4]
        skv = 4 if 4 in versions else max(versions)
        new = sk._server_version is None or sk._server_version >= Version("0.6.0")
        fmt = "flatdict" if new else "jsoncompressed"
        is_async = sk._server_version is None or sk._server_version >= Version("0.13.7")
        url = sk._build_get_skeleton_endpoint(rid, datastack, skv, fmt, is_async, 0)
        response = sk.session.get(url)
        if response.status_code == 404:
            return skv, None
        sk.raise_for_status(response, log_warning=False)
        try:
            d = SkeletonClient.decompressBytesToDict(response.content)
        except (OSError, EOFError, ValueError) as exc:
            raise DataSourceError(f"The skeleton service's answer for {rid} could not be "
                                  f"read ({type(exc).__name__}: {exc}).") from None
        if not isinstance(d, dict):
            raise DataSourceError(f"The skeleton service's answer for {rid} is not a "
                                  "skeleton.")
        d.update(d.pop("vertex_properties", None) or {})
        return skv, d


# the same as cave_source's: a mixin does not import its host

