"""Identifier-like free text is refused before it leaves the agency: the hub never gets it."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from accord.cli.main import cli
from accord.errors import RemoteError
from tests.integration.conftest import LiveFederation
from tests.integration.test_release import ask, find_pointer, gateway
from tests.integration.test_search import tip


async def test_a_justification_with_a_phone_number_is_refused_at_the_gateway(
        federation: LiveFederation) -> None:
    federation.ingest("tip_hotline", [tip()])
    pointer = await find_pointer(federation, "tip_hotline", phone="503-555-0142")
    entries_before = len(list(federation.hub.audit.entries()))

    with pytest.raises(RemoteError) as refused:
        await gateway(federation, "lakeside_so", "LocalRequestRelease",
                      ask(pointer, justification="call back Jazz at 503-555-0142"))
    assert refused.value.status is grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.message.startswith(
        "justification: looks like it holds a phone number ('503-555-0142')")
    # Nothing reached the hub: no release, no audit entry; and the node kept no key.
    with federation.hub.audit.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM releases")).scalar() == 0
    assert len(list(federation.hub.audit.entries())) == entries_before
    hub_files = b"".join(p.read_bytes() for p in federation.hub_config.data_dir.rglob("*")
                         if p.is_file())
    assert b"503-555-0142" not in hub_files
    # Said without it, the same request goes through.
    requested = await gateway(federation, "lakeside_so", "LocalRequestRelease",
                              ask(pointer, justification="call back the caller's sister"))
    assert requested.release.release_id  # type: ignore[attr-defined]


def test_a_custodians_reason_with_a_plate_is_refused_by_the_cli(
        federation: LiveFederation) -> None:
    config = Path(federation.node_configs["tip_hotline"].source)
    token = federation.token("tip_hotline", sub="cust.ng", roles=("custodian",))
    result = CliRunner().invoke(cli, [
        "release", "approve", "rel_" + "a" * 20, "--config", str(config), "--token", token,
        "--reason", "ok: the victim's car, plate 7KDX214"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(
        "error: --reason: looks like it holds a plate ('7KDX214'); the hub keeps this text")
