"""Logging set-up: structlog, configured once per process.

Every line is one JSON object (or a readable console line in development) with
the request id and other context bound per request. A redaction processor runs
before rendering: values under identifier-like keys are replaced, and control
characters are escaped so no value can forge or split a log line. The audit log
is a separate, schema'd record (see ``hub.audit``), not these logs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

#: Keys whose values are identifiers (or could carry them) and never reach a log.
REDACTED_KEYS = frozenset(
    {
        "name", "given", "family", "alias", "aliases", "nickname", "nicknames",
        "dob", "dobs", "phone", "phones", "email", "emails", "address", "addresses",
        "plate", "vin", "query", "token", "tokens", "authorization", "jwt",
        "secret", "federation_secret", "body", "record",
    }
)
REDACTED = "[redacted]"
MAX_VALUE_CHARS = 2048


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + "...[truncated]"
        return value.encode("unicode_escape").decode("ascii") if not value.isprintable() else value
    # Nested values get the same treatment: an identifier under a redacted key
    # inside a dict is still an identifier.
    if isinstance(value, dict):
        return {k: REDACTED if isinstance(k, str) and k.lower() in REDACTED_KEYS else _clean(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace identifier values and neutralise control characters, at any depth."""
    for key in list(event):
        if key.lower() in REDACTED_KEYS:
            event[key] = REDACTED
        elif key != "exception":
            event[key] = _clean(event[key])
    return event


def configure(*, json: bool = True, file: Path | None = None, level: str = "info") -> None:
    """Configure structlog for this process. Call once, at the composition root."""
    stream: TextIO
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        stream = file.open("a", encoding="utf-8", buffering=1)
    else:
        stream = sys.stderr
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
