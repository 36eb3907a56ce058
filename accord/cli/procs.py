"""Running Accord servers as separate processes (the demo and the tests)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from accord.errors import AccordError
from accord.rpc import channel_options
from accord.tls import TlsFiles

STARTUP_TIMEOUT = 30.0


class DemoFailed(AccordError):
    """A server did not come up, or the story did not come out as it should."""


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None
          ) -> subprocess.Popen[bytes]:
    """Run ``accord ARGS`` as its own process, output to ``log``; ``env`` adds variables."""
    import os

    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own executable and arguments
            [sys.executable, "-m", "accord.cli.main", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )


async def wait_serving(target: str, tls: TlsFiles, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the server at ``target`` reports SERVING over gRPC health."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    # A server still starting refuses the connection, and gRPC then waits its
    # reconnect backoff (1 s and growing) before trying again: poll faster.
    # (min_reconnect_backoff_ms, despite its name, is the connect timeout: left as it is.)
    options = [*channel_options(), ("grpc.initial_reconnect_backoff_ms", 50),
               ("grpc.max_reconnect_backoff_ms", 200)]
    async with grpc.aio.secure_channel(target, tls.channel_credentials(),
                                       options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if proc.poll() is not None:
                raise DemoFailed(f"server for {target} exited with code {proc.returncode}")
            try:
                resp = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise DemoFailed(f"server for {target} not serving after {STARTUP_TIMEOUT:.0f}s")
            await asyncio.sleep(0.05)


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
