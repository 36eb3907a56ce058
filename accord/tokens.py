"""Wire-level facts about keyed tokens that the hub and the nodes share.

The hub handles tokens only as opaque 32-byte values; it cannot make or invert
them (see :mod:`node.tokens` for how nodes make them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from accord.v1 import common_pb2

TOKEN_BYTES = 32
#: The most tokens one search may carry: exact tokens, field encodings
#: (phonetic codes, nickname-canonical names, date variants, ten masked
#: phones) and blocking keys of one person come to 40 to 70.
MAX_TOKENS_PER_QUERY = 128
#: Bytes of one keyed Bloom filter (512 bits balanced to 1024).
FILTER_BYTES = 128
#: The most Bloom filters one search may carry.
MAX_FILTERS_PER_QUERY = 8
#: Identifier kinds a Bloom filter may have: given name, family name, address.
FILTER_KINDS = frozenset({
    common_pb2.IDENTIFIER_KIND_GIVEN_NAME, common_pb2.IDENTIFIER_KIND_FAMILY_NAME,
    common_pb2.IDENTIFIER_KIND_ADDRESS,
})
#: Identifier kinds a pointer's match explanation may name: given name,
#: family name, date of birth, phone, email, address, plate, VIN.
AGREEMENT_KINDS = frozenset({
    common_pb2.IDENTIFIER_KIND_GIVEN_NAME, common_pb2.IDENTIFIER_KIND_FAMILY_NAME,
    common_pb2.IDENTIFIER_KIND_DOB, common_pb2.IDENTIFIER_KIND_PHONE,
    common_pb2.IDENTIFIER_KIND_EMAIL, common_pb2.IDENTIFIER_KIND_ADDRESS,
    common_pb2.IDENTIFIER_KIND_PLATE, common_pb2.IDENTIFIER_KIND_VIN,
})
#: The most field agreements one pointer may carry.
MAX_AGREEMENTS_PER_POINTER = 16


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
