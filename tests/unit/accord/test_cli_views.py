"""How the CLI shows what the hub answers."""

from __future__ import annotations

import pytest

from accord.cli.main import print_watches
from accord.v1 import hub_pb2
from accord.views import watch_to_dict


def watch(state: int, reasons: tuple[str, ...] = ()) -> dict[str, object]:
    return watch_to_dict(hub_pb2.Watch(
        watch_id="w_" + "0" * 24, case_number="LS-1", state=state,  # type: ignore[arg-type]
        expires_at="2026-12-30T00:00:00Z", ended_reasons=list(reasons)))


def test_a_watch_the_policy_ended_shows_why(capsys: pytest.CaptureFixture[str]) -> None:
    ended = watch(hub_pb2.WATCH_STATE_ENDED, ("agreement_expired",))
    assert (ended["state"], ended["ended_reasons"]) == ("ended", ["agreement_expired"])
    print_watches([ended, watch(hub_pb2.WATCH_STATE_EXPIRED)])
    out = capsys.readouterr().out
    assert "ended (agreement_expired)" in out
    assert "expired" in out.replace("agreement_expired", "")
