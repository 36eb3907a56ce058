"""Releases beside another hub replica: waiting for the audit log's append lock
(which another replica on the same PostgreSQL may hold) must not stall the event
loop, or every call this replica serves, health checks included, waits too."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from accord.checkpoint import Ed25519Signer
from accord.db import make_engine
from accord.errors import NotFound
from accord.identity import Principal
from hub.audit import _PG_LOCK, AuditLog
from hub.releases import ReleaseService

pytestmark = pytest.mark.postgres


def test_decide_does_not_stall_the_event_loop_while_another_replica_appends(
        postgres_url: str) -> None:
    signer = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
    log = AuditLog(make_engine(postgres_url), signer, "o")
    log.create_schema()
    service = ReleaseService(audit=log, policy=None, signer=signer,  # type: ignore[arg-type]
                             prepare=None, deliver=None, timeout=1)  # type: ignore[arg-type]
    other = make_engine(postgres_url)
    held = threading.Event()

    def other_replica_appending() -> None:
        with other.begin() as conn:
            conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK})"))
            held.set()
            time.sleep(1.5)

    holder = threading.Thread(target=other_replica_appending)
    holder.start()
    held.wait()

    async def main() -> float:
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.1)
        custodian = Principal("cust.a", "rivertown_pd", frozenset({"custodian"}), "j",
                              dt.datetime.now(dt.UTC))
        with pytest.raises(NotFound):
            await service.decide(custodian, "rel_" + "A" * 20, True, "ok",
                                 dt.datetime.now(dt.UTC))
        await asyncio.sleep(0.1)
        task.cancel()
        return max(b - a for a, b in itertools.pairwise(ticks))

    try:
        stall = asyncio.run(main())
    finally:
        holder.join()
        log.engine.dispose()
        other.dispose()
    assert stall < 0.5, f"event loop stalled {stall:.2f} s"
