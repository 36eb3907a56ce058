"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs for the audit log.

The hub's audit log is an append-only list of entries; leaf ``i`` (0-based) is
the entry with sequence number ``i + 1``. Its tree head is the Merkle Tree Hash
(MTH) of RFC 6962 section 2.1 over the entries:

* a leaf hash is ``SHA-256(0x00 || entry)``, an interior node hash is
  ``SHA-256(0x01 || left || right)`` (the prefixes keep a leaf from ever
  passing as a node, and the other way round);
* the root of ``n > 1`` leaves splits them at ``k``, the largest power of two
  below ``n``: ``MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))``;
* the root of the empty tree is ``SHA-256("")`` (:data:`EMPTY_ROOT`).

Storage keeps the hash of every *complete* subtree: the node at ``level`` and
``index`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``.
Complete subtrees never change once their last leaf is appended, so
:func:`new_nodes` tells the store which rows to add on each append, and every
root, inclusion proof and consistency proof, for the current size or any
earlier one, is assembled from O(log n) of those rows (:class:`NodeSource`).

Proof generation takes trusted sizes from the hub and raises
:class:`~accord.errors.InvalidArgument` with a precise message on bad ones.
Proof verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) takes untrusted
input and raises one opaque :class:`~accord.errors.CryptoError` on any failure,
malformed input included, so a caller cannot tell which check failed.

Pure: no I/O, no clock, no randomness; only :mod:`hashlib`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Protocol

from accord.errors import CryptoError, InvalidArgument

#: Size in bytes of every hash here (SHA-256).
HASH_SIZE = 32
#: The largest tree size or leaf index accepted (RFC 9162 sizes are uint64).
MAX_SIZE = 2**64 - 1

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """The leaf hash of one log entry: ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)``.

    A bare primitive: it does not check that its inputs are 32 bytes long.
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


#: The root of the empty tree, ``SHA-256("")`` (RFC 6962 section 2.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()


class NodeSource(Protocol):
    """Read access to the stored hashes of complete subtrees."""

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree at ``level`` (0 = leaves) and ``index``.

        It covers leaves ``[index * 2**level, (index + 1) * 2**level)``. Only
        nodes of complete subtrees are ever asked for.
        """
        ...


# --- computing roots --------------------------------------------------------------------------------------


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` computed from all ``n`` leaf hashes, in O(n) hashes and O(log n) memory.

    For a verifier that holds every entry; the hub uses :func:`root` instead.
    """
    # A stack of complete subtrees (height, hash), heights strictly decreasing
    # from bottom to top: the binary decomposition of the leaves seen so far.
    stack: list[tuple[int, bytes]] = []
    for position, leaf in enumerate(leaf_hashes):
        if not _is_hash(leaf):
            raise InvalidArgument(f"leaf_hashes[{position}]: got {_describe(leaf)}, want {HASH_SIZE} bytes")
        height, value = 0, leaf
        while stack and stack[-1][0] == height:
            value = node_hash(stack.pop()[1], value)
            height += 1
        stack.append((height, value))
    if not stack:
        return EMPTY_ROOT
    # The root hashes the complete subtrees together from right to left.
    value = stack.pop()[1]
    while stack:
        value = node_hash(stack.pop()[1], value)
    return value


def subtree_root(start: int, end: int, source: NodeSource) -> bytes:
    """``MTH(D[start:end])``, the root of the leaves ``start`` to ``end - 1``, from stored nodes.

    Uses O(log n) node reads when ``start`` is a multiple of the smallest power
    of two not below ``end - start``. Every range that roots and proofs need
    is of that kind (``start == 0`` always is); any other range is still
    answered correctly, with more reads. An empty range gives :data:`EMPTY_ROOT`.
    """
    _check_count("subtree_root start", start)
    _check_count("subtree_root end", end)
    if end < start:
        raise InvalidArgument(f"subtree_root end: got {end}, want at least start ({start})")
    if start == end:
        return EMPTY_ROOT
    return _mth(start, end, source)


def root(size: int, source: NodeSource) -> bytes:
    """The tree head ``MTH(D[size])`` of the first ``size`` leaves, from stored nodes."""
    _check_count("tree size", size)
    return subtree_root(0, size, source)


def new_nodes(
    leaf_index: int, leaf: bytes, node: Callable[[int, int], bytes]
) -> list[tuple[int, int, bytes]]:
    """The ``(level, index, hash)`` of every complete subtree that appending a leaf completes.

    Appending leaf number ``leaf_index`` (0-based) with hash ``leaf`` completes
    the leaf itself, ``(0, leaf_index, leaf)``, which comes first, and then one
    more node per trailing one bit of ``leaf_index``: each right child that
    completes completes its parent. ``node(level, index)`` reads the left
    siblings, which are stored already. The store must keep every tuple
    returned, keyed by ``(level, index)``.
    """
    _check_count("leaf_index", leaf_index, maximum=MAX_SIZE - 1)
    if not _is_hash(leaf):
        raise InvalidArgument(f"leaf: got {_describe(leaf)}, want {HASH_SIZE} bytes")
    completed = [(0, leaf_index, leaf)]
    level, index, value = 0, leaf_index, leaf
    while index & 1:
        value = node_hash(node(level, index - 1), value)
        level, index = level + 1, index >> 1
        completed.append((level, index, value))
    return completed


# --- generating proofs ------------------------------------------------------------------------------------


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """The audit path ``PATH(index, D[size])`` of RFC 6962 section 2.1.1, leaf end first.

    Raises :class:`InvalidArgument` unless ``0 <= index < size``.
    """
    _check_count("inclusion proof size", size)
    _check_count("inclusion proof index", index)
    if index >= size:
        raise InvalidArgument(f"inclusion proof index: got {index}, want 0 <= index < {size} (the tree size)")
    proof: list[bytes] = []
    _path(index, 0, size, source, proof)
    return proof


def consistency_proof(old_size: int, new_size: int, source: NodeSource) -> list[bytes]:
    """The consistency proof ``PROOF(old_size, D[new_size])`` of RFC 6962 section 2.1.2.

    Empty when ``old_size`` is 0 or equal to ``new_size``: there is nothing to
    prove then. Raises :class:`InvalidArgument` unless ``0 <= old_size <= new_size``.
    """
    _check_count("consistency proof new_size", new_size)
    _check_count("consistency proof old_size", old_size)
    if old_size > new_size:
        raise InvalidArgument(
            f"consistency proof old_size: got {old_size}, want at most new_size ({new_size})"
        )
    proof: list[bytes] = []
    if 0 < old_size < new_size:
        _subproof(old_size, 0, new_size, True, source, proof)
    return proof


# --- verifying proofs (RFC 9162 section 2.1.3.2 and 2.1.4.2) ----------------------------------------------


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    RFC 9162 section 2.1.3.2. Raises an opaque :class:`CryptoError` on any
    failure: a wrong hash, ``index >= size``, a proof too short or too long, an
    element that is not 32 bytes.
    """
    path = list(proof)
    if not (
        _is_hash(leaf)
        and _is_hash(root)
        and _is_count(size)
        and _is_count(index)
        and index < size
        and all(_is_hash(p) for p in path)
    ):
        raise CryptoError()
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:  # more elements than the path from this leaf has
            raise CryptoError()
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A last node with no right sibling is promoted: skip those levels.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not hmac.compare_digest(r, root):
        raise CryptoError()


def proof_between(a: int, b: int) -> tuple[int, int] | None:
    """The (old, new) sizes a consistency proof is needed for between trees of ``a`` and
    ``b`` leaves (either order), or None: equal sizes compare roots, and every tree
    extends the empty one."""
    old, new = sorted((a, b))
    return (old, new) if 0 < old < new else None


def verify_one_history(a: tuple[int, bytes], b: tuple[int, bytes],
                       proof: Sequence[bytes]) -> None:
    """Check that two (size, root) checkpoints, in either order, are of one log.

    The log only grows: whichever is older must be a prefix of the newer (with
    ``proof``, the consistency proof between them, see :func:`proof_between`),
    and two of one size must have one root. Raises CryptoError otherwise.
    """
    (old_size, old_root), (new_size, new_root) = sorted((a, b), key=lambda c: c[0])
    if old_size == new_size:
        if old_root != new_root:
            raise CryptoError()
    elif old_size > 0:
        verify_consistency(old_size, new_size, old_root, new_root, proof)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree ``(new_size, new_root)`` extends the tree ``(old_size, old_root)``.

    RFC 9162 section 2.1.4.2 for ``0 < old_size < new_size``. Its trivial cases,
    where there is nothing to prove and the proof must be empty:

    * ``old_size == 0``: the empty tree is a prefix of every tree, so it is
      consistent with anything; ``old_root`` must still be :data:`EMPTY_ROOT`
      (and ``new_root`` too when ``new_size`` is 0);
    * ``old_size == new_size``: the roots must be equal.

    Raises an opaque :class:`CryptoError` on any failure, including
    ``old_size > new_size``, a wrong proof length and elements that are not 32
    bytes.
    """
    path = list(proof)
    if not (
        _is_count(old_size)
        and _is_count(new_size)
        and old_size <= new_size
        and _is_hash(old_root)
        and _is_hash(new_root)
        and all(_is_hash(p) for p in path)
    ):
        raise CryptoError()
    if old_size == 0:
        if path or not hmac.compare_digest(old_root, EMPTY_ROOT):
            raise CryptoError()
        if new_size == 0 and not hmac.compare_digest(new_root, EMPTY_ROOT):
            raise CryptoError()
        return
    if old_size == new_size:
        if path or not hmac.compare_digest(old_root, new_root):
            raise CryptoError()
        return
    if not path:
        raise CryptoError()
    # The old tree is a complete subtree of the new one: its root is the
    # path's implicit first element.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # more elements than the proof needs
            raise CryptoError()
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    ok_old = hmac.compare_digest(fr, old_root)
    ok_new = hmac.compare_digest(sr, new_root)
    if sn != 0 or not (ok_old and ok_new):
        raise CryptoError()


# --- an in-memory tree ------------------------------------------------------------------------------------


class MemoryTree:
    """A :class:`NodeSource` held in memory, that appends leaves.

    For tests, and for verifiers that rebuild a log from its entries. Keeps
    every complete subtree, about ``2 * size`` hashes.
    """

    def __init__(self) -> None:
        # _levels[level][index] is the hash of a complete subtree.
        self._levels: list[list[bytes]] = []

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return len(self._levels[0]) if self._levels else 0

    def append(self, entry: bytes) -> int:
        """Append one entry (it is hashed with :func:`leaf_hash`); return its 0-based leaf index."""
        return self.append_leaf_hash(leaf_hash(entry))

    def append_leaf_hash(self, leaf: bytes) -> int:
        """Append a leaf given by its leaf hash; return its 0-based leaf index."""
        index = self.size
        # new_nodes yields, for each level, the next index of that level.
        for level, _, value in new_nodes(index, leaf, self.node):
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(value)
        return index

    def node(self, level: int, index: int) -> bytes:
        """The hash of a complete subtree; :class:`InvalidArgument` if it is not complete yet."""
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise InvalidArgument(
            f"MemoryTree.node: level {level} index {index} is not a complete subtree "
            f"of a tree of {self.size} leaves"
        )

    def root(self, size: int | None = None) -> bytes:
        """The tree head of the first ``size`` leaves (default: all of them)."""
        if size is None:
            size = self.size
        _check_count("MemoryTree.root size", size, maximum=self.size)
        return subtree_root(0, size, self)


# --- internals --------------------------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``): where RFC 6962 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(start: int, end: int, source: NodeSource) -> bytes:
    """``MTH(D[start:end])`` for ``start < end``, reading whole stored subtrees where it can."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return source.node(level, start >> level)
    k = _split(n)
    return node_hash(_mth(start, start + k, source), _mth(start + k, end, source))


def _path(m: int, start: int, end: int, source: NodeSource, out: list[bytes]) -> None:
    """Append ``PATH(m, D[start:end])`` (``m`` relative to ``start``) to ``out``."""
    n = end - start
    if n == 1:
        return
    k = _split(n)
    if m < k:
        _path(m, start, start + k, source, out)
        out.append(_mth(start + k, end, source))
    else:
        _path(m - k, start + k, end, source, out)
        out.append(_mth(start, start + k, source))


def _subproof(m: int, start: int, end: int, complete: bool, source: NodeSource, out: list[bytes]) -> None:
    """Append ``SUBPROOF(m, D[start:end], complete)`` of RFC 6962 section 2.1.2 to ``out``."""
    n = end - start
    if m == n:
        if not complete:
            out.append(_mth(start, end, source))
        return
    k = _split(n)
    if m <= k:
        _subproof(m, start, start + k, complete, source, out)
        out.append(_mth(start + k, end, source))
    else:
        _subproof(m - k, start + k, end, False, source, out)
        out.append(_mth(start, start + k, source))


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SIZE


def _check_count(what: str, value: object, *, maximum: int = MAX_SIZE) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool)):
        raise InvalidArgument(f"{what}: got {type(value).__name__}, want an int")
    if not 0 <= value <= maximum:
        raise InvalidArgument(f"{what}: got {value}, want 0 to {maximum}")


def _describe(value: object) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    return type(value).__name__
