"""How a servicer's failures reach its caller (accord.rpc.rpc_method)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from sqlalchemy.exc import OperationalError

from accord.rpc import rpc_method


class Aborted(Exception):
    pass


class Context:
    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    def invocation_metadata(self) -> tuple[Any, ...]:
        return ()

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.aborted = (code, details)
        raise Aborted


class Servicer:
    def __init__(self, failure: BaseException) -> None:
        self.failure = failure

    @rpc_method
    async def Call(self, request: object, context: Any) -> object:
        raise self.failure


def aborted_with(failure: BaseException) -> tuple[grpc.StatusCode, str] | None:
    context = Context()
    with pytest.raises(Aborted):
        asyncio.run(Servicer(failure).Call(object(), context))
    return context.aborted


def test_a_database_that_is_away_is_unavailable_not_internal() -> None:
    away = OperationalError("SELECT * FROM releases WHERE requester = 'det.a'", {},
                            ConnectionRefusedError("connection refused"))
    assert aborted_with(away) == (grpc.StatusCode.UNAVAILABLE,
                                  "the database is unavailable; try again later")


def test_anything_else_unexpected_is_an_opaque_internal_error() -> None:
    assert aborted_with(ValueError("Jazmin Ramirez")) == (grpc.StatusCode.INTERNAL,
                                                          "internal error")
