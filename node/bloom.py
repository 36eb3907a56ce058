"""Keyed, balanced Bloom filters of character bigrams, compared by Dice coefficient.

A cryptographic long-term key (CLK, Schnell et al. 2009) encodes a string as
the set of its character bigrams (``"_jazmin_"`` -> ``_j ja az zm mi in
n_``) hashed into a bit array: each bigram sets ``k`` bits whose positions
come from HMAC-SHA256 under a secret key. Two spellings that share most
bigrams share most bits, so the Dice coefficient of the filters approximates
that of the bigram sets, while without the key nobody can compute the filter
of a guessed name.

Hardening against frequency attacks: a plain CLK leaks its Hamming weight
(roughly the length of the name) and frequent bigrams set frequent bits. Here
every filter is *balanced* (Schnell, Borgs, Encarnação 2016): the
``RAW_BITS``-bit filter ``f`` is followed by its complement ``~f`` and the
``2 * RAW_BITS`` bits are permuted under the key, so every encoding has
exactly ``RAW_BITS`` ones. One filter alone does not tell filter bits from
complement bits; but the permutation is the same for every filter of a kind
and agreement, so an observer of many (the hub relays query filters and keeps
watches') can tell them apart statistically (a filter bit is set in fewer
than half of all filters) and recover each filter's raw weight, roughly the
name's length (docs/threat-model.md, "Residual risks"). The key is separate
per field kind and per agreement (HKDF,
see :mod:`node.tokens`), so the same name encodes to unrelated filters under
another federation or agreement, and a given-name filter never lines up with
a family-name one.

For balanced filters ``a`` and ``b`` the Dice coefficient is
``|a & b| / RAW_BITS = 1 - hamming(f_a, f_b) / RAW_BITS``: 1.0 for equal
strings, about 0.5 to 0.65 for unrelated ones.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Final

from accord.tokens import FILTER_BYTES

__all__ = ["FILTER_BYTES", "RAW_BITS", "BloomEncoder", "bigrams", "dice"]

#: Bits of the raw (unbalanced) filter; the balanced encoding, of
#: ``FILTER_BYTES`` bytes, has twice as many.
RAW_BITS: Final = FILTER_BYTES * 8 // 2
_POSITION_BITS: Final = (RAW_BITS - 1).bit_length()  # 9 bits address 512 positions
_MAX_K: Final = 256 // _POSITION_BITS


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of ``text`` padded with ``_``; spaces become ``_`` too.

    ``"de la"`` -> ``{_d, de, e_, _l, la, a_}``. ``""`` has none.
    """
    words = text.split()
    if not words:
        return frozenset()
    padded = "_" + "_".join(words) + "_"
    return frozenset(padded[i : i + 2] for i in range(len(padded) - 1))


def dice(a: int, b: int) -> float:
    """Dice coefficient of two balanced filters given as integers."""
    return (a & b).bit_count() / RAW_BITS


class BloomEncoder:
    """Encodes strings of one field kind under one key.

    ``k`` is the number of bits each bigram sets in the raw filter (at most
    28). Encodings are memoised per bigram and per string: names and
    addresses recur across records.
    """

    def __init__(self, key: bytes, k: int) -> None:
        if not 1 <= k <= _MAX_K:
            raise ValueError(f"k: got {k}, want 1 to {_MAX_K}")
        if len(key) < 32:
            raise ValueError("key: want at least 32 bytes")
        self._key = key
        self._k = k
        self._perm = self._permutation()
        ones_second_half = ((1 << RAW_BITS) - 1) << RAW_BITS
        self._flip = self._permute(ones_second_half)
        self._mask = functools.lru_cache(maxsize=4096)(self._bigram_mask)
        self.encode_int = functools.lru_cache(maxsize=1 << 15)(self._encode_int)

    def _permutation(self) -> list[int]:
        """A key-dependent permutation of the ``2 * RAW_BITS`` bit positions.

        Fisher-Yates driven by HMAC-SHA256 in counter mode; rejection sampling
        keeps it unbiased.
        """
        size = 2 * RAW_BITS
        perm = list(range(size))
        stream = self._stream(b"accord/v1 bloom permutation")
        for i in range(size - 1, 0, -1):
            bound = i + 1
            limit = (1 << 16) - (1 << 16) % bound
            while True:
                value = next(stream)
                if value < limit:
                    break
            j = value % bound
            perm[i], perm[j] = perm[j], perm[i]
        return perm

    def _stream(self, label: bytes):  # type: ignore[no-untyped-def]  # generator of 16-bit ints
        counter = 0
        while True:
            block = hmac.new(self._key, label + counter.to_bytes(8, "big"), hashlib.sha256).digest()
            counter += 1
            for i in range(0, len(block), 2):
                yield int.from_bytes(block[i : i + 2], "big")

    def _permute(self, value: int) -> int:
        out = 0
        perm = self._perm
        while value:
            low = value & -value
            out |= 1 << perm[low.bit_length() - 1]
            value ^= low
        return out

    def _bigram_mask(self, bigram: str) -> int:
        """The bigram's bits, doubled into both halves and permuted."""
        digest = int.from_bytes(hmac.digest(self._key, bigram.encode("utf-8"), "sha256"), "big")
        raw = 0
        for i in range(self._k):
            raw |= 1 << ((digest >> (i * _POSITION_BITS)) & (RAW_BITS - 1))
        return self._permute(raw | (raw << RAW_BITS))

    def _encode_int(self, text: str) -> int:
        # P(f || ~f) = P(f || f) xor P(0 || 1...1), and P distributes over "or".
        doubled = 0
        for bigram in bigrams(text):
            doubled |= self._mask(bigram)
        return doubled ^ self._flip

    def encode(self, text: str) -> bytes:
        """The balanced filter of ``text`` (already normalised), ``FILTER_BYTES`` long."""
        return self.encode_int(text).to_bytes(FILTER_BYTES, "big")
