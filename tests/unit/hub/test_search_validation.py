"""The hub's validation of search requests and node pointers, for the matching fields."""

from __future__ import annotations

import pytest

from accord.errors import InvalidArgument
from accord.tokens import FILTER_BYTES, MAX_AGREEMENTS_PER_POINTER, MAX_FILTERS_PER_QUERY
from accord.v1 import common_pb2, hub_pb2
from hub.search import Pointer, SearchQuery

GIVEN = common_pb2.IDENTIFIER_KIND_GIVEN_NAME
FAMILY = common_pb2.IDENTIFIER_KIND_FAMILY_NAME
EXACT = common_pb2.AGREEMENT_LEVEL_EXACT
APPROX = common_pb2.AGREEMENT_LEVEL_APPROXIMATE


def request(filters: list[common_pb2.BloomFilter]) -> hub_pb2.SearchRequest:
    return hub_pb2.SearchRequest(
        case_number="C-1", purpose="human_trafficking", agreement="local-pilot",
        tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_BLOCKING_KEY, value=bytes(32))],
        filters=filters,
    )


def bloom(kind: int = GIVEN, size: int = FILTER_BYTES, fill: int = 1) -> common_pb2.BloomFilter:
    return common_pb2.BloomFilter(kind=kind, bits=bytes([fill]) * size)  # type: ignore[arg-type]


def test_filters_are_relayed_to_the_nodes() -> None:
    query = SearchQuery.from_proto(request([bloom(GIVEN), bloom(FAMILY, fill=2)]))
    node_request = query.to_node_request("s1", "lakeside_so", 10, ["cad_call"])
    assert [(f.kind, f.bits) for f in node_request.filters] == [
        (GIVEN, bytes([1]) * FILTER_BYTES), (FAMILY, bytes([2]) * FILTER_BYTES)]
    assert node_request.tokens[0].kind == common_pb2.IDENTIFIER_KIND_BLOCKING_KEY


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([bloom(fill=i) for i in range(MAX_FILTERS_PER_QUERY + 1)],
         f"SearchRequest.filters: {MAX_FILTERS_PER_QUERY + 1} filters, at most"),
        ([bloom(size=FILTER_BYTES + 1)], f"SearchRequest.filters[0].bits: {FILTER_BYTES + 1} bytes"),
        ([bloom(size=1 << 16)], "SearchRequest.filters[0].bits: 65536 bytes"),
        ([bloom(size=0)], "SearchRequest.filters[0].bits: 0 bytes"),
        ([bloom(kind=common_pb2.IDENTIFIER_KIND_PHONE)], "SearchRequest.filters[0].kind: got 4"),
        ([bloom(kind=0)], "SearchRequest.filters[0].kind: got 0"),
    ],
)
def test_bad_filters_are_refused(filters: list[common_pb2.BloomFilter], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        SearchQuery.from_proto(request(filters))
    assert info.value.message.startswith(message)


def pointer(*agreements: common_pb2.FieldAgreement) -> common_pb2.MatchPointer:
    return common_pb2.MatchPointer(handle="ptr_" + "a" * 24, agency="x",
                                   strength=common_pb2.MATCH_STRENGTH_POSSIBLE,
                                   agreements=agreements)


def agreement(kind: int = GIVEN, level: int = APPROX,
              basis: int = common_pb2.AGREEMENT_BASIS_NICKNAME) -> common_pb2.FieldAgreement:
    return common_pb2.FieldAgreement(kind=kind, level=level, basis=basis)  # type: ignore[arg-type]


def test_pointer_explanations_pass_through() -> None:
    p = Pointer.from_node(pointer(agreement(), agreement(FAMILY, EXACT,
                                                         common_pb2.AGREEMENT_BASIS_SAME_VALUE)),
                          "rivertown_pd")
    back = p.to_proto()
    assert [(a.kind, a.level, a.basis) for a in back.agreements] == [
        (GIVEN, APPROX, common_pb2.AGREEMENT_BASIS_NICKNAME),
        (FAMILY, EXACT, common_pb2.AGREEMENT_BASIS_SAME_VALUE)]
    assert back.agency == "rivertown_pd"


@pytest.mark.parametrize(
    ("agreements", "message"),
    [
        ([agreement(kind=common_pb2.IDENTIFIER_KIND_BLOCKING_KEY)], "pointer.agreements.kind"),
        ([agreement(kind=99)], "pointer.agreements.kind"),
        ([agreement(level=0)], "pointer.agreements: unknown level or basis"),
        ([agreement(level=7)], "pointer.agreements: unknown level or basis"),
        ([agreement(basis=0)], "pointer.agreements: unknown level or basis"),
        ([agreement(), agreement()], "pointer.agreements: a field named twice"),
        ([agreement()] * (MAX_AGREEMENTS_PER_POINTER + 1), "pointer.agreements: too many"),
    ],
)
def test_bad_pointer_explanations_are_refused(agreements: list[common_pb2.FieldAgreement],
                                              message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        Pointer.from_node(pointer(*agreements), "rivertown_pd")
    assert info.value.message.startswith(message)


@pytest.mark.parametrize("field", ["case_number", "purpose", "agreement"])
def test_a_trailing_newline_is_refused(field: str) -> None:
    # With re.match, "$" also matched before a final newline: "LS-1\n" was audited as a case.
    ask = request([])
    setattr(ask, field, getattr(ask, field) + "\n")
    with pytest.raises(InvalidArgument) as info:
        SearchQuery.from_proto(ask)
    assert info.value.message.startswith(f"SearchRequest.{field}: ")


def test_a_watch_request_is_named_as_such_in_its_errors() -> None:
    from hub.watches import WatchAsk

    with pytest.raises(InvalidArgument) as info:
        WatchAsk.from_proto(hub_pb2.AddWatchRequest(case_number="LS-1\n",
                                                    purpose="human_trafficking",
                                                    agreement="local-pilot"))
    assert info.value.message.startswith("AddWatchRequest.case_number: ")
