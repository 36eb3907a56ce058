"""The /metrics endpoint: serves its own registry, and is gone once closed."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from accord.errors import ConfigError
from accord.metrics import Metrics, serve_metrics


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_serves_its_registry_and_stops(host: str) -> None:
    if host == "[::1]" and not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    metrics = Metrics("hub")
    metrics.searches.labels("ok").inc(3)
    server = serve_metrics(metrics, f"{host}:0")
    assert server is not None
    with urllib.request.urlopen(f"http://{host}:{server.port}/metrics", timeout=5) as response:
        body = response.read().decode()
    assert 'accord_searches_total{outcome="ok"} 3.0' in body
    server.close()
    assert not server._thread.is_alive()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{host}:{server.port}/metrics", timeout=5)


@pytest.mark.parametrize("listen", ["127.0.0.1:port", "no-such-host.invalid:9100"])
def test_a_bad_address_is_a_config_error_naming_it(listen: str) -> None:
    with pytest.raises(ConfigError, match=f"metrics_listen '{listen}': cannot listen"):
        serve_metrics(Metrics("node"), listen)


def test_a_taken_port_is_a_config_error() -> None:
    first = serve_metrics(Metrics("hub"), "127.0.0.1:0")
    assert first is not None
    try:
        with pytest.raises(ConfigError, match="cannot listen"):
            serve_metrics(Metrics("node"), f"127.0.0.1:{first.port}")
    finally:
        first.close()
