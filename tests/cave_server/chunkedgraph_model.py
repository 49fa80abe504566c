"""Root-id history for the test chunkedgraph: which ids are latest and what replaced them."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

ROOT_CREATED = datetime(2019, 1, 1, tzinfo=timezone.utc)
CHUNK_BASE = 1 << 60  # synthetic chunk ids stay far from any real root or supervoxel id


class RootHistory:
    def __init__(self, updates: dict | None = None, update_time: datetime | None = None):
        self.updates = {int(k): [int(n) for n in v] for k, v in (updates or {}).items()}
        self.update_time = update_time or datetime(2024, 1, 1, tzinfo=timezone.utc)
        self.newer = {n: o for o, news in self.updates.items() for n in news}
        self.svid_roots: dict[int, int] = {}
        # Root ids the graph holds: the served tables' and the updates' ids. PyChunkedGraph
        # answers is_latest_roots False for an id it has no root row for (an unknown id, or
        # a supervoxel), so made-up ids are not "latest" here either.
        self.known_roots: set[int] = set(self.updates) | set(self.newer)
        self._chunks: dict[int, int] = {}
        self._lock = threading.Lock()

    def add_supervoxels(self, pairs):
        for sv, root in pairs:
            if sv:
                self.svid_roots[int(sv)] = int(root)

    def add_roots(self, roots):
        for r in roots:
            if r is not None and r == r and int(r) != 0:
                self.known_roots.add(int(r))

    def is_latest(self, root: int, when: datetime | None) -> bool:
        when = when or datetime.now(timezone.utc)
        if root not in self.known_roots:
            return False
        if root in self.updates and when >= self.update_time:
            return False
        if root in self.newer and when < self.update_time:
            return False
        return True

    def root_time(self, root: int, latest: bool, when: datetime) -> datetime:
        if latest:
            return self.update_time if root in self.updates else when
        return self.update_time if root in self.newer else ROOT_CREATED

    def past_ids(self, root: int) -> list[int]:
        return [self.newer[root]] if root in self.newer else [root]

    def latest_of(self, root: int, when: datetime | None) -> int:
        while root in self.updates and not self.is_latest(root, when):
            root = self.updates[root][0]
        return root

    def root_of(self, node: int, when: datetime | None) -> int:
        if node in self._chunks:
            return self.latest_of(self._chunks[node], when)
        root = self.svid_roots.get(node)
        return 0 if root is None else self.latest_of(root, when)

    def leaves(self, root: int) -> list[int]:
        """Chunk ids of a root; for an updated root, split among its successors."""
        owners = []
        news = self.updates.get(root, [])
        for rank, new in enumerate(news):
            owners += [new] * (2 * (len(news) - rank))
        owners = owners or [root] * 4
        out = []
        with self._lock:
            for i, owner in enumerate(owners):
                chunk = CHUNK_BASE + (root % (1 << 40)) * 64 + i
                self._chunks[chunk] = owner
                out.append(chunk)
        return out

    def lineage(self, roots) -> dict:
        nodes, links = {}, []
        for root in roots:
            for old in [root] + self.past_ids(root):
                for new in self.updates.get(old, []):
                    links.append({"source": old, "target": new})
                    nodes[new] = self.update_time.timestamp()
                nodes.setdefault(old, (self.update_time if old in self.newer
                                       else ROOT_CREATED).timestamp())
        return {"directed": True, "multigraph": False, "graph": {},
                "nodes": [{"id": n, "timestamp": t, "operation_id": 1} for n, t in nodes.items()],
                "links": links}
