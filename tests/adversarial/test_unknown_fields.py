"""Unknown fields: refused by name, never silently ignored.

Protobuf keeps the fields a schema does not know and the code never reads
them, so a request that sets one (a newer client's restriction, a wrong field
number) used to be answered as if it had not: it failed open.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from accord.rpc import unknown_field
from accord.v1 import common_pb2, hub_pb2, node_pb2
from tests.adversarial.conftest import Federation, running_federation

#: Field 99, length-delimited, holding text: what a newer schema's field might carry.
EXTRA = bytes([99 << 3 & 0x7F | 0x80 | 2, 99 >> 4]) + bytes([21]) + b"limit_to=rms_incident"


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    yield from running_federation(tmp_path_factory.mktemp("unknown") / "fed")


def raw_call(target: str, creds: grpc.ChannelCredentials, method: str, raw: bytes,
             token: str) -> tuple[grpc.StatusCode, str]:
    with grpc.secure_channel(target, creds) as channel:
        try:
            channel.unary_unary(method)(raw, timeout=15,
                                        metadata=(("authorization", f"Bearer {token}"),))
        except grpc.RpcError as exc:
            return exc.code(), exc.details()  # type: ignore[attr-defined]
    return grpc.StatusCode.OK, ""


@pytest.mark.parametrize(("where", "method", "message"), [
    ("hub", "/accord.v1.HubService/ListWatches", hub_pb2.ListWatchesRequest()),
    ("hub", "/accord.v1.HubService/ListReleases", hub_pb2.ListReleasesRequest()),
    ("gateway", "/accord.v1.GatewayService/LocalSearch", node_pb2.LocalSearchRequest(
        case_number="C-1", purpose="human_trafficking", phone="503-555-0142")),
])
def test_a_request_with_an_unknown_field_is_refused_by_its_number(
        fed: Federation, where: str, method: str, message: object) -> None:
    target = fed.hub_target if where == "hub" else fed.node_target("lakeside_so")
    token = fed.token("lakeside_so", sub="det.unknown")
    plain = message.SerializeToString()  # type: ignore[attr-defined]
    assert raw_call(target, fed.agency_creds("lakeside_so"), method, plain, token)[0] \
        == grpc.StatusCode.OK
    code, detail = raw_call(target, fed.agency_creds("lakeside_so"), method, plain + EXTRA,
                            token)
    name = type(message).__name__
    assert (code, detail) == (grpc.StatusCode.INVALID_ARGUMENT,
                              f"{method}: {name}: unknown field 99; this server does not "
                              "know it (is the client newer?)")


def test_an_unknown_field_deep_in_a_message_is_found_by_its_path() -> None:
    token = common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=bytes(32))
    request = node_pb2.MatchTokensRequest(search_id="s", tokens=[token, token])
    plain = request.SerializeToString()
    assert unknown_field(node_pb2.MatchTokensRequest.FromString(plain), plain) is None
    nested = node_pb2.MatchTokensRequest(search_id="s")
    nested.tokens.add().CopyFrom(token)
    nested.tokens.add().ParseFromString(token.SerializeToString() + EXTRA)
    raw = nested.SerializeToString()
    assert unknown_field(node_pb2.MatchTokensRequest.FromString(raw), raw) == (
        "MatchTokensRequest.tokens[1]: unknown field 99")
    # Encoded unusually (a field twice, the last one counting), but nothing unknown.
    unusual = plain + node_pb2.MatchTokensRequest(search_id="t").SerializeToString()
    assert unknown_field(node_pb2.MatchTokensRequest.FromString(unusual), unusual) is None
