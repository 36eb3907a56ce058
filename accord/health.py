"""gRPC health that reflects what the server depends on.

A server is SERVING only while its database answers and its policy engine
decides; otherwise NOT_SERVING, so a load balancer or an orchestrator stops
sending it work. :func:`monitor` re-checks every ``interval`` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import structlog
from grpc_health.v1 import health, health_pb2
from sqlalchemy import Engine, text

from accord.policy.engine import ENGINE_FAILURES, SEARCH, PolicyPoint

log = structlog.get_logger("accord.health")

Check = Callable[[], Awaitable[bool]]


async def check_all(checks: Sequence[tuple[str, Check]]) -> list[str]:
    """The names of the checks that fail (an exception or a timeout fails)."""
    failing = []
    for name, check in checks:
        try:
            ok = await asyncio.wait_for(check(), 5.0)
        except Exception:
            ok = False
        if not ok:
            failing.append(name)
    return failing


async def set_status(servicer: health.aio.HealthServicer, services: Sequence[str],
                     serving: bool) -> None:
    status = (health_pb2.HealthCheckResponse.SERVING if serving
              else health_pb2.HealthCheckResponse.NOT_SERVING)
    for name in (*services, ""):
        await servicer.set(name, status)


async def monitor(servicer: health.aio.HealthServicer, services: Sequence[str],
                  checks: Sequence[tuple[str, Check]], interval: float) -> None:
    """Keep the health status in line with the checks until cancelled."""
    healthy: bool | None = None
    while True:
        failing = await check_all(checks)
        if (not failing) != healthy:
            healthy = not failing
            await set_status(servicer, services, healthy)
            if failing:
                log.error("unhealthy", failing=failing)
            else:
                log.info("healthy")
        await asyncio.sleep(interval)


def database_check(engine: Engine) -> Check:
    """Healthy while the database answers a trivial query."""
    async def check() -> bool:
        def ping() -> bool:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        return await asyncio.to_thread(ping)
    return check


def policy_check(policy: PolicyPoint) -> Check:
    """Healthy while the engine decides (a deny is fine; an error or timeout is not)."""
    async def check() -> bool:
        decision = await policy.decide(SEARCH, {"agreement": "", "purpose": "", "now": ""})
        # A revision mismatch (an OPA server that lost or has not finished a
        # push) is unhealthy too; asking also starts the push again.
        return not ENGINE_FAILURES & set(decision.reasons)
    return check
