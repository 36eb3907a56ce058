"""Prometheus metrics for the hub and the nodes, one registry per server.

Each server owns a :class:`Metrics` (so several servers in one process, as in
the tests, never mix their numbers) and serves it over HTTP at ``/metrics`` on
its configured ``metrics_listen`` address. Labels never carry identifiers:
only agencies, RPC methods, status codes, outcomes and reason codes.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from accord.errors import ConfigError

#: How often the endpoint's thread looks for a stop request: stopping a server
#: waits up to this long (prometheus_client's own server polls every 0.5 s, and
#: every stop of a hub or node waited for it).
STOP_POLL_SECONDS = 0.02

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """Every metric Accord exports; the hub uses some, a node others."""

    def __init__(self, component: str) -> None:
        self.registry = CollectorRegistry()
        self.component = component
        r = self.registry
        self.rpc_requests = Counter("accord_rpc_requests", "RPCs served, by method and status code",
                                    ["method", "code"], registry=r)
        self.rpc_seconds = Histogram("accord_rpc_duration_seconds", "RPC latency", ["method"],
                                     buckets=_LATENCY_BUCKETS, registry=r)
        self.searches = Counter("accord_searches", "Searches, by outcome", ["outcome"], registry=r)
        self.denials = Counter("accord_denials", "Refusals, by reason code", ["reason"], registry=r)
        self.releases = Counter("accord_release_events", "Release workflow events", ["event"],
                                registry=r)
        self.node_requests = Counter("accord_node_requests",
                                     "Hub calls to member nodes, by agency and status",
                                     ["agency", "status"], registry=r)
        self.node_seconds = Histogram("accord_node_latency_seconds",
                                      "Latency of member nodes' answers", ["agency"],
                                      buckets=_LATENCY_BUCKETS, registry=r)
        self.audit_appends = Counter("accord_audit_appends", "Audit entries committed",
                                     registry=r)
        self.pointers = Counter("accord_pointers_issued", "Match pointers issued by this node",
                                registry=r)
        self.linked_pointers = Counter("accord_linked_pointers",
                                       "Pointers found by second-level sweeps", registry=r)
        self.deconflictions = Counter("accord_deconflictions",
                                      "Searches that met another agency's recent search of the "
                                      "same subject", registry=r)
        self.revocations = Gauge("accord_revocations_in_force",
                                 "Entries of the revocation list the hub enforces", registry=r)
        self.revocations_rejected_now = Gauge(
            "accord_revocations_file_rejected",
            "1 while the revocations file on disk is rejected (the list before it is enforced)",
            registry=r)
        self.revocation_files = Counter("accord_revocation_files",
                                        "Revocations files read at start or reload, by outcome "
                                        "(applied, rejected)", ["outcome"], registry=r)
        self.watch_notifications = Counter("accord_watch_notifications",
                                           "Records reported by watches", registry=r)


@dataclass
class MetricsServer:
    """The running /metrics endpoint."""

    port: int
    _server: Any
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()  # returns within STOP_POLL_SECONDS
        self._server.server_close()
        self._thread.join()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged (the access log would be one line per scrape)."""


def serve_metrics(metrics: Metrics, listen: str) -> MetricsServer | None:
    """Serve ``metrics`` at ``http://listen/metrics``; ``""`` disables it."""
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        family = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)[0][0]

        class Server(ThreadingWSGIServer):
            address_family = family

        server = make_server(host, int(port), make_wsgi_app(metrics.registry), Server,
                             handler_class=_QuietHandler)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"metrics_listen {listen!r}: cannot listen: {exc}") from exc
    thread = threading.Thread(target=server.serve_forever, name=f"metrics-{metrics.component}",
                              kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
    thread.start()
    return MetricsServer(server.server_port, server, thread)
