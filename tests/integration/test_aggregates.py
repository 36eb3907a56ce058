"""The dashboard's counts end to end: scope policy at the hub, suppression at the
nodes and at the hub, and an audit entry for every query."""

from __future__ import annotations

import dataclasses
import datetime as dt

import grpc
import jwt
import pytest

from accord.errors import RemoteError
from accord.identity import HUB_AUDIENCE, DevIdentityProvider
from accord.rpc import call, channel_options
from accord.v1 import hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from node.records import Record, RecordType
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation
from tests.integration.test_search import cad_call, tip


async def aggregate(live: LiveFederation, agency: str, purpose: str,
                    roles: tuple[str, ...] = ("auditor",),
                    token: str | None = None) -> hub_pb2.AggregateCountsResponse:
    config = live.node_configs[agency]
    token = token or live.token(agency, sub="aud.kim", roles=roles)
    async with grpc.aio.secure_channel(config.hub, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        response: hub_pb2.AggregateCountsResponse = await call(
            hub_pb2_grpc.HubServiceStub(channel).AggregateCounts,
            hub_pb2.AggregateCountsRequest(agreement="local-pilot", purpose=purpose),
            timeout=30, metadata=[("authorization", f"Bearer {token}")])
        return response


def calls(n: int, prefix: str, month: int, **fields: object) -> list[Record]:
    return [dataclasses.replace(cad_call(f"{prefix}-{i:04d}", phone=f"(503) 555-{2000 + i}"),
                                occurred_on=dt.date(2026, month, 3), **fields)  # type: ignore[arg-type]
            for i in range(n)]


def table(cells: object, key: str) -> dict[str, int]:
    return {getattr(c, key): c.count for c in cells}  # type: ignore[attr-defined]


async def test_counts_are_scoped_suppressed_and_audited(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", calls(12, "SEP", 9, jurisdiction="Rivertown"))
    federation.ingest("rivertown_pd", calls(14, "OCT", 10, jurisdiction="Rivertown"))
    federation.ingest("rivertown_pd", calls(3, "NOV", 11, jurisdiction="Lakeside"))
    # Not a record type rivertown shares: never counted, however many.
    federation.ingest("rivertown_pd", calls(20, "WAR", 9, record_type=RecordType.WARRANT))
    federation.ingest("tip_hotline", [tip()])

    response = await aggregate(federation, "lakeside_so", "human_trafficking")

    assert table(response.by_agency, "agency") == {"rivertown_pd": 29}
    assert table(response.by_record_type, "record_type") == {"cad_call": 29}
    # November's 3 are withheld, and so is September's 12 (else 29 - 14 = 15 - 12 = 3).
    assert table(response.by_month, "month") == {"2026-10": 14}
    # Lakeside's 3 are withheld, and so Rivertown's 26 (else 29 - 26 = 3).
    assert table(response.by_county, "county") == {}
    # rivertown: 2 months and 2 counties; the hotline's single tip: its 3 cells and total.
    assert response.suppressed_cells == 4 + 4
    assert response.min_cell == 11
    every = [c.count for t in (response.by_agency, response.by_record_type, response.by_month,
                               response.by_county) for c in t]
    assert min(every) >= 11
    # Every member but the requester is asked; the requester's own node is not.
    assert sorted(n.agency for n in response.nodes) == ["harbor_pd", "rivertown_pd", "tip_hotline"]

    [entry] = [e.doc for e in federation.hub.audit.entries() if e.doc["event"] == "aggregate_counts"]
    assert entry["seq"] == response.audit_seq
    assert entry["actor"] == "aud.kim" and entry["agency"] == "lakeside_so"
    assert entry["purpose"] == "human_trafficking"
    assert entry["details"]["nodes"]["rivertown_pd"]["suppressed_cells"] == 4
    assert entry["details"]["released_cells"] == 3


async def test_the_purpose_decides_which_agencies_are_in_scope(federation: LiveFederation) -> None:
    # harbor_pd does not take part in victim_services: it is not even asked.
    response = await aggregate(federation, "lakeside_so", "victim_services")
    assert "harbor_pd" not in {n.agency for n in response.nodes}


async def test_a_purpose_outside_the_requesters_is_denied_and_audited(
    federation: LiveFederation,
) -> None:
    with pytest.raises(RemoteError) as raised:
        await aggregate(federation, "tip_hotline", "violent_crime")
    assert raised.value.status == grpc.StatusCode.PERMISSION_DENIED
    [denied] = [e.doc for e in federation.hub.audit.entries()
                if e.doc["event"] == "aggregate_denied"]
    assert denied["outcome"] == "denied" and denied["agency"] == "tip_hotline"


async def test_a_token_without_a_role_gets_no_counts(federation: LiveFederation) -> None:
    # The identity provider's own token, with an empty roles claim (the dev IdP refuses to
    # make one; a real one may well send it).
    idp = DevIdentityProvider.load(federation.fed.idp_dir("lakeside_so"), "lakeside_so")
    claims = {"iss": idp.issuer, "sub": "someone", "aud": HUB_AUDIENCE,
              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600,
              "jti": "no-role-token-01", "agency": "lakeside_so", "roles": []}
    token = jwt.encode(claims, idp.key, algorithm="EdDSA", headers={"kid": idp.kid})
    with pytest.raises(RemoteError) as raised:
        await aggregate(federation, "lakeside_so", "human_trafficking", token=token)
    assert raised.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert raised.value.message == ("aggregate counts need a role: one of auditor, custodian, "
                                    "investigator, steward")
    [denied] = [e.doc for e in federation.hub.audit.entries()
                if e.doc["event"] == "aggregate_denied"]
    assert denied["reasons"] == ["role_missing"]


async def test_only_the_hub_may_ask_a_node_for_counts(federation: LiveFederation) -> None:
    config = federation.node_configs["lakeside_so"]
    target = federation.node_configs["rivertown_pd"].listen
    async with grpc.aio.secure_channel(target, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        with pytest.raises(RemoteError) as raised:
            await call(node_pb2_grpc.NodeServiceStub(channel).CountRecords,
                       node_pb2.CountRecordsRequest(requesting_agency="lakeside_so",
                                                    record_types=["cad_call"]), timeout=10)
    assert raised.value.status == grpc.StatusCode.PERMISSION_DENIED
