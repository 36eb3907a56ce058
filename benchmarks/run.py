"""Accord benchmarks (`make bench`): speed targets live here, never in tests.

Measures, on this machine:

* ingest throughput end to end (read CSV/JSON Lines through the mapping,
  normalise, tokenise, store in SQLite), in records per second;
* one in-process policy decision (regopy bundle, through the fail-closed
  PolicyPoint), beside the bare gRPC round trip;
* federated search latency over real mTLS servers on loopback (hub and four
  nodes in this process), p50 and p95, beside a bare gRPC round trip (a health
  check to the hub over the same kind of channel) as the floor.

Usage: python -m benchmarks.run [--records N] [--searches N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from accord.cli.federation import default_template, init_federation
from accord.identity import DevIdentityProvider
from accord.logging import configure
from accord.rpc import call, channel_options
from accord.synthetic import DEMO_AGENCIES, STORY, generate
from accord.v1 import node_pb2, node_pb2_grpc
from hub.config import HubConfig
from hub.server import start_hub
from node.config import NodeConfig
from node.ingest.mapping import Mapping
from node.loader import ingest_file
from node.server import start_node
from node.store import NodeStore


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def bench_ingest(root: Path, records: int) -> dict[str, Any]:
    fed = init_federation(root / "fed", DEMO_AGENCIES, now(), base_port=None,
                          template=default_template())
    dataset = generate(root / "data", records_per_source=records)
    total_rows = 0
    started = time.perf_counter()
    for agency in DEMO_AGENCIES:
        config = NodeConfig.load(fed.node_config(agency))
        keys = config.keyring().all()
        store = NodeStore.open(config.database_url)
        try:
            for source in dataset.for_agency(agency):
                report = ingest_file(store, Mapping.load(source.mapping), source.path, keys, now())
                total_rows += report.rows
        finally:
            store.close()
    elapsed = time.perf_counter() - started
    return {"rows": total_rows, "seconds": round(elapsed, 2),
            "rows_per_second": round(total_rows / elapsed)}


async def bench_search(root: Path, searches: int) -> dict[str, Any]:
    fed_root = root / "fed"
    hub_config = HubConfig.load(fed_root / "hub" / "hub.toml")
    # One investigator searching hundreds of times: lift the anti-fishing limits.
    hub_config = replace(hub_config, limits=replace(
        hub_config.limits, search_burst=10**6, agency_search_burst=10**6))
    nodes = [NodeConfig.load(fed_root / "nodes" / a / "node.toml") for a in DEMO_AGENCIES]
    hub = await start_hub(hub_config)
    running = [await start_node(c) for c in nodes]
    me = next(c for c in nodes if c.agency == "lakeside_so")
    idp = DevIdentityProvider.load(fed_root / "idp" / "lakeside_so", "lakeside_so")
    token = idp.issue("bench", ("investigator",), now(), dt.timedelta(minutes=60))
    request = node_pb2.LocalSearchRequest(case_number="BENCH-1", purpose="human_trafficking",
                                          name=STORY.name, dob=STORY.dob.isoformat())
    search_ms: list[float] = []
    floor_ms: list[float] = []
    try:
        async with grpc.aio.secure_channel(me.listen, me.tls.channel_credentials(),
                                           options=channel_options()) as gw, \
                grpc.aio.secure_channel(hub_config.listen, me.tls.channel_credentials(),
                                        options=channel_options()) as hub_channel:
            gateway = node_pb2_grpc.GatewayServiceStub(gw)
            health = health_pb2_grpc.HealthStub(hub_channel)
            for i in range(searches + 5):
                t0 = time.perf_counter()
                await call(gateway.LocalSearch, request, timeout=10,
                           metadata=[("authorization", f"Bearer {token}")])
                t1 = time.perf_counter()
                await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
                t2 = time.perf_counter()
                if i >= 5:  # warm-up
                    search_ms.append((t1 - t0) * 1000)
                    floor_ms.append((t2 - t1) * 1000)
    finally:
        for node in running:
            await node.stop(0)
        await hub.stop(0)
    return {
        "searches": searches,
        "search_p50_ms": round(statistics.median(search_ms), 2),
        "search_p95_ms": round(percentile(search_ms, 0.95), 2),
        "bare_grpc_p50_ms": round(statistics.median(floor_ms), 3),
        "bare_grpc_p95_ms": round(percentile(floor_ms, 0.95), 3),
    }


async def bench_policy(root: Path, decisions: int) -> dict[str, Any]:
    """p50/p95 of one in-process policy decision (regopy, compiled bundle)."""
    from accord.policy.engine import SEARCH, PolicyPoint, RegoEngine, read_policies

    hub_config = HubConfig.load(root / "fed" / "hub" / "hub.toml")
    engine = RegoEngine(read_policies(hub_config.policy.policy_dir),
                        hub_config.agreements.to_policy_data())
    point = PolicyPoint(engine, timeout=5)
    request = {"agreement": "local-pilot", "purpose": "human_trafficking", "case_number": "C-1",
               "now": now().date().isoformat(),
               "principal": {"subject": "u", "agency": "lakeside_so", "roles": ["investigator"]}}
    timings: list[float] = []
    for i in range(decisions + 20):
        t0 = time.perf_counter()
        decision = await point.decide(SEARCH, request)
        if i >= 20:
            timings.append((time.perf_counter() - t0) * 1000)
    assert decision.allow
    return {"decisions": decisions, "p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(percentile(timings, 0.95), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description="Accord benchmarks")
    parser.add_argument("--records", type=int, default=5000, help="records per source file")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        root = Path(tmp)
        configure(json=True, file=root / "bench.log")
        results = {"ingest": bench_ingest(root, ns.records),
                   "search": asyncio.run(bench_search(root, ns.searches)),
                   "policy": asyncio.run(bench_policy(root, 2000))}
    if ns.json:
        print(json.dumps(results, indent=2))
        return
    ing, srch = results["ingest"], results["search"]
    print(f"ingest: {ing['rows']} rows in {ing['seconds']}s = {ing['rows_per_second']} rows/s "
          "(read + map + normalise + tokenise + SQLite, one core)")
    print(f"search: p50 {srch['search_p50_ms']} ms, p95 {srch['search_p95_ms']} ms over "
          f"{srch['searches']} searches (gateway -> hub -> 3 nodes, mTLS, audited)")
    print(f"floor:  bare gRPC round trip p50 {srch['bare_grpc_p50_ms']} ms, "
          f"p95 {srch['bare_grpc_p95_ms']} ms")
    pol = results["policy"]
    verdict = "below" if pol["p50_ms"] < srch["bare_grpc_p50_ms"] else "NOT below"
    print(f"policy: in-process decision p50 {pol['p50_ms']} ms, p95 {pol['p95_ms']} ms "
          f"({verdict} one bare gRPC round trip)")


if __name__ == "__main__":
    main()
