"""The shapes of the identifiers every component checks, each defined once.

Agencies, agreements, purposes, pointer handles and search ids cross every
boundary (agreement files, tokens, grants, hub and node RPCs), and each side
checks them. ``\\Z``, not ``$``: with ``re.match``, ``$`` also matches before a
final newline. The agreement schema (``accord/agreement_schema.json``) states
the same patterns for agreement files; tests keep the two in step.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from accord.errors import InvalidArgument

#: An agency id: ``rivertown_pd``.
AGENCY_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}\Z")
#: An agreement id: ``local-pilot``.
AGREEMENT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
#: A purpose id: ``missing_person``.
PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")
#: A pointer handle, as nodes issue them: ``ptr_`` and 16 to 64 base64url characters.
POINTER_RE = re.compile(r"^ptr_[A-Za-z0-9_-]{16,64}\Z")
#: A search id, as the hub gives nodes.
SEARCH_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
#: A case number: ``LS-2026-0117``.
CASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}\Z")


class Shape(NamedTuple):
    """An identifier's pattern and how an error message says what is wanted."""

    pattern: re.Pattern[str]
    want: str


AGENCY = Shape(AGENCY_RE, "an agency id like 'rivertown_pd'")
AGREEMENT = Shape(AGREEMENT_RE, "an agreement id")
PURPOSE = Shape(PURPOSE_RE, "a purpose id like 'human_trafficking'")
POINTER = Shape(POINTER_RE, "a pointer handle (ptr_ and 16 to 64 base64url characters)")
SEARCH_ID = Shape(SEARCH_ID_RE, "a search id (1 to 64 base64url characters)")
CASE = Shape(CASE_RE, "1-64 letters, digits or ._/- starting with a letter or digit")


def check_id(field: str, value: str, shape: Shape) -> str:
    """``value`` if it has ``shape``.

    Raises:
        InvalidArgument: naming ``field`` (``SearchRequest.purpose``), the value
            (its first 80 characters) and what is wanted.
    """
    if not shape.pattern.match(value):
        raise InvalidArgument(f"{field}: got {value[:80]!r}, want {shape.want}")
    return value
