"""Container health probe for an Accord hub or node: one gRPC ``Health/Check`` over mTLS.

Usage (inside the container; the images copy this file to /opt/accord/bin/)::

    python /opt/accord/bin/healthcheck.py --config /etc/accord/hub.toml             # readiness
    python /opt/accord/bin/healthcheck.py --config /etc/accord/node.toml --liveness

Why not ``grpc_health_probe`` or a Kubernetes ``grpc:`` probe: every Accord
server requires a client certificate from the federation CA, which kubelet's
gRPC probe cannot present, and the probe binary is not in our images. This
script reads the same config file as the server (with the same
``ACCORD_HUB_*`` / ``ACCORD_NODE_*`` environment overrides), takes the port of
``listen`` and the ``[tls]`` files, and calls the server on ``localhost`` with
the server's own certificate. The TLS name it checks is the first DNS name of
that certificate, so certificates without a ``localhost`` SAN work too.

Exit status: 0 healthy, 1 unhealthy (unreachable, or NOT_SERVING for a
readiness probe), 2 bad usage or config. ``--liveness`` passes on any health
answer, SERVING or NOT_SERVING: a server whose database or policy engine is
down is alive (restarting it would not help) but not ready.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from accord.config import load_toml, section
from accord.errors import ConfigError

#: config table -> environment prefix of its overrides (see accord/config.py).
KINDS = {"hub": "ACCORD_HUB", "node": "ACCORD_NODE"}

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Probe:
    """Where and how to reach the server a config describes."""

    target: str
    server_name: str
    ca_cert: Path
    cert: Path
    key: Path


def read_probe(config: Path, env: Mapping[str, str] | None = None) -> Probe:
    """The probe for the server that ``config`` (hub.toml or node.toml) runs."""
    config = config.resolve()
    kinds = [k for k in KINDS if _has_table(config, k)]
    if len(kinds) != 1:
        raise ConfigError(f"{config}: want exactly one of the tables [hub] or [node]")
    kind = kinds[0]
    data = load_toml(config, KINDS[kind], env)
    listen = section(config, data, kind).text("listen")
    _host, _, port = listen.rpartition(":")
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise ConfigError(f"{config}: {kind}.listen: got {listen!r}, want host:port")
    tls = section(config, data, "tls")
    cert = tls.path("cert")
    return Probe(
        target=f"localhost:{port}",
        server_name=server_name(cert),
        ca_cert=tls.path("ca_cert"),
        cert=cert,
        key=tls.path("key"),
    )


def _has_table(config: Path, name: str) -> bool:
    # load_toml without overrides: only which tables exist matters here.
    return isinstance(load_toml(config, "-", {}).get(name), dict)


def server_name(cert: Path) -> str:
    """The first DNS name in the certificate's SANs, or ``localhost``."""
    from cryptography import x509

    try:
        parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{cert}: cannot read certificate: {exc}") from exc
    try:
        san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return "localhost"
    names = san.get_values_for_type(x509.DNSName)
    return names[0] if names else "localhost"


def grpc_check(probe: Probe, timeout: float) -> bool:
    """True if the server says SERVING, False if NOT_SERVING; raises if it does not answer."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    credentials = grpc.ssl_channel_credentials(
        root_certificates=probe.ca_cert.read_bytes(),
        private_key=probe.key.read_bytes(),
        certificate_chain=probe.cert.read_bytes(),
    )
    options = [("grpc.ssl_target_name_override", probe.server_name)]
    with grpc.secure_channel(probe.target, credentials, options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


Checker = Callable[[Probe, float], bool]


def main(argv: Sequence[str] | None = None, check: Checker = grpc_check,
         env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="hub.toml or node.toml")
    parser.add_argument("--liveness", action="store_true",
                        help="pass on any health answer (SERVING or NOT_SERVING)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    args = parser.parse_args(argv)
    try:
        probe = read_probe(args.config, env)
    except ConfigError as exc:
        print(f"healthcheck: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        serving = check(probe, args.timeout)
    except Exception as exc:  # unreachable, TLS failure, deadline: all unhealthy
        print(f"healthcheck: {probe.target}: no answer ({type(exc).__name__})", file=sys.stderr)
        return EXIT_UNHEALTHY
    if serving or args.liveness:
        return EXIT_OK
    print(f"healthcheck: {probe.target}: NOT_SERVING", file=sys.stderr)
    return EXIT_UNHEALTHY


if __name__ == "__main__":
    sys.exit(main())
