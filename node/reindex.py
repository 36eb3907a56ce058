"""Re-indexing a node's stored records under its current keys.

Used during a rotation of the federation secret: after a node is given the
new secret as ``federation_secret_rotation`` it indexes new records under
both secrets, and ``reindex`` brings the records it already holds to the same
state; after the old secret is dropped, ``reindex`` removes its tokens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from node.config import NodeConfig
from node.encodings import prepare_record
from node.store import NodeStore, UpsertCounts

BATCH = 500


def reindex(config: NodeConfig, now: dt.datetime,
            progress: Callable[[int], None] | None = None) -> UpsertCounts:
    keys = config.keyring().all()
    store = NodeStore.open(config.database_url, auto_migrate=config.auto_migrate)
    counts = UpsertCounts()
    try:
        batch = []
        for record in store.iter_records():
            batch.append(prepare_record(record, keys, config.default_region))
            if len(batch) >= BATCH:
                counts = counts + store.upsert(batch, now)
                if progress:
                    progress(len(batch))
                batch.clear()
        if batch:
            counts = counts + store.upsert(batch, now)
            if progress:
                progress(len(batch))
    finally:
        store.close()
    return counts
