"""The shapes of the identifiers every component checks, each defined once.

Agencies, agreements, purposes, pointer handles and search ids cross every
boundary (agreement files, tokens, grants, hub and node RPCs), and each side
checks them. ``\\Z``, not ``$``: with ``re.match``, ``$`` also matches before a
final newline. The agreement schema (``accord/agreement_schema.json``) states
the same patterns for agreement files; tests keep the two in step.
"""

from __future__ import annotations

import re

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
