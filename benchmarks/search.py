"""Search latency, fan-out scaling and throughput, each beside its bare floor.

Real path: the investigator's tool -> ``gw_pd``'s node (gateway: normalise,
tokenise) -> hub (mTLS + JWT, search and scope policy, fan-out, merge,
durable audit append) -> 1, 4 or 8 nodes (policy, index lookup, scoring,
pointer issuing), every hop real mutual TLS gRPC between separate processes.

Floors, measured in the same run, interleaved with the real path, each
server its own process, same mutual TLS and certificates:

* ``fanout-N``: the client calls ``Echo`` on N echo servers concurrently and
  waits for all (the issue's floor: a bare grpc.aio fan-out to N servers);
* ``path-4``: the real path's shape with nothing in it: client -> relay ->
  relay -> 4 echo servers (reported for context: it shows what three hops
  of TLS gRPC cost before any Accord work);
* ``echo``: one echo RPC (throughput floor: 64 in flight).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc

from accord.cli.federation import free_ports
from accord.rpc import channel_options
from accord.v1 import common_pb2, hub_pb2, node_pb2, node_pb2_grpc
from benchmarks import federation, floor
from benchmarks.stats import median, peak_rss_mib, percentile, rounded, verdict
from node.config import NodeConfig
from node.encodings import encode_query
from node.tokens import Query

Call = Callable[[], Awaitable[Any]]


def payload_size(fed: federation.Federation) -> int:
    """Bytes of the hub SearchRequest the gateway sends for the benchmark query."""
    config = NodeConfig.load(fed.node_config(federation.GATEWAY))
    encoded = encode_query(Query(**federation.QUERY), config.keyring().for_agreement("fan-4"), "US")
    request = hub_pb2.SearchRequest(
        case_number="BENCH-1", purpose="human_trafficking", agreement="fan-4",
        tokens=[t.to_proto() for t in encoded.tokens],
        filters=[common_pb2.BloomFilter(kind=int(k), bits=b) for k, b in encoded.filters])
    return len(request.SerializeToString())


class Floors:
    """Eight echo servers and two relays, each its own process."""

    def __init__(self, fed: federation.Federation, logs: Path) -> None:
        tls = federation.node_tls(fed, federation.NODES)
        ports = free_ports(10)
        self.echo = [f"127.0.0.1:{p}" for p in ports[:8]]
        self.procs = [floor.spawn(p, t, logs / f"echo{i}.out")
                      for i, (p, t) in enumerate(zip(ports[:8], tls, strict=True))]
        hub_relay, gw_relay = ports[8], ports[9]
        self.procs.append(floor.spawn(hub_relay, tls[0], logs / "relay-hub.out",
                                      downstream=self.echo[:4], method=floor.ECHO))
        self.procs.append(floor.spawn(gw_relay, tls[1], logs / "relay-gw.out",
                                      downstream=[f"127.0.0.1:{hub_relay}"], method=floor.RELAY))
        self.relay = f"127.0.0.1:{gw_relay}"
        self.client_tls = federation.node_tls(fed, [federation.GATEWAY])[0]

    async def wait(self) -> None:
        await asyncio.gather(*(floor.wait_ready(t, self.client_tls)
                               for t in [*self.echo, self.relay]))

    def stop(self) -> None:
        from accord.cli.procs import stop_all

        stop_all(self.procs)


class Clients:
    """Long-lived channels to the gateway and the floor servers, and one call of each kind."""

    def __init__(self, running: federation.Running, floors: Floors, payload: bytes) -> None:
        creds = running.tls.channel_credentials()
        self._channels = [grpc.aio.secure_channel(running.gateway, creds, options=channel_options())]
        gateway = node_pb2_grpc.GatewayServiceStub(self._channels[0])
        self._meta = (("authorization", f"Bearer {running.token}"),)
        self._search = gateway.LocalSearch
        echo_channels = [grpc.aio.secure_channel(t, creds, options=channel_options())
                         for t in floors.echo]
        relay_channel = grpc.aio.secure_channel(floors.relay, creds, options=channel_options())
        self._channels += [*echo_channels, relay_channel]
        self._echo = [ch.unary_unary(floor.ECHO) for ch in echo_channels]
        self._relay = relay_channel.unary_unary(floor.RELAY)
        self._payload = payload
        self._requests = {w: node_pb2.LocalSearchRequest(
            case_number="BENCH-1", purpose="human_trafficking",
            agreement=federation.agreement_id(w), **federation.QUERY) for w in federation.WIDTHS}

    async def search(self, width: int) -> node_pb2.LocalSearchResponse:
        return await self._search(self._requests[width], timeout=30, metadata=self._meta)

    async def fanout(self, width: int) -> None:
        await asyncio.gather(*(echo(self._payload, timeout=30) for echo in self._echo[:width]))

    async def path4(self) -> None:
        await self._relay(self._payload, timeout=30)

    async def echo(self) -> None:
        await self._echo[0](self._payload, timeout=30)

    async def close(self) -> None:
        await asyncio.gather(*(ch.close() for ch in self._channels))


async def _timed(call: Call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def _saturate(call: Call, in_flight: int, seconds: float) -> float:
    """Completed calls per second with ``in_flight`` concurrent callers."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await call()
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return done / (time.perf_counter() - t0)


async def check(clients: Clients) -> None:
    """Every width finds its target at every node: the benchmark measures real work."""
    for width in federation.WIDTHS:
        response = await clients.search(width)
        statuses = {n.agency: hub_pb2.NodeStatusCode.Name(n.code) for n in response.result.nodes}
        ok = [a for a, s in statuses.items() if s == "NODE_STATUS_CODE_OK"]
        if len(ok) != width or len(response.result.pointers) < width:
            raise RuntimeError(f"fan-{width}: nodes {statuses}, "
                               f"{len(response.result.pointers)} pointers")


async def latency(clients: Clients, rounds: int, per_round: int) -> dict[str, Any]:
    """Interleaved rounds: each round times every variant, in a rotating order."""
    variants: dict[str, Call] = {
        **{f"search-{w}": (lambda w=w: clients.search(w)) for w in federation.WIDTHS},
        **{f"fanout-{w}": (lambda w=w: clients.fanout(w)) for w in federation.WIDTHS},
        "path-4": clients.path4,
    }
    names = list(variants)
    for name in names:  # warm-up: channels, caches, first-use imports
        await _timed(variants[name], 20)
    per_round_stats: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    pooled: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            samples = await _timed(variants[name], per_round)
            pooled[name] += samples
            per_round_stats[name].append({"p50": percentile(samples, 0.5),
                                          "p99": percentile(samples, 0.99)})
    summary: dict[str, Any] = {}
    for name in names:
        rs = per_round_stats[name]
        summary[name] = {"p50_ms": rounded(median([x["p50"] for x in rs])),
                         "p99_ms": rounded(median([x["p99"] for x in rs])),
                         "pooled_p50_ms": rounded(percentile(pooled[name], 0.5)),
                         "pooled_p99_ms": rounded(percentile(pooled[name], 0.99)),
                         "samples": len(pooled[name])}

    def ratio(a: str, b: str, q: str) -> float:
        return median([x[q] / y[q] for x, y in zip(per_round_stats[a], per_round_stats[b],
                                                    strict=True)])

    scaling = median([
        (s8["p50"] / s1["p50"]) / (f8["p50"] / f1["p50"])
        for s8, s1, f8, f1 in zip(per_round_stats["search-8"], per_round_stats["search-1"],
                                  per_round_stats["fanout-8"], per_round_stats["fanout-1"],
                                  strict=True)])
    return {
        "rounds": rounds, "per_round": per_round, "variants": summary,
        "search_p50": {"value_ms": summary["search-4"]["p50_ms"],
                       "baseline_ms": summary["fanout-4"]["p50_ms"],
                       **verdict(ratio("search-4", "fanout-4", "p50"), 2.0, at_most=True)},
        "search_p99": {"value_ms": summary["search-4"]["p99_ms"],
                       "baseline_ms": summary["fanout-4"]["p99_ms"],
                       **verdict(ratio("search-4", "fanout-4", "p99"), 2.5, at_most=True)},
        "search_p50_vs_path": {"value_ms": summary["search-4"]["p50_ms"],
                               "baseline_ms": summary["path-4"]["p50_ms"],
                               "ratio": rounded(ratio("search-4", "path-4", "p50"))},
        "scaling": {"value": rounded(median([x["p50"] / y["p50"] for x, y in zip(
                        per_round_stats["search-8"], per_round_stats["search-1"], strict=True)])),
                    "baseline": rounded(median([x["p50"] / y["p50"] for x, y in zip(
                        per_round_stats["fanout-8"], per_round_stats["fanout-1"], strict=True)])),
                    **verdict(scaling, 1.15, at_most=True)},
    }


async def throughput(clients: Clients, running: federation.Running, rounds: int,
                     seconds: float, in_flight: int = 64) -> dict[str, Any]:
    """Saturated searches/s (fan-4) and echo RPCs/s, ``in_flight`` each, interleaved."""
    await _saturate(lambda: clients.search(4), in_flight, 1.0)  # warm-up
    real, bare = [], []
    for r in range(rounds):
        pair: list[tuple[list[float], Call]] = [(real, lambda: clients.search(4)),
                                                (bare, clients.echo)]
        for out, call in (pair if r % 2 == 0 else pair[::-1]):
            out.append(await _saturate(call, in_flight, seconds))
    ratios = [a / b for a, b in zip(real, bare, strict=True)]
    return {"in_flight": in_flight, "rounds": rounds, "seconds_each": seconds,
            "searches_per_second": [round(x, 1) for x in real],
            "echo_per_second": [round(x, 1) for x in bare],
            "value": round(median(real), 1), "baseline": round(median(bare), 1),
            **verdict(median(ratios), 0.25, at_most=False),
            "hub_peak_rss_mib": peak_rss_mib(running.hub.pid),
            "gateway_peak_rss_mib": peak_rss_mib(running.nodes[federation.GATEWAY].pid),
            "node_1_peak_rss_mib": peak_rss_mib(running.nodes["node_1"].pid)}


def _log_offsets(fed: federation.Federation) -> dict[Path, int]:
    logs = [fed.root / "hub" / "hub.log",
            *(fed.root / "nodes" / a / "node.log" for a in (federation.GATEWAY, *federation.NODES))]
    return {p: p.stat().st_size if p.exists() else 0 for p in logs}


def _rpc_durations(path: Path, offset: int, rpc: str) -> list[float]:
    out = []
    with path.open("rb") as f:
        f.seek(offset)
        for line in f:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("event") == "rpc" and doc.get("rpc") == rpc and "duration_ms" in doc:
                out.append(float(doc["duration_ms"]))
    return out


async def breakdown(clients: Clients, fed: federation.Federation, n: int) -> dict[str, Any]:
    """Where a sequential 4-node search's time goes, from the servers' own timings.

    Each server logs one line per RPC with its duration; the hub's audit entry
    records the search's duration up to the durable commit. Medians over ``n``
    searches, in ms: the client's round trip, the gateway's LocalSearch, the
    hub's Search (of which: before the audit commit, and the commit), and the
    nodes' MatchTokens.
    """
    import sqlite3

    offsets = _log_offsets(fed)
    hub_db = fed.root / "hub" / "hub.db"
    with sqlite3.connect(hub_db) as conn:
        (start_seq,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_entries").fetchone()
    client = await _timed(lambda: clients.search(4), n)
    await asyncio.sleep(0.5)  # let the servers' log lines reach their files
    gateway = _rpc_durations(fed.root / "nodes" / federation.GATEWAY / "node.log",
                             offsets[fed.root / "nodes" / federation.GATEWAY / "node.log"],
                             "LocalSearch")
    hub = _rpc_durations(fed.root / "hub" / "hub.log", offsets[fed.root / "hub" / "hub.log"],
                         "Search")
    nodes = [d for a in federation.NODES[:4]
             for d in _rpc_durations(fed.root / "nodes" / a / "node.log",
                                     offsets[fed.root / "nodes" / a / "node.log"], "MatchTokens")]
    with sqlite3.connect(hub_db) as conn:
        docs = [json.loads(e) for (e,) in conn.execute(
            "SELECT entry FROM audit_entries WHERE seq > ? AND event = 'search'", (start_seq,))]
    before_commit = [float(d["details"]["duration_ms"]) for d in docs]
    fanout = [max(v["latency_ms"] for v in d["details"]["nodes"].values()) for d in docs]
    hub_p50, pre_p50 = median(hub), median(before_commit)
    return {"searches": n,
            "client_round_trip_ms": rounded(median(client)),
            "gateway_local_search_ms": rounded(median(gateway)),
            "hub_search_ms": rounded(hub_p50),
            "hub_before_audit_commit_ms": rounded(pre_p50),
            "hub_fan_out_slowest_node_ms": rounded(median(fanout)),
            "hub_audit_commit_ms": rounded(hub_p50 - pre_p50),
            "node_match_tokens_ms": rounded(median(nodes))}


async def run(root: Path, *, records: int, rounds: int, per_round: int,
              tput_rounds: int, tput_seconds: float,
              before_stop: Callable[[federation.Running], Awaitable[None]] | None = None,
              ) -> dict[str, Any]:
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fed = federation.build(root, records)
    built = time.perf_counter() - t0
    running = await federation.start(fed, logs)
    floors = Floors(fed, logs)
    try:
        await floors.wait()
        payload = bytes(payload_size(fed))
        clients = Clients(running, floors, payload)
        try:
            await check(clients)
            lat = await latency(clients, rounds, per_round)
            where = await breakdown(clients, fed, max(50, per_round))
            tput = await throughput(clients, running, tput_rounds, tput_seconds)
            if before_stop is not None:
                await before_stop(running)
        finally:
            await clients.close()
    finally:
        floors.stop()
        running.stop()
    return {"records_per_node": records, "build_seconds": round(built, 1),
            "payload_bytes": len(payload),
            "tls": "mutual TLS (federation CA, ECDSA certificates) on every hop, real and floor",
            "latency": lat, "throughput": tput, "breakdown": where}
