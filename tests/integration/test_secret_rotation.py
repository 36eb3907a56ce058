"""Rotating the federation secret without downtime.

1. every node adds the new secret as ``federation_secret_rotation`` and
   re-indexes: records are indexed under both secrets, queries still use the old;
2. nodes switch, one at a time: the new secret becomes current, the old one the
   rotation secret; a switched node and one not yet switched find each other's
   records, exactly and approximately;
3. the old secret is dropped and the nodes re-index: queries under the old
   secret find nothing any more.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

from node.config import NodeConfig
from node.reindex import reindex
from node.server import start_node
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation, start_federation, stop_federation
from tests.integration.test_search import cad_call


async def restart(live: LiveFederation, agency: str, config: NodeConfig) -> None:
    await live.nodes[agency].stop(0)
    live.node_configs[agency] = config
    live.nodes[agency] = await start_node(config, clock=lambda: NOW)


async def hits(live: LiveFederation, **query: str) -> list[str]:
    response = await live.search("lakeside_so", **query)
    return [p.agency for p in response.result.pointers]


async def test_federation_secret_rotates_without_losing_matches(tmp_path: Path) -> None:
    live = await start_federation(tmp_path / "fed")
    try:
        live.ingest("rivertown_pd", [cad_call()])
        old = live.node_configs["rivertown_pd"].federation_secret
        new = old.with_name("federation.next.key")
        new.write_bytes(secrets.token_bytes(32))
        exact = {"name": "Jazmin Ramirez", "dob": "1999-03-04"}
        fuzzy = {"name": "Jasmine Ramirez", "dob": "1999-04-03"}
        assert await hits(live, **exact) == ["rivertown_pd"]
        # Control: a node that switched before the owner indexed under the new
        # secret would find nothing (what the rotation steps prevent).
        original = live.node_configs["lakeside_so"]
        await restart(live, "lakeside_so", replace(original, federation_secret=new))
        assert await hits(live, **exact) == []
        await restart(live, "lakeside_so", original)

        # 1. rivertown adds the new secret and re-indexes what it holds.
        owner = replace(live.node_configs["rivertown_pd"], federation_secret_rotation=new)
        counts = reindex(owner, NOW)
        assert (counts.updated, counts.unchanged) == (1, 0)
        await restart(live, "rivertown_pd", owner)
        assert await hits(live, **exact) == ["rivertown_pd"]  # lakeside still queries the old

        # 2. lakeside switches: it queries with the new secret, rivertown still
        #    has the old one as current but indexes under both.
        searcher = replace(live.node_configs["lakeside_so"], federation_secret=new,
                           federation_secret_rotation=old)
        await restart(live, "lakeside_so", searcher)
        assert await hits(live, **exact) == ["rivertown_pd"]
        assert await hits(live, **fuzzy) == ["rivertown_pd"]  # Bloom profiles of both

        # 3. everyone on the new secret alone; rivertown re-indexes.
        owner = replace(owner, federation_secret=new, federation_secret_rotation=None)
        assert reindex(owner, NOW).updated == 1
        await restart(live, "rivertown_pd", owner)
        assert await hits(live, **exact) == ["rivertown_pd"]
        assert await hits(live, **fuzzy) == ["rivertown_pd"]
        # A node still on the old secret finds nothing now.
        stale = replace(live.node_configs["lakeside_so"], federation_secret=old,
                        federation_secret_rotation=None)
        await restart(live, "lakeside_so", stale)
        assert await hits(live, **exact) == []
    finally:
        await stop_federation(live)
