"""Group commit: concurrent appends share one transaction, and nobody is told
"done" before their entry is durable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, text

from accord.auditlog import verify_log
from accord.checkpoint import Ed25519Signer
from accord.db import make_engine
from accord.errors import AuditUnavailable
from hub.audit import AuditEvent, AuditLog, AuditTransaction
from tests.conftest import NOW

SIGNER = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")


@pytest.fixture
def log(tmp_path: Path) -> Any:
    audit = AuditLog(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"), SIGNER, "test-log")
    audit.create_schema()
    yield audit
    audit.close()
    audit.engine.dispose()


def search(case: str) -> AuditEvent:
    return AuditEvent(event="search", time=NOW, outcome="ok", actor="det.a",
                      agency="lakeside_so", case=case)


def verified(log: AuditLog) -> Any:
    return verify_log(((e.seq, e.entry) for e in log.entries()), list(log.checkpoints()),
                      SIGNER.public_key(), "accord-hub", "test-log")


async def test_concurrent_appends_get_their_own_consecutive_seqs(log: AuditLog) -> None:
    # Hold the log while the appends queue up, so they meet in one batch.
    log._lock.acquire()
    try:
        tasks = [asyncio.ensure_future(log.append_async(search(f"C-{i}"))) for i in range(40)]
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in tasks)  # nobody released before the commit
    finally:
        log._lock.release()
    seqs = await asyncio.gather(*tasks)
    assert sorted(seqs) == list(range(1, 41))
    # Each caller got the seq of its own entry.
    by_seq = {e.seq: e.doc["case"] for e in log.entries()}
    assert all(by_seq[seq] == f"C-{i}" for i, seq in enumerate(seqs))
    report = verified(log)
    assert report.ok, report.problem
    assert report.entries == 40
    # Batched: far fewer checkpoints (commits) than entries, the last covering all.
    assert report.checkpoints < 40
    assert log.latest_checkpoint() is not None
    assert log.latest_checkpoint().checkpoint.size == 40  # type: ignore[union-attr]


async def test_group_commit_and_plain_appends_keep_one_linear_log(log: AuditLog) -> None:
    async def plain(i: int) -> int:
        return await asyncio.to_thread(log.append, search(f"P-{i}"))

    seqs = await asyncio.gather(*(log.append_async(search(f"G-{i}")) for i in range(20)),
                                *(plain(i) for i in range(10)))
    assert sorted(seqs) == list(range(1, 31))
    assert verified(log).ok


async def test_work_writes_commit_with_the_entry(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        conn.execute(text("CREATE TABLE side (seq INTEGER)"))

    def work(tx: AuditTransaction) -> int:
        seq = tx.append(search("C-1")).seq
        tx.conn.execute(text("INSERT INTO side VALUES (:s)"), {"s": seq})
        return seq

    seq = await log.commit(work)
    with log.engine.connect() as conn:
        assert conn.execute(text("SELECT seq FROM side")).scalars().all() == [seq]


async def test_a_failing_job_fails_alone_and_leaves_no_trace(log: AuditLog) -> None:
    def bad(tx: AuditTransaction) -> int:
        tx.append(search("BAD"))
        raise ValueError("boom")

    log._lock.acquire()
    try:
        good = [asyncio.ensure_future(log.append_async(search(f"C-{i}"))) for i in range(5)]
        failing = asyncio.ensure_future(log.commit(bad))
        await asyncio.sleep(0.1)
    finally:
        log._lock.release()
    with pytest.raises(ValueError, match="boom"):
        await failing
    assert sorted(await asyncio.gather(*good)) == [1, 2, 3, 4, 5]
    assert "BAD" not in {e.doc["case"] for e in log.entries()}
    assert verified(log).ok


async def test_a_job_raising_a_base_exception_fails_alone_and_the_log_goes_on(
    log: AuditLog,
) -> None:
    # It killed the committer thread, and every later commit waited forever.
    def fatal(_tx: AuditTransaction) -> int:
        raise SystemExit("job gone")

    with pytest.raises(AuditUnavailable, match=r"audit work failed \(SystemExit\)"):
        await asyncio.wait_for(log.commit(fatal), 5)
    assert await asyncio.wait_for(log.append_async(search("AFTER")), 5) == 1
    assert verified(log).ok


async def test_a_dead_committer_is_replaced(log: AuditLog) -> None:
    def kill(_jobs: Any) -> None:
        raise SystemExit("committer gone")

    original = log._commit_batch
    log._commit_batch = kill  # type: ignore[method-assign]
    with pytest.raises(AuditUnavailable):
        await asyncio.wait_for(log.append_async(search("LOST")), 5)
    log._commit_batch = original  # type: ignore[method-assign]
    assert await asyncio.wait_for(log.append_async(search("AFTER")), 5) == 1


async def test_a_failed_commit_fails_every_caller_in_the_batch(log: AuditLog) -> None:
    def refuse(_conn: Any) -> None:
        raise OSError("disk gone")

    await log.append_async(search("BEFORE"))
    event.listen(log.engine, "commit", refuse)
    log._lock.acquire()
    try:
        tasks = [asyncio.ensure_future(log.append_async(search(f"C-{i}"))) for i in range(10)]
        await asyncio.sleep(0.1)
    finally:
        log._lock.release()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    event.remove(log.engine, "commit", refuse)
    assert all(isinstance(r, AuditUnavailable) for r in results), results
    # Nothing of the failed batches was kept, and the log goes on from where it was.
    assert [e.doc["case"] for e in log.entries()] == ["BEFORE"]
    assert await log.append_async(search("AFTER")) == 2
    assert verified(log).ok


async def test_an_unwritable_log_fails_group_commits_closed(tmp_path: Path) -> None:
    log = AuditLog(make_engine("sqlite:///:memory:"), SIGNER, "test-log")  # no schema
    try:
        with pytest.raises(AuditUnavailable, match="action refused"):
            await log.append_async(search("C-1"))
    finally:
        log.close()


async def test_a_closed_log_refuses_new_work(log: AuditLog) -> None:
    assert await log.append_async(search("C-1")) == 1
    log.close()
    with pytest.raises(AuditUnavailable):
        await log.append_async(search("C-2"))
