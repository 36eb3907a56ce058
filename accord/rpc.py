"""The one place where Accord errors become gRPC statuses and back.

Servers wrap every RPC method with :func:`rpc_method`: it binds a request id to
the log context, turns an :class:`AccordError` into its declared status, turns
anything unexpected into an opaque ``INTERNAL`` (logged with its traceback on
the server, never sent to the client), and writes one canonical log line per
call. Clients call through :func:`call`, which turns a gRPC error into a typed
:class:`RemoteError`.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc
import structlog
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError, Message  # type: ignore[import-untyped]
from google.protobuf.unknown_fields import UnknownFieldSet  # type: ignore[import-untyped]
from sqlalchemy.exc import OperationalError

from accord.errors import AccordError, RemoteError

log = structlog.get_logger("accord.rpc")

_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")
_Self = TypeVar("_Self")

#: Default and ceiling for message sizes, both directions.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def server_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    """Channel arguments every Accord server uses."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.so_reuseport", 0),
    ]


#: The longest a client channel waits between reconnection attempts.
MAX_RECONNECT_BACKOFF_MS = 5000


def channel_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    """Channel arguments every Accord client uses."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        # Our certificates name the hosts; keep the default authority checks.
        ("grpc.enable_retries", 0),
        # After a peer restarts, reconnect within seconds: gRPC's backoff grows
        # to 120 s by default, so a node could miss a hub back up for minutes.
        ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
    ]


def metadata_value(context: grpc.aio.ServicerContext, key: str) -> str | None:
    """The single value of an invocation metadata key, or None."""
    for item in context.invocation_metadata() or ():
        if item.key == key:
            value = item.value
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def rpc_method(
    method: Callable[[_Self, _Req, grpc.aio.ServicerContext], Awaitable[_Resp]],
) -> Callable[[_Self, _Req, grpc.aio.ServicerContext], Awaitable[_Resp]]:
    """Wrap a grpc.aio servicer method with error mapping and one log line."""

    @functools.wraps(method)
    async def wrapper(self: _Self, request: _Req, context: grpc.aio.ServicerContext) -> _Resp:
        request_id = metadata_value(context, "x-request-id") or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method.__name__)
        started = time.perf_counter()
        outcome = "OK"
        try:
            return await method(self, request, context)
        except AccordError as exc:
            outcome = exc.status.name
            metrics = getattr(self, "metrics", None)
            if metrics is not None:
                for reason in exc.reasons:
                    metrics.denials.labels(reason).inc()
            await context.abort(exc.status, exc.message)
            raise  # unreachable: abort raises
        except OperationalError as exc:
            # The database went away (or never answered): the caller can try
            # again later, and should hear that, not "internal error". The
            # driver's message may quote a statement's values: only its type
            # is logged.
            outcome = "UNAVAILABLE"
            log.error("database_unavailable", error=type(exc.orig).__name__)
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                "the database is unavailable; try again later")
            raise
        except Exception:
            outcome = "INTERNAL"
            log.exception("rpc_failed")
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            raise
        finally:
            elapsed = time.perf_counter() - started
            log.info("rpc", outcome=outcome, duration_ms=round(elapsed * 1000, 2))
            metrics = getattr(self, "metrics", None)
            if metrics is not None:
                metrics.rpc_requests.labels(method.__name__, outcome).inc()
                metrics.rpc_seconds.labels(method.__name__).observe(elapsed)
            structlog.contextvars.unbind_contextvars("request_id", "rpc")

    return wrapper


def unknown_field(request: Message, raw: bytes) -> str | None:
    """Where ``request`` (parsed from ``raw``) holds a field its schema does not know, or None.

    ``"SearchRequest.tokens[2]: unknown field 99"``. Protobuf keeps unknown
    fields and the code never reads them: a caller that sets one (a newer
    restriction, a typo'd field number) would be answered as if it had not.
    The fast check is in C: without its unknown fields, a message re-encodes
    to exactly ``raw`` unless ``raw`` held some (or was encoded unusually,
    which the walk then tells apart).
    """
    bare = type(request).FromString(raw)
    bare.DiscardUnknownFields()
    if bare.ByteSize() == len(raw):
        return None
    return _walk_unknown(request, request.DESCRIPTOR.name)


def _walk_unknown(message: Message, path: str) -> str | None:
    found = UnknownFieldSet(message)
    if len(found):
        return f"{path}: unknown field {found[0].field_number}"
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if not field.is_repeated:
            items = [(f"{path}.{field.name}", value)]
        elif field.message_type.GetOptions().map_entry:
            is_message = field.message_type.fields_by_name["value"].type == \
                FieldDescriptor.TYPE_MESSAGE
            items = [(f"{path}.{field.name}[{k!r}]", v) for k, v in value.items()] \
                if is_message else []
        else:
            items = [(f"{path}.{field.name}[{i}]", v) for i, v in enumerate(value)]
        for where, item in items:
            problem = _walk_unknown(item, where)
            if problem is not None:
                return problem
    return None


class RequestDecoding(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Answer a request that does not parse, or holds unknown fields, with INVALID_ARGUMENT.

    Left to itself, grpc.aio answers UNKNOWN with the parser's exception text
    ("Unexpected <class 'DecodeError'>: ..."). This takes the raw bytes instead
    and parses them itself: corrupt wire format, invalid UTF-8 in a string
    field and nesting past the parser's recursion limit are the caller's fault.
    So is a field this version does not know (see :func:`unknown_field`):
    refused by its number, never silently ignored.
    Servers pass it to ``grpc.aio.server(interceptors=[RequestDecoding()])``.
    """

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Any]], details: Any,
    ) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None or handler.request_deserializer is None:
            return handler  # streams (health watch, reflection) keep their own handling
        parse = handler.request_deserializer
        behaviour = handler.unary_unary

        async def parsed(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            try:
                request = parse(raw)
            except DecodeError:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"{details.method}: the request is not a valid message")
            problem = unknown_field(request, raw)
            if problem is not None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"{details.method}: {problem}; this server does not "
                                    "know it (is the client newer?)")
            return await behaviour(request, context)

        return grpc.unary_unary_rpc_method_handler(
            parsed, response_serializer=handler.response_serializer)


async def call(
    rpc: Callable[..., Any],
    request: Any,
    *,
    timeout: float,
    metadata: Sequence[tuple[str, str]] = (),
) -> Any:
    """Call a unary RPC; a gRPC failure raises :class:`RemoteError` with its status."""
    try:
        return await rpc(request, timeout=timeout, metadata=tuple(metadata))
    except grpc.aio.AioRpcError as exc:
        raise RemoteError(exc.code(), exc.details() or exc.code().name) from exc
