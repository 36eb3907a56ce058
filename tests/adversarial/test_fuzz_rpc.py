"""Property-based fuzzing of every RPC, over real mTLS, against real servers.

Requests are built from the proto descriptors, so a field added to a proto is
fuzzed without touching this file. Each service is called as the party allowed
to call it (the right certificate, a token with every role), so the random
requests get past authentication into validation and the domain code. Every
failure must be a proper status: never INTERNAL or UNKNOWN (an unhandled
exception) and never a hang. After each property the servers must still serve.

``make test`` runs the ``ci`` hypothesis profile (few examples, derandomised);
``HYPOTHESIS_PROFILE=fuzz`` runs many more.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor as pb_descriptor
from google.protobuf import message as pb_message
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import assume, example, given
from hypothesis import strategies as st

from accord.rpc import channel_options
from accord.v1 import hub_pb2, node_pb2
from tests.adversarial.conftest import UNHANDLED, Federation, attempt, expect, running_federation
from tests.integration.test_search import cad_call, tip

FieldDescriptor = pb_descriptor.FieldDescriptor

#: Values that get past the first checks, so the fuzzer reaches deeper code.
PLAUSIBLE = [
    "", " ", "C-1", "LS-2026-0117", "human_trafficking", "victim_services", "curiosity",
    "local-pilot", "coastal-task-force", "lakeside_so", "rivertown_pd", "tip_hotline",
    "ptr_" + "A" * 22, "rel_" + "B" * 24, "det.test", "cad_call", "2026-09", "sealed",
    "Jazmin Ramirez", "RAMIREZ, JAZMIN", "1999-03-04", "03/04/1999", "503-555-0142",
    "+15035550142", "jazzy@example.org", "OR:7KDX214", "1HGCM82633A004352",
    "12 Main St", "2026-11-23T15:00:00Z", "search", "ok", "denied", "release_granted",
    "0", "-1", "\x00", "\n", "%s%n", "' OR 1=1 --", "../../etc/passwd", "ﾟ", "\u202e",
]
WORDS = st.text(alphabet=string.ascii_letters + string.digits + "_-.:/@+ ", max_size=40)
TEXT = st.one_of(st.sampled_from(PLAUSIBLE), WORDS,
                 st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
BYTES = st.one_of(st.binary(max_size=80), st.binary(min_size=32, max_size=32),
                  st.sampled_from([b"", b"{}", b'{"grant":"{}","sig":""}', b"\x00" * 32]))
_INTS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def integers(low: int, high: int) -> st.SearchStrategy[int]:
    """Small numbers most of the time, the extremes sometimes."""
    edges = sorted({low, high, 0, 1, 2, 3, 1000} & set(range(low, high + 1))
                   if high - low < 10**6 else {low, high, 0, 1, 2, 3, 1000, high - 1})
    return st.one_of(st.sampled_from([e for e in edges if low <= e <= high]),
                     st.integers(max(low, -5), min(high, 5000)), st.integers(low, high))


def field_values(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return TEXT
    if kind == FieldDescriptor.TYPE_BYTES:
        return BYTES
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, width=64 if kind == FieldDescriptor.TYPE_DOUBLE else 32)
    if kind == FieldDescriptor.TYPE_ENUM:
        # proto3 enums are open: unknown numbers arrive as they are.
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), integers(-(2**31), 2**31 - 1))
    if kind == FieldDescriptor.TYPE_MESSAGE:
        return messages(field.message_type, depth + 1)
    return integers(*_INTS[kind])


def messages(descriptor: pb_descriptor.Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    """Random instances of the message ``descriptor`` describes."""
    cls = message_factory.GetMessageClass(descriptor)
    if depth > 3:
        return st.just(cls())
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        values = field_values(field, depth)
        if field.is_repeated:
            values = st.lists(values, max_size=70 if depth == 0 else 4)
        fields[field.name] = values

    def build(values: dict[str, Any]) -> pb_message.Message:
        msg = cls()
        for name, value in values.items():
            target = getattr(msg, name) if isinstance(value, list) else None
            if target is not None and descriptor.fields_by_name[name].message_type is not None:
                for item in value:
                    target.add().CopyFrom(item)
            elif target is not None:
                target.extend(value)
            elif isinstance(value, pb_message.Message):
                getattr(msg, name).CopyFrom(value)
            else:
                setattr(msg, name, value)
        return msg

    return st.fixed_dictionaries({}, optional=fields).map(build)  # type: ignore[arg-type]


# --- the federation and who calls what ----------------------------------------------------------


@dataclass
class Caller:
    """A service as its rightful caller reaches it."""

    channel: grpc.Channel
    metadata: tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    for live in running_federation(tmp_path_factory.mktemp("fuzz") / "fed"):
        live.live.ingest("rivertown_pd", [cad_call()])
        live.live.ingest("tip_hotline", [tip()])
        yield live


@pytest.fixture(scope="module")
def callers(fed: Federation) -> Iterator[dict[str, Caller]]:
    token = fed.token("lakeside_so", sub="det.fuzz",
                      roles=("investigator", "custodian", "auditor"))
    bearer = (("authorization", f"Bearer {token}"),)
    as_lakeside = fed.agency_creds("lakeside_so")
    hub = grpc.secure_channel(fed.hub_target, as_lakeside, options=channel_options())
    node = grpc.secure_channel(fed.node_target("rivertown_pd"), fed.hub_creds(),
                               options=channel_options())
    gateway = grpc.secure_channel(fed.node_target("lakeside_so"), as_lakeside,
                                  options=channel_options())
    yield {
        "HubService": Caller(hub, bearer), "AuditService": Caller(hub, bearer),
        "LogService": Caller(hub, ()), "NodeService": Caller(node, ()),
        "GatewayService": Caller(gateway, bearer),
    }
    for channel in (hub, node, gateway):
        channel.close()


SERVICES = [*hub_pb2.DESCRIPTOR.services_by_name.values(),
            *node_pb2.DESCRIPTOR.services_by_name.values()]
METHODS = [pytest.param(s.name, m, id=f"{s.name}.{m.name}") for s in SERVICES for m in s.methods]


#: No request, however malformed, may get these from a healthy federation.
BAD_ANSWERS = UNHANDLED | {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE}


def known_bug(fed: Federation, method: pb_descriptor.MethodDescriptor, request: Any) -> bool:
    """Requests that hit a reported, not yet fixed bug (each has an xfail test below).

    Remove a clause when its bug is fixed; its xfail test then starts passing.
    """
    return False


def invoke(caller: Caller, method: pb_descriptor.MethodDescriptor, request: bytes,
           timeout: float = 10.0) -> grpc.StatusCode:
    """Send raw request bytes; the status the server answered with."""
    rpc: Callable[..., Any] = caller.channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}")
    try:
        rpc(request, timeout=timeout, metadata=caller.metadata)
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[attr-defined,no-any-return]
    return grpc.StatusCode.OK


def assert_still_serving(fed: Federation, callers: dict[str, Caller]) -> None:
    for caller in (callers["HubService"], callers["NodeService"], callers["GatewayService"]):
        answer = health_pb2_grpc.HealthStub(caller.channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    response = fed.gateway("LocalSearch", node_pb2.LocalSearchRequest(
        case_number="C-1", purpose="human_trafficking", phone="503-555-0142"),
        token=fed.token("lakeside_so", sub="det.after"))
    assert any(p.agency == "rivertown_pd" for p in response.result.pointers)


@pytest.mark.parametrize(("service", "method"), METHODS)
def test_fuzz_every_rpc_with_random_requests(
    fed: Federation, callers: dict[str, Caller], service: str,
    method: pb_descriptor.MethodDescriptor,
) -> None:
    caller = callers[service]

    @given(messages(method.input_type))
    def property_(request: pb_message.Message) -> None:
        assume(not known_bug(fed, method, request))
        code = invoke(caller, method, request.SerializeToString())
        # UNAVAILABLE too: every server here is up, so only a bug would answer it.
        assert code not in BAD_ANSWERS, (code, request)

    property_()
    assert_still_serving(fed, callers)


def nested_groups(depth: int) -> bytes:
    """An unknown field 99 holding ``depth`` nested groups: parsers recurse into these."""
    return b"\x9b\x06" * depth + b"\x9c\x06" * depth


RAW = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"\xff\xff\xff", b"\x0a\x02\xc3\x28", b"\x1a\xff\xff\xff\xff\x0f",
                     nested_groups(200), nested_groups(5000)]),
)


@pytest.mark.parametrize("service", ["HubService", "LogService", "AuditService"])
def test_fuzz_undecodable_requests_to_the_hub_are_invalid_argument(
    fed: Federation, callers: dict[str, Caller], service: str,
) -> None:
    fuzz_raw_bytes(fed, callers, service)


@pytest.mark.parametrize("service", ["NodeService", "GatewayService"])
def test_fuzz_undecodable_requests_to_a_node_are_invalid_argument(
    fed: Federation, callers: dict[str, Caller], service: str,
) -> None:
    fuzz_raw_bytes(fed, callers, service)


def fuzz_raw_bytes(fed: Federation, callers: dict[str, Caller], service: str) -> None:
    methods = [m for s in SERVICES if s.name == service for m in s.methods]

    @given(st.sampled_from(methods), RAW)
    @example(methods[0], nested_groups(5000))      # nesting past the parser's limit
    @example(methods[-1], b"\x0a\x02\xc3\x28")    # invalid UTF-8 in a string field
    @example(methods[0], b"\x1a\xff\xff\xff\xff\x0f")  # a length past the end
    def property_(method: pb_descriptor.MethodDescriptor, raw: bytes) -> None:
        cls = message_factory.GetMessageClass(method.input_type)
        try:
            cls.FromString(raw)
        except pb_message.DecodeError:
            parses = False
        else:
            parses = True
        code = invoke(callers[service], method, raw)
        assert code not in UNHANDLED | {grpc.StatusCode.DEADLINE_EXCEEDED}, (code, raw[:80])
        if not parses:
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, raw[:80])

    property_()
    assert_still_serving(fed, callers)


@pytest.mark.parametrize(("service", "method"), [
    ("HubService", "Search"), ("NodeService", "MatchTokens"), ("GatewayService", "LocalSearch"),
])
def test_oversized_requests_are_resource_exhausted(
    fed: Federation, callers: dict[str, Caller], service: str, method: str,
) -> None:
    descriptor = next(m for s in SERVICES if s.name == service for m in s.methods
                      if m.name == method)
    target = callers[service]
    # A client willing to send 6 MB; the servers accept 4 MB.
    credentials = fed.hub_creds() if service == "NodeService" else fed.agency_creds("lakeside_so")
    address = {"HubService": fed.hub_target, "NodeService": fed.node_target("rivertown_pd"),
               "GatewayService": fed.node_target("lakeside_so")}[service]
    with grpc.secure_channel(address, credentials,
                             options=[("grpc.max_send_message_length", 8 * 1024 * 1024)]) as ch:
        big = Caller(ch, target.metadata)
        request = message_factory.GetMessageClass(descriptor.input_type)()
        text_field = next(f for f in descriptor.input_type.fields
                          if f.type == FieldDescriptor.TYPE_STRING)
        setattr(request, text_field.name, "x" * (6 * 1024 * 1024))
        assert invoke(big, descriptor, request.SerializeToString()) == \
            grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_still_serving(fed, callers)


# --- bugs the fuzzer found, in files this suite may not change ---------------------------------


@pytest.mark.parametrize(("method", "request_"), [
    ("GetInclusionProof", hub_pb2.GetInclusionProofRequest(seq=1, tree_size=10_000)),
    ("GetInclusionProof", hub_pb2.GetInclusionProofRequest(seq=1, tree_size=2**64 - 2)),
    ("GetConsistencyProof", hub_pb2.GetConsistencyProofRequest(old_size=1, new_size=10_000)),
    ("GetConsistencyProof", hub_pb2.GetConsistencyProofRequest(old_size=1, new_size=2**64 - 1)),
])
def test_log_positions_beyond_the_log_are_invalid_argument(
    fed: Federation, method: str, request_: Any,
) -> None:
    err = expect(grpc.StatusCode.INVALID_ARGUMENT, fed.hub, "LogService", method, request_)
    assert "damaged" not in err.message


@pytest.mark.parametrize(("method", "request_"), [
    ("ListEntries", hub_pb2.ListEntriesRequest(start_seq=2**63)),
    ("ListCheckpoints", hub_pb2.ListCheckpointsRequest(start_size=2**64 - 1)),
])
def test_audit_positions_past_sqlite_integers_are_invalid_argument(
    fed: Federation, method: str, request_: Any,
) -> None:
    auditor = fed.token("lakeside_so", sub="aud.fuzz", roles=("auditor",))
    err = attempt(fed.hub, "AuditService", method, request_, token=auditor)
    assert err is None or err.status == grpc.StatusCode.INVALID_ARGUMENT, err
