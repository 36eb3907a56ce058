"""Error-tolerant matching end to end: real hub, real nodes, mTLS on loopback.

A record one agency wrote as "RAMÍREZ, JAZMIN", born 03/04/1999, is found by
another agency's investigator searching "Jasmine Ramirez", born 04/03/1999,
though no exact token of the two agrees; a different person sharing the
surname is not pointed to; the hub only ever relays keyed encodings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import grpc
import pytest

from accord.errors import RemoteError
from accord.explain import explain
from accord.rpc import call, channel_options
from accord.tokens import FILTER_BYTES, MAX_FILTERS_PER_QUERY
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc
from node.encodings import prepare_record
from node.records import Person, Record, RecordType, Role
from node.store import UpsertCounts
from node.tokens import Query, query_tokens, record_tokens
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation
from tests.integration.test_privacy import find_plaintext

APPROX = common_pb2.AGREEMENT_LEVEL_APPROXIMATE
EXACT = common_pb2.AGREEMENT_LEVEL_EXACT


def ingest(live: LiveFederation, agency: str, records: Iterable[Record]) -> UpsertCounts:
    """Store records with every encoding, as `accord node ingest` does."""
    config = live.node_configs[agency]
    keys = config.keyring().all()
    return live.nodes[agency].store.upsert(
        [prepare_record(r, keys, config.default_region) for r in records], NOW)


def cad_call() -> Record:
    return Record(
        source="rivertown_cad", source_id="CAD-2026-004211", record_type=RecordType.CAD_CALL,
        occurred_on=dt.date(2026, 9, 14),
        people=(Person(role=Role.VICTIM, name="RAMÍREZ, JAZMIN", nicknames=("Jazzy",),
                       dobs=(dt.date(1999, 3, 4),), phones=("(503) 555-0142",)),),
    )


def other_ramirez() -> Record:
    return Record(
        source="harbor_rms", source_id="HPD-1", record_type=RecordType.RMS_INCIDENT,
        occurred_on=dt.date(2026, 5, 1),
        people=(Person(role=Role.WITNESS, name="Pedro Ramírez", dobs=(dt.date(1971, 8, 30),)),),
    )


QUERY = {"name": "Jasmine Ramirez", "dob": "04/03/1999"}


async def test_fuzzy_hit_that_exact_tokens_miss(federation: LiveFederation) -> None:
    ingest(federation, "rivertown_pd", [cad_call()])
    ingest(federation, "harbor_pd", [other_ramirez()])
    # Exact tokens alone would miss it: the query's exact tokens are not in the index.
    config = federation.node_configs["rivertown_pd"]
    [keys] = config.keyring().all()
    exact = set(query_tokens(Query(**QUERY), keys, "US"))
    assert exact.isdisjoint(record_tokens(cad_call(), keys, "US"))

    response = await federation.search("lakeside_so", **QUERY)

    [hit] = response.result.pointers  # and nothing for Pedro Ramírez at harbor_pd
    assert (hit.agency, hit.record_type) == ("rivertown_pd", "cad_call")
    assert hit.strength in (common_pb2.MATCH_STRENGTH_PROBABLE, common_pb2.MATCH_STRENGTH_STRONG)
    assert list(hit.matched) == []  # no exact token agreed
    agreed = {(a.kind, a.level, a.basis) for a in hit.agreements}
    assert (common_pb2.IDENTIFIER_KIND_FAMILY_NAME, EXACT,
            common_pb2.AGREEMENT_BASIS_SAME_VALUE) in agreed
    assert (common_pb2.IDENTIFIER_KIND_DOB, APPROX,
            common_pb2.AGREEMENT_BASIS_DAY_MONTH_SWAPPED) in agreed
    assert any(k == common_pb2.IDENTIFIER_KIND_GIVEN_NAME and lvl == APPROX
               for k, lvl, _ in agreed)
    assert "date of birth approximate (day and month swapped)" in explain(hit)
    # The gateway sent Bloom filters and field encodings, not only exact tokens.
    assert common_pb2.IDENTIFIER_KIND_BLOCKING_KEY in response.sent_kinds


async def test_a_nickname_search_finds_the_record(federation: LiveFederation) -> None:
    ingest(federation, "rivertown_pd", [cad_call()])

    response = await federation.search("lakeside_so", name="Jazzy Ramires", dob="1999-03-04")

    [hit] = response.result.pointers
    assert hit.agency == "rivertown_pd"
    kinds = {a.kind: a for a in hit.agreements}
    assert kinds[common_pb2.IDENTIFIER_KIND_GIVEN_NAME].basis == common_pb2.AGREEMENT_BASIS_NICKNAME
    assert kinds[common_pb2.IDENTIFIER_KIND_DOB].level == EXACT


async def test_the_same_surname_alone_gives_no_pointer(federation: LiveFederation) -> None:
    ingest(federation, "harbor_pd", [other_ramirez()])

    response = await federation.search("lakeside_so", name="Jazmin Ramirez", dob="1999-03-04")

    assert list(response.result.pointers) == []


async def test_exact_matches_keep_their_strength_with_full_encodings(
    federation: LiveFederation,
) -> None:
    ingest(federation, "rivertown_pd", [cad_call()])

    response = await federation.search("lakeside_so", name="Jazmin Ramirez", dob="03/04/1999")

    [hit] = response.result.pointers
    assert hit.strength == common_pb2.MATCH_STRENGTH_STRONG
    assert set(hit.matched) == {common_pb2.IDENTIFIER_KIND_NAME, common_pb2.IDENTIFIER_KIND_NAME_DOB}
    assert {a.level for a in hit.agreements} == {EXACT}


async def test_hub_stores_no_plaintext_after_fuzzy_searches(federation: LiveFederation) -> None:
    ingest(federation, "rivertown_pd", [cad_call()])
    for fields in (QUERY, {"name": "Jazmín Ramírez-Oquendo", "dob": "1999-03-04",
                           "phone": "503 555 0142"}):
        await federation.search("lakeside_so", **fields)

    assert find_plaintext(federation.hub_config.data_dir) == []
    # Control: the owning node's store does hold it.
    assert find_plaintext(federation.node_configs["rivertown_pd"].data_dir)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([common_pb2.BloomFilter(kind=common_pb2.IDENTIFIER_KIND_GIVEN_NAME,
                                 bits=bytes(FILTER_BYTES))] * (MAX_FILTERS_PER_QUERY + 1),
         f"SearchRequest.filters: {MAX_FILTERS_PER_QUERY + 1} filters, at most"),
        ([common_pb2.BloomFilter(kind=common_pb2.IDENTIFIER_KIND_GIVEN_NAME,
                                 bits=bytes(64 * 1024))],
         "SearchRequest.filters[0].bits: 65536 bytes"),
    ],
)
async def test_hub_refuses_oversize_encodings(federation: LiveFederation,
                                              filters: list[common_pb2.BloomFilter],
                                              message: str) -> None:
    creds = federation.node_configs["lakeside_so"].tls.channel_credentials()
    request = hub_pb2.SearchRequest(
        case_number="C-1", purpose="human_trafficking", agreement="local-pilot",
        tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_BLOCKING_KEY, value=bytes(32))],
        filters=filters)
    async with grpc.aio.secure_channel(federation.hub_config.listen, creds,
                                       options=channel_options()) as channel:
        with pytest.raises(RemoteError) as info:
            await call(hub_pb2_grpc.HubServiceStub(channel).Search, request, timeout=5,
                       metadata=[("authorization", f"Bearer {federation.token('lakeside_so')}")])
    assert info.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.message.startswith(message)
