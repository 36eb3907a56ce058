"""Wire-level facts about keyed tokens that the hub and the nodes share.

The hub handles tokens only as opaque 32-byte values; it cannot make or invert
them (see :mod:`node.tokens` for how nodes make them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

TOKEN_BYTES = 32
#: The most tokens one search may carry.
MAX_TOKENS_PER_QUERY = 64


def tokens_digest(tokens: Iterable[tuple[int, bytes]]) -> str:
    """A digest of a set of (kind, token) pairs, for audit entries.

    SHA-256 over the sorted, de-duplicated pairs. The tokens are keyed already,
    so the digest reveals nothing without the federation secret; it lets an
    auditor tell whether two searches asked for the same identifiers.
    """
    h = hashlib.sha256(b"accord/v1 token digest\x00")
    for kind, value in sorted(set(tokens)):
        h.update(kind.to_bytes(2, "big") + value)
    return h.hexdigest()
