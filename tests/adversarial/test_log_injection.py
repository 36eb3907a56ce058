"""Log injection: hostile text in every field that reaches a log.

Case numbers, justifications, custodians' reasons, token subjects, audit
filters and request ids carry newlines, carriage returns, terminal escapes,
NULs, Unicode line separators, bidi overrides and huge values. None of them
may forge or split an audit entry, break ``accord.auditlog.verify_log``, or
reach the structlog output unescaped. The servers log JSON lines to a file
here, as in production.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
import structlog

from accord import logging as accord_logging
from accord.identity import DevIdentityProvider
from accord.sealing import RecipientKey
from accord.v1 import hub_pb2, node_pb2
from hub.audit import AuditEvent
from tests.adversarial.conftest import NOW, Federation, attempt, expect, running_federation
from tests.integration.test_search import cad_call, tip
from tests.support.attestation import attested

#: A marker that makes every injected value easy to find in any output.
MARK = "INJ" + secrets.token_hex(4)

INJECTIONS = {
    "newline": f"{MARK}\n{{\"event\":\"search\",\"actor\":\"forged\"}}",
    "crlf": f"{MARK}\r\n2026-11-23T15:00:00Z [info] forged line",
    "escape": f"{MARK}\x1b[2J\x1b[31mred\x1b[0m",
    "nul": f"{MARK}\x00after-nul",
    "unicode-separators": f"{MARK}\u2028line\u2029para\x85nel",
    "bidi": f"{MARK}\u202egnp.exe",
    "quotes": f'{MARK}","event":"forged","x":"',
    "huge": MARK + "A" * 100_000,
}
IDS = list(INJECTIONS)
#: Every event our code logs (anything else in the log file was forged).
KNOWN_EVENTS = {"rpc", "rpc_failed", "matched", "released", "hub_started", "node_started",
                "healthy", "unhealthy", "policy_reloaded", "policy_reload_rejected",
                "policy_timeout", "policy_error", "alert_audit_unavailable"}
CASE = "LS-2026-0117"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs") / "servers.log"


@pytest.fixture(scope="module")
def fed(log_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    for live in running_federation(tmp_path_factory.mktemp("inj") / "fed", log_file=log_file):
        live.live.ingest("rivertown_pd", [cad_call()])
        live.live.ingest("tip_hotline", [tip()])
        yield live


def assert_audit_intact(fed: Federation) -> list[bytes]:
    """Every entry one line of printable ASCII JSON with the schema's keys; the log verifies."""
    entries = [e.entry for e in fed.live.hub.audit.entries()]
    for raw in entries:
        assert all(0x20 <= b < 0x7f for b in raw), raw[:200]
        doc = json.loads(raw)
        assert set(doc) == {"v", "seq", "time", "event", "actor", "agency", "roles", "source",
                            "purpose", "case", "outcome", "reasons", "details"}
        assert doc["actor"] != "forged"
    exported = b"".join(e + b"\n" for e in entries)  # what `accord audit export` writes
    assert exported.count(b"\n") == len(entries)
    report = fed.verify_log()
    assert report.ok and report.entries == len(entries), report.problem
    return entries


def assert_log_lines_intact(path: Path) -> list[dict[str, Any]]:
    """Every line of the servers' log is one JSON object with an event we emit."""
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    docs = []
    for raw in lines[:-1]:
        assert all(0x20 <= b < 0x7f for b in raw), raw[:200]
        doc = json.loads(raw)
        assert doc["event"] in KNOWN_EVENTS, doc
        docs.append(doc)
    return docs


def pointer(fed: Federation, owner: str, sub: str) -> str:
    response = fed.gateway("LocalSearch", node_pb2.LocalSearchRequest(
        case_number=CASE, purpose="human_trafficking", phone="503-555-0142"),
        token=fed.token("lakeside_so", sub=sub))
    return next(p.handle for p in response.result.pointers if p.agency == owner)


# --- fields the hub validates strictly ---------------------------------------------------------


@pytest.mark.parametrize("kind", IDS)
def test_hostile_case_numbers_are_refused_with_an_escaped_message(fed: Federation,
                                                                  kind: str) -> None:
    mark = fed.audit_size()
    err = expect(grpc.StatusCode.INVALID_ARGUMENT, fed.gateway, "LocalSearch",
                 node_pb2.LocalSearchRequest(case_number=INJECTIONS[kind],
                                             purpose="human_trafficking", phone="503-555-0142"))
    assert err.message.isprintable() and len(err.message) < 300
    assert fed.audit_since(mark) == []


@pytest.mark.parametrize("kind", IDS)
def test_hostile_token_subjects_are_refused_or_kept_escaped(fed: Federation, kind: str) -> None:
    idp = DevIdentityProvider.load(fed.live.fed.idp_dir("lakeside_so"), "lakeside_so")
    subject = INJECTIONS[kind][:200]
    payload = {"iss": idp.issuer, "sub": subject, "aud": "accord-hub",
               "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600, "jti": "j",
               "agency": "lakeside_so", "roles": ["investigator"]}
    token = jwt.encode(payload, idp.key, algorithm="EdDSA", headers={"kid": idp.kid})
    mark = fed.audit_size()
    err = attempt(fed.gateway, "LocalSearch", node_pb2.LocalSearchRequest(
        case_number=CASE, purpose="human_trafficking", phone="503-555-0142"), token=token)
    [entry] = fed.audit_since(mark)
    if subject.isprintable():  # an odd but printable subject is a subject
        assert err is None and (entry["event"], entry["actor"]) == ("search", subject)
    else:
        assert err is not None and err.status == grpc.StatusCode.UNAUTHENTICATED
        assert (entry["event"], entry["actor"], entry["reasons"]) == (
            "auth_failed", "", ["token_claims_malformed"])
    assert_audit_intact(fed)


@pytest.mark.parametrize("kind", IDS)
def test_hostile_plaintext_queries_never_reach_any_log(fed: Federation, log_file: Path,
                                                       kind: str) -> None:
    value = INJECTIONS[kind][:200]
    for field in ("name", "email", "address", "plate", "vin", "phone", "dob"):
        fields = {"name": "Ann Lee", field: value}
        err = attempt(fed.gateway, "LocalSearch", node_pb2.LocalSearchRequest(
            case_number=CASE, purpose="human_trafficking", **fields))
        assert err is None or err.status == grpc.StatusCode.INVALID_ARGUMENT, err
    assert MARK not in log_file.read_text()


# --- free text the hub keeps: stored faithfully, escaped everywhere -----------------------------


@pytest.mark.parametrize("kind", IDS)
def test_hostile_custodian_reasons_cannot_split_the_audit_log(fed: Federation, kind: str) -> None:
    handle = pointer(fed, "tip_hotline", f"det.reason.{kind}")
    requested = fed.gateway("LocalRequestRelease", node_pb2.LocalRequestReleaseRequest(
        pointer=handle, case_number=CASE, purpose="human_trafficking", justification="j"),
        token=fed.token("lakeside_so", sub=f"det.reason.{kind}"))
    reason = INJECTIONS[kind][:500]
    mark = fed.audit_size()
    err = attempt(fed.hub, "HubService", "DecideRelease", hub_pb2.DecideReleaseRequest(
        release_id=requested.release.release_id, approve=False, reason=reason),
        agency="tip_hotline", token=fed.token("tip_hotline", sub="cust.t", roles=("custodian",)))
    if err is not None:  # refusing hostile text is as good as storing it safely
        assert err.status == grpc.StatusCode.INVALID_ARGUMENT, err
        assert fed.audit_since(mark) == []
    else:
        [entry] = fed.audit_since(mark)
        assert entry["event"] == "release_denied"
        assert entry["details"]["reason"] == reason.strip()  # faithfully kept, escaped
    assert_audit_intact(fed)


@pytest.mark.parametrize("kind", IDS)
def test_hostile_justifications_cannot_split_the_audit_log(fed: Federation, kind: str) -> None:
    handle = pointer(fed, "rivertown_pd", f"det.just.{kind}")
    mark = fed.audit_size()
    err = attempt(fed.hub, "HubService", "RequestRelease", attested(hub_pb2.RequestReleaseRequest(
        pointer=handle, case_number=CASE, purpose="human_trafficking",
        justification=INJECTIONS[kind][:2000], requester_key=RecipientKey.generate().public_bytes,
        request_key=secrets.token_urlsafe(12)), fed.live.node_configs["lakeside_so"]),
        token=fed.token("lakeside_so", sub=f"det.just.{kind}"))
    assert err is None or err.status == grpc.StatusCode.INVALID_ARGUMENT, err
    assert all(e["event"].startswith("release_") for e in fed.audit_since(mark))
    assert_audit_intact(fed)


@pytest.mark.parametrize("kind", IDS)
def test_hostile_audit_filters_cannot_split_the_audit_log(fed: Federation, kind: str) -> None:
    auditor = fed.token("lakeside_so", sub="aud.inj", roles=("auditor",))
    value = INJECTIONS[kind][:2000]
    for field in ("actor", "agency", "case_number", "purpose", "event", "outcome"):
        # Either served (the filter stored safely in the audit_read entry) or refused
        # precisely: filters must be short and printable.
        err = attempt(fed.hub, "AuditService", "ListEntries",
                      hub_pb2.ListEntriesRequest(limit=1, **{field: value}), token=auditor)
        assert err is None or err.status == grpc.StatusCode.INVALID_ARGUMENT, err
    for field in ("since", "until"):
        err = expect(grpc.StatusCode.INVALID_ARGUMENT, fed.hub, "AuditService", "ListEntries",
                     hub_pb2.ListEntriesRequest(limit=1, **{field: value}), token=auditor)
        assert err.message.isprintable()
    assert_audit_intact(fed)


# --- rejected hostile text is not kept verbatim forever -----------------------------------------


def test_control_characters_in_free_text_are_refused(fed: Federation) -> None:
    handle = pointer(fed, "tip_hotline", "det.ctl")
    expect(grpc.StatusCode.INVALID_ARGUMENT, fed.hub, "HubService", "RequestRelease",
           attested(hub_pb2.RequestReleaseRequest(
               pointer=handle, case_number=CASE, purpose="human_trafficking",
               justification=INJECTIONS["escape"],
               requester_key=RecipientKey.generate().public_bytes, request_key="ctl-key-0001"),
               fed.live.node_configs["lakeside_so"]),
           token=fed.token("lakeside_so", sub="det.ctl"))


def test_audit_filters_are_bounded(fed: Federation) -> None:
    auditor = fed.token("lakeside_so", sub="aud.big", roles=("auditor",))
    mark = fed.audit_size()
    err = attempt(fed.hub, "AuditService", "ListEntries",
                  hub_pb2.ListEntriesRequest(limit=1, actor="A" * 3_000_000), token=auditor)
    assert err is None or err.status == grpc.StatusCode.INVALID_ARGUMENT, err
    assert all(len(json.dumps(e)) < 64 * 1024 for e in fed.audit_since(mark))


def test_a_huge_bad_time_filter_gets_a_readable_error(fed: Federation) -> None:
    auditor = fed.token("lakeside_so", sub="aud.time", roles=("auditor",))
    err = expect(grpc.StatusCode.INVALID_ARGUMENT, fed.hub, "AuditService", "ListEntries",
                 hub_pb2.ListEntriesRequest(limit=1, since="x" * 100_000), token=auditor)
    assert len(err.message) < 1000


# --- the servers' own logs ---------------------------------------------------------------------


def test_request_ids_cannot_forge_log_lines(fed: Federation, log_file: Path) -> None:
    token = fed.token("lakeside_so", sub="det.rid")
    for request_id in (f'{MARK}","event":"forged","outcome":"OK', f"{MARK} " + "B" * 7000,
                       f"{MARK}}}\\n{{\"event\":\"forged\"}}"):
        fed.gateway("LocalSearch", node_pb2.LocalSearchRequest(
            case_number=CASE, purpose="human_trafficking", phone="503-555-0142"),
            metadata=[("authorization", f"Bearer {token}"), ("x-request-id", request_id)])
    docs = assert_log_lines_intact(log_file)
    tagged = [d for d in docs if MARK in str(d.get("request_id", ""))]
    assert len(tagged) >= 6  # the gateway's and the hub's lines, at least
    assert all(len(d["request_id"]) <= accord_logging.MAX_VALUE_CHARS + 20 for d in tagged)


def test_after_everything_the_logs_hold(fed: Federation, log_file: Path) -> None:
    entries = assert_audit_intact(fed)
    assert len(entries) > 20  # the tests above really wrote to the log
    assert_log_lines_intact(log_file)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "console"])
def test_structlog_output_escapes_every_injection(tmp_path: Path, as_json: bool) -> None:
    path = tmp_path / "out.log"
    identifier = "ID" + secrets.token_hex(4)
    accord_logging.configure(json=as_json, file=path)
    try:
        log = structlog.get_logger("test")
        for kind, value in INJECTIONS.items():
            log.info("rpc", kind=kind, value=value, name=identifier,
                     detail={"nested": value, "phone": identifier, "more": [value]})
    finally:
        structlog.reset_defaults()
    lines = path.read_bytes().split(b"\n")[:-1]
    assert len(lines) == len(INJECTIONS)  # one line per event, none split
    for raw in lines:
        text = raw.decode("utf-8")
        assert "\x1b" not in text and "\r" not in text and "\x00" not in text, text[:200]
        assert "\u2028" not in text and "\u202e" not in text and "\x85" not in text, text[:200]
        assert len(text) < 4 * accord_logging.MAX_VALUE_CHARS  # huge values are truncated
        assert identifier not in text  # redacted keys, at any depth
    assert not any(raw.startswith(b"2026-11-23T15:00:00Z") for raw in lines)


def test_audit_events_escape_every_injection() -> None:
    for kind, value in INJECTIONS.items():
        event = AuditEvent(event="search", time=NOW, outcome="ok", actor=value, case=value,
                           reasons=(value,), details={value: [value, {"k": value}]})
        raw = event.to_entry(1)
        assert all(0x20 <= b < 0x7f for b in raw), kind
        assert json.loads(raw)["actor"] == value
