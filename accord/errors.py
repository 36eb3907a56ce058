"""One error hierarchy for all of Accord.

Every error class declares the gRPC status it maps to; :mod:`accord.rpc` is the
only module that turns errors into statuses (server side) and statuses back
into typed errors (client side). Messages of input errors are precise and name
the field; messages of crypto and authentication failures are deliberately
opaque, so they tell an attacker nothing.
"""

from __future__ import annotations

from typing import ClassVar

import grpc


class AccordError(Exception):
    """Base of every error Accord raises on purpose."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, *, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        #: Machine-readable reason codes (policy denials carry them).
        self.reasons = reasons

    @property
    def status(self) -> grpc.StatusCode:
        """The gRPC status this error is answered with."""
        return self.code


class ConfigError(AccordError):
    """A configuration file or value is missing or wrong."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class InvalidArgument(AccordError):
    """A request field is malformed; the message names the field."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class InvalidRecord(InvalidArgument):
    """A source row or record does not fit the canonical schema."""


class MappingError(ConfigError):
    """An ingest mapping file is malformed; the message names the file and key."""


class Unauthenticated(AccordError):
    """The caller could not be authenticated. Deliberately vague."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(AccordError):
    """The caller is known but not allowed to do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(AccordError):
    """The thing asked for does not exist (or the caller may not know it does)."""

    code = grpc.StatusCode.NOT_FOUND


class ResourceExhausted(AccordError):
    """A limit was hit: message size, rate, fan-out."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(AccordError):
    """A peer or a store cannot be reached right now."""

    code = grpc.StatusCode.UNAVAILABLE


class AuditUnavailable(Unavailable):
    """The audit log cannot be written, so the action is refused (fail closed)."""


class CryptoError(AccordError):
    """A signature, MAC or decryption check failed. Never says which or why."""

    code = grpc.StatusCode.UNAUTHENTICATED

    def __init__(self, message: str = "cryptographic verification failed") -> None:
        super().__init__(message)


class RemoteError(AccordError):
    """An error a peer returned over gRPC, re-raised on the client side."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self._status = code

    @property
    def status(self) -> grpc.StatusCode:
        """The peer's status, relayed as it is (a gateway passes the hub's on)."""
        return self._status

    def __str__(self) -> str:
        return f"{self.status.name}: {self.message}"
