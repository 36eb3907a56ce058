"""The bare floor: grpc.aio echo servers with a raw-bytes generic handler.

No protobuf, no interceptors, no logging, no database: a server returns the
bytes it received. Each server is its own process (as each Accord server is)
and speaks the same mutual TLS as the real path, with the federation's own
certificates, so the floor pays the same handshake-free, encrypted loopback
round trip the real path pays.

A server started with ``--downstream`` also answers ``Relay`` by calling
``Echo`` (or ``Relay``) on every downstream server concurrently: chaining two
relays gives the real path's shape (gateway -> hub -> N nodes) with nothing
but transport in it.

Usage (the benchmark starts these itself):
    python -m benchmarks.floor --port P --ca CA --cert CERT --key KEY
        [--downstream host:port,...] [--downstream-method Echo|Relay]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from accord.rpc import channel_options, server_options
from accord.tls import TlsFiles

ECHO = "/accord.bench.Floor/Echo"
RELAY = "/accord.bench.Floor/Relay"


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, downstream: Sequence[Any]) -> None:
        self._downstream = downstream

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        if details.method == ECHO:
            return grpc.unary_unary_rpc_method_handler(_echo)
        if details.method == RELAY and self._downstream:
            return grpc.unary_unary_rpc_method_handler(self._relay)
        return None

    async def _relay(self, request: bytes, _context: grpc.aio.ServicerContext) -> bytes:
        await asyncio.gather(*(call(request, timeout=10) for call in self._downstream))
        return request


async def _echo(request: bytes, _context: grpc.aio.ServicerContext) -> bytes:
    return request


async def serve(port: int, tls: TlsFiles, downstream: Sequence[str], method: str) -> None:
    creds = tls.channel_credentials()
    channels = [grpc.aio.secure_channel(t, creds, options=channel_options()) for t in downstream]
    calls = [ch.unary_unary(method) for ch in channels]
    server = grpc.aio.server(options=server_options())
    server.add_generic_rpc_handlers((_Handler(calls),))
    server.add_secure_port(f"127.0.0.1:{port}", tls.server_credentials())
    await server.start()
    await server.wait_for_termination()


def spawn(port: int, tls: TlsFiles, log: Path, downstream: Sequence[str] = (),
          method: str = ECHO) -> subprocess.Popen[bytes]:
    """Start one floor server as its own process."""
    args = [sys.executable, "-m", "benchmarks.floor", "--port", str(port),
            "--ca", str(tls.ca_cert), "--cert", str(tls.cert), "--key", str(tls.key),
            "--downstream-method", method]
    if downstream:
        args += ["--downstream", ",".join(downstream)]
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,  # noqa: S603
                                start_new_session=True, cwd=Path(__file__).resolve().parents[1])


async def wait_ready(target: str, tls: TlsFiles, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with grpc.aio.secure_channel(target, tls.channel_credentials(),
                                       options=channel_options()) as channel:
        echo = channel.unary_unary(ECHO)
        while True:
            try:
                await echo(b"ping", timeout=1.0)
                return
            except grpc.aio.AioRpcError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description="bare gRPC echo server (benchmark floor)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--downstream", default="")
    parser.add_argument("--downstream-method", default=ECHO)
    ns = parser.parse_args()
    tls = TlsFiles(Path(ns.ca), Path(ns.cert), Path(ns.key))
    downstream = [t for t in ns.downstream.split(",") if t]
    asyncio.run(serve(ns.port, tls, downstream, ns.downstream_method))


if __name__ == "__main__":
    main()
