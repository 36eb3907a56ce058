"""The auditor page on a live federation: the log verified against the node's pinned checkpoint.

A log cut back to an earlier signed checkpoint, or a history forked after the
node accepted a checkpoint, verifies by itself; the page must pin the
checkpoint the node accepted (as ``accord audit verify --config`` does) and
say so when the log disagrees with it.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar
from sqlalchemy import delete, insert

from node.store import NodeStore, log_state
from tests.integration.conftest import (
    LiveFederation,
    console_on_any_port,
    start_federation,
    stop_federation,
)

AGENCY = "tip_hotline"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveFederation]:
    federation = await start_federation(tmp_path / "fed", node_config=console_on_any_port)
    try:
        await federation.search("lakeside_so", phone="503-555-0142")  # something in the log
        yield federation
    finally:
        await stop_federation(federation)


def pin(store: NodeStore, size: int, root: bytes) -> None:
    """Make ``store`` hold (size, root) as the checkpoint its node accepted."""
    with store.engine.begin() as conn:
        conn.execute(delete(log_state))
        conn.execute(insert(log_state).values(id=1, size=size, root=root))


def latest(live: LiveFederation) -> tuple[int, bytes]:
    signed = live.hub.audit.latest_checkpoint()
    assert signed is not None
    return signed.checkpoint.size, signed.checkpoint.root


async def audit_page(live: LiveFederation, path: str = "/audit") -> str:
    """An auditor page of AGENCY's console, as an auditor signed in there sees it."""
    running = live.nodes[AGENCY].console
    assert running is not None
    base = running.url.rstrip("/")
    jar = CookieJar(unsafe=True, treat_as_secure_origin=base)
    async with ClientSession(cookie_jar=jar) as browser:
        async with browser.get(base + "/signin") as response:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
        assert csrf is not None
        async with browser.post(base + "/signin", data={
                "csrf_token": csrf.group(1), "subject": "aud.li", "role": "auditor"}) as response:
            assert response.status == 200
        async with browser.get(base + path) as response:
            assert response.status == 200
            return await response.text()


def verification(page: str) -> str:
    match = re.search(r'<section class="card verify[^"]*"[^>]*id="verification">(.*?)</section>',
                      page, re.S)
    assert match, "no verification section"
    text = html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))
    return re.sub(r"\s+", " ", text).strip()


async def test_without_an_accepted_checkpoint_the_page_says_nothing_is_pinned(
        live: LiveFederation) -> None:
    assert live.nodes[AGENCY].store.last_checkpoint() is None
    text = verification(await audit_page(live))
    assert "Log verified:" in text
    assert "Pinned: nothing (the node has accepted no checkpoint yet)" in text


async def test_the_log_is_verified_against_the_nodes_accepted_checkpoint(
        live: LiveFederation) -> None:
    size, root = latest(live)
    pin(live.nodes[AGENCY].store, size, root)
    text = verification(await audit_page(live))
    assert "Log verified:" in text
    assert f"Pinned: the node's accepted checkpoint at size {size}" in text


async def test_a_history_forked_after_the_node_accepted_a_checkpoint_does_not_verify(
        live: LiveFederation) -> None:
    size, root = latest(live)
    pin(live.nodes[AGENCY].store, size, bytes(b ^ 0xFF for b in root))
    text = verification(await audit_page(live))
    assert "Log verified" not in text
    assert (f"Log does NOT verify: the log up to entry #{size} differs from the checkpoint "
            f"at size {size} accepted before: a forked history (entry #{size})") in text


async def test_a_log_rolled_back_behind_the_nodes_checkpoint_does_not_verify(
        live: LiveFederation) -> None:
    size, root = latest(live)
    pin(live.nodes[AGENCY].store, size + 1000, root)
    text = verification(await audit_page(live))
    assert "Log verified" not in text
    assert f"but a checkpoint at size {size + 1000} was accepted before" in text
    assert "(the log was rolled back)" in text


def inclusion(page: str) -> str:
    match = re.search(r'id="inclusion"[^>]*>(.*?)</section>', page, re.S)
    assert match, "no inclusion section"
    text = html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))
    return re.sub(r"\s+", " ", text).strip()


async def test_an_entry_is_verified_through_the_nodes_accepted_checkpoint(
        live: LiveFederation) -> None:
    size, root = latest(live)
    pin(live.nodes[AGENCY].store, size, root)
    await live.search("lakeside_so", phone="503-555-0142")  # the log grows past the pin
    assert latest(live)[0] > size
    text = inclusion(await audit_page(live, "/audit/entries/1"))
    assert text.startswith("Inclusion proof Verified: entry #1 is leaf 0")


async def test_an_entry_proven_in_a_history_the_node_never_accepted_is_not_verified(
        live: LiveFederation) -> None:
    # (Every page read is itself audited, so the checkpoint a page proves in
    # grows from one read to the next: the sizes are read off the page.)
    earlier, _ = latest(live)
    pin(live.nodes[AGENCY].store, earlier, bytes(32))  # a checkpoint this log does not extend
    text = inclusion(await audit_page(live, "/audit/entries/1"))
    shown = re.fullmatch(r"Inclusion proof Not verified: the checkpoint of size (\d+) is not "
                         r"consistent with the node's accepted checkpoint of size (\d+): a "
                         r"forked or rolled-back log Proof .*", text)
    assert shown, text
    assert int(shown.group(1)) > earlier and int(shown.group(2)) == earlier
