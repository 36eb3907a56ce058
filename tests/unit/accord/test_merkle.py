"""RFC 6962 / 9162 Merkle tree: published known answers, cross-checks against the RFC's
recursive definitions, and every kind of tampering a proof verifier must refuse."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

import pytest

from accord.errors import CryptoError, InvalidArgument
from accord.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryTree,
    NodeSource,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    new_nodes,
    node_hash,
    root,
    root_from_leaves,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "merkle.json").read_text())
H = bytes.fromhex


# --- the RFC 6962 section 2.1 definitions, written out on lists (no stored nodes) -------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _k(len(hashes))
    return node_hash(ref_mth(hashes[:k]), ref_mth(hashes[k:]))


def ref_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_mth(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_mth(hashes[:k])]


def ref_subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [ref_mth(hashes)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, hashes[:k], complete), ref_mth(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_mth(hashes[:k])]


class NaiveNodes:
    """A NodeSource that recomputes each complete subtree from the leaf list, and counts reads."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves
        self.reads = 0
        self._cache: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        start, end = index << level, (index + 1) << level
        assert level >= 0 and index >= 0 and end <= len(self.leaves), f"incomplete node ({level}, {index})"
        if (level, index) not in self._cache:
            self._cache[level, index] = ref_mth(self.leaves[start:end])
        return self._cache[level, index]


# --- a seeded random log of 1,000 entries ------------------------------------------------------------------

MAX = 1000
_RNG = random.Random(6962)
ENTRIES = [_RNG.randbytes(_RNG.randrange(0, 48)) for _ in range(MAX)]
LEAVES = [leaf_hash(e) for e in ENTRIES]
NAIVE = NaiveNodes(LEAVES)


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    t = MemoryTree()
    for i, entry in enumerate(ENTRIES):
        assert t.append(entry) == i
    assert t.size == MAX
    return t


@pytest.fixture(scope="module")
def roots() -> list[bytes]:
    """ROOTS[n] is the root of the first n leaves, computed by the RFC's definition."""
    return [ref_mth(LEAVES[:n]) for n in range(MAX + 1)]


def sample_indices(size: int, rng: random.Random) -> set[int]:
    picks = {0, size // 2, size - 1, max(0, size - 2)}
    picks.update(rng.randrange(size) for _ in range(3))
    return picks


# --- known answers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["hash_vectors"], ids=lambda v: v["desc"])
def test_hash_known_answers(vector: dict[str, str]) -> None:
    if vector["kind"] == "leaf":
        assert leaf_hash(H(vector["entry"])) == H(vector["hash"])
    else:
        assert node_hash(H(vector["left"]), H(vector["right"])) == H(vector["hash"])


def test_empty_tree_root() -> None:
    assert H(VECTORS["empty_root"]) == EMPTY_ROOT
    assert root_from_leaves([]) == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT
    assert root(0, MemoryTree()) == EMPTY_ROOT
    # The empty tree's root is not the hash of an empty leaf (domain separation).
    assert leaf_hash(b"") != EMPTY_ROOT


def reference_tree() -> MemoryTree:
    t = MemoryTree()
    for entry in VECTORS["leaves"]:
        t.append(H(entry))
    return t


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    want = H(VECTORS["roots"][str(size)])
    hashes = [leaf_hash(H(e)) for e in VECTORS["leaves"][:size]]
    t = reference_tree()
    assert root_from_leaves(hashes) == want
    assert t.root(size) == want
    assert root(size, t) == want
    assert root(size, NaiveNodes(hashes)) == want
    assert ref_mth(hashes) == want


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: f"{v['index']}-of-{v['size']}")
def test_reference_inclusion_proofs(vector: dict[str, object]) -> None:
    index, size = vector["index"], vector["size"]
    assert isinstance(index, int) and isinstance(size, int)
    want = [H(p) for p in vector["proof"]]  # type: ignore[attr-defined]
    t = reference_tree()
    assert inclusion_proof(index, size, t) == want
    leaf = leaf_hash(H(VECTORS["leaves"][index]))
    verify_inclusion(leaf, index, size, want, H(VECTORS["roots"][str(size)]))


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=lambda v: f"{v['old_size']}>{v['new_size']}")
def test_reference_consistency_proofs(vector: dict[str, object]) -> None:
    old, new = vector["old_size"], vector["new_size"]
    assert isinstance(old, int) and isinstance(new, int)
    want = [H(p) for p in vector["proof"]]  # type: ignore[attr-defined]
    assert consistency_proof(old, new, reference_tree()) == want
    verify_consistency(old, new, H(VECTORS["roots"][str(old)]), H(VECTORS["roots"][str(new)]), want)


# --- agreement with the definitions, every size up to 1,000 ------------------------------------------------


def test_roots_agree_for_every_size(tree: MemoryTree, roots: list[bytes]) -> None:
    for n in range(MAX + 1):
        want = roots[n]
        assert root_from_leaves(LEAVES[:n]) == want, n
        assert tree.root(n) == want, n
        assert root(n, NAIVE) == want, n


def test_subtree_root_of_any_range(tree: MemoryTree) -> None:
    rng = random.Random(1)
    for _ in range(300):
        start = rng.randrange(MAX)
        end = rng.randrange(start, MAX + 1)
        assert subtree_root(start, end, tree) == ref_mth(LEAVES[start:end]), (start, end)


def test_new_nodes_store_exactly_the_complete_subtrees() -> None:
    store: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(LEAVES):
        added = new_nodes(i, leaf, lambda level, index: store[level, index])
        assert added[0] == (0, i, leaf)
        # Exactly the complete subtrees whose last leaf is leaf i, bottom up.
        want = [(level, i >> level) for level in range(11) if ((i + 1) >> level) << level == i + 1]
        assert [(level, index) for level, index, _ in added] == want, i
        for level, index, value in added:
            assert (level, index) not in store
            store[level, index] = value
    complete = {(level, index) for level in range(11) for index in range(MAX >> level)}
    assert set(store) == complete
    for (level, index), value in store.items():
        assert value == NAIVE.node(level, index), (level, index)


def test_memory_tree_nodes_are_the_complete_subtrees(tree: MemoryTree) -> None:
    for level in range(10):
        for index in range(MAX >> level):
            assert tree.node(level, index) == NAIVE.node(level, index)


def test_inclusion_proofs_every_index_small_sizes(tree: MemoryTree, roots: list[bytes]) -> None:
    for size in range(1, 201):
        for index in range(size):
            proof = inclusion_proof(index, size, tree)
            if size <= 64:
                assert proof == ref_path(index, LEAVES[:size]), (index, size)
            verify_inclusion(LEAVES[index], index, size, proof, roots[size])


def test_inclusion_proofs_every_size_sampled_indices(tree: MemoryTree, roots: list[bytes]) -> None:
    rng = random.Random(2)
    for size in range(201, MAX + 1):
        for index in sample_indices(size, rng):
            proof = inclusion_proof(index, size, tree)
            verify_inclusion(LEAVES[index], index, size, proof, roots[size])
    for index, size in [(0, 1000), (511, 1000), (999, 1000), (700, 777)]:
        assert inclusion_proof(index, size, tree) == ref_path(index, LEAVES[:size])


def test_consistency_proofs_every_pair_up_to_130(tree: MemoryTree, roots: list[bytes]) -> None:
    for new in range(0, 131):
        for old in range(0, new + 1):
            proof = consistency_proof(old, new, tree)
            if 0 < old < new and new <= 64:
                assert proof == ref_subproof(old, LEAVES[:new], True), (old, new)
            if old in (0, new):
                assert proof == []
            verify_consistency(old, new, roots[old], roots[new], proof)


def test_consistency_proofs_sampled_pairs_up_to_1000(tree: MemoryTree, roots: list[bytes]) -> None:
    rng = random.Random(3)
    pairs = [(rng.randrange(1, MAX), rng.randrange(1, MAX + 1)) for _ in range(3000)]
    pairs += [(1, 1000), (512, 1000), (999, 1000), (511, 512), (513, 1000), (1000, 1000)]
    for a, b in pairs:
        old, new = min(a, b), max(a, b)
        proof = consistency_proof(old, new, tree)
        verify_consistency(old, new, roots[old], roots[new], proof)
    for old, new in [(3, 1000), (700, 777), (256, 1000)]:
        assert consistency_proof(old, new, tree) == ref_subproof(old, LEAVES[:new], True)


def test_proofs_read_logarithmically_many_nodes() -> None:
    rng = random.Random(4)
    for _ in range(200):
        size = rng.randrange(1, MAX + 1)
        index = rng.randrange(size)
        old = rng.randrange(0, size + 1)
        bound = 2 * size.bit_length() + 2
        for make in (
            partial(inclusion_proof, index, size, NAIVE),
            partial(consistency_proof, old, size, NAIVE),
            partial(root, size, NAIVE),
        ):
            NAIVE.reads = 0
            make()
            assert NAIVE.reads <= bound, (index, old, size, NAIVE.reads)


# --- tampering: the verifiers refuse ------------------------------------------------------------------------


def flips(value: bytes, every_bit: bool) -> Iterator[bytes]:
    """``value`` with one bit flipped: every bit, or one bit in each byte."""
    for byte in range(len(value)):
        for bit in range(8) if every_bit else (byte % 8,):
            changed = bytearray(value)
            changed[byte] ^= 1 << bit
            yield bytes(changed)


def refused(check: Callable[[], None]) -> bool:
    """True if ``check`` raises CryptoError with the opaque message, and nothing more."""
    try:
        check()
    except CryptoError as exc:
        return str(exc) == "cryptographic verification failed"
    return False


SOME_HASH = H("abacaba000000000000000000000000000000000000000000060061e00123456")


def inclusion_cases() -> list[tuple[int, int]]:
    cases = [(0, 1), (0, 2), (1, 2), (2, 3), (0, 8), (5, 8), (6, 7), (4, 5), (10, 15), (24, 31), (81, 95)]
    rng = random.Random(5)
    cases += [(rng.randrange(s), s) for s in (rng.randrange(2, MAX + 1) for _ in range(20))]
    return cases


@pytest.mark.parametrize(("index", "size"), inclusion_cases())
def test_inclusion_tampering_is_refused(index: int, size: int, tree: MemoryTree, roots: list[bytes]) -> None:
    leaf, top = LEAVES[index], roots[size]
    proof = inclusion_proof(index, size, tree)
    verify_inclusion(leaf, index, size, proof, top)
    every_bit = size in (8, 95)
    probes: list[tuple[str, Callable[[], None]]] = []

    def probe(desc: str, *args: object) -> None:
        probes.append((desc, partial(verify_inclusion, *args)))  # type: ignore[arg-type]

    for i in range(len(proof)):
        for flipped in flips(proof[i], every_bit):
            probe(f"proof[{i}] bit flip", leaf, index, size, [*proof[:i], flipped, *proof[i + 1 :]], top)
    for flipped in flips(leaf, every_bit):
        probe("leaf bit flip", flipped, index, size, proof, top)
    for flipped in flips(top, every_bit):
        probe("root bit flip", leaf, index, size, proof, flipped)
    for wrong in {index - 1, index + 1, index ^ 2, size, size + 1, -1} - {index}:
        probe(f"index {wrong}", leaf, wrong, size, proof, top)
    for wrong in {size * 2, size // 2, 0, -size, index} - {size}:
        probe(f"size {wrong}", leaf, index, wrong, proof, top)
    probe("empty root", leaf, index, size, proof, EMPTY_ROOT)
    probe("random root", leaf, index, size, proof, SOME_HASH)
    probe("wrong leaf", SOME_HASH, index, size, proof, top)
    probe("trailing root", leaf, index, size, [*proof, top], top)
    probe("trailing empty", leaf, index, size, [*proof, b""], top)
    probe("preceding root", leaf, index, size, [top, *proof], top)
    probe("preceding empty", leaf, index, size, [b"", *proof], top)
    if proof:
        probe("removed last", leaf, index, size, proof[:-1], top)
        probe("removed first", leaf, index, size, proof[1:], top)
        probe("short element", leaf, index, size, [*proof[:-1], proof[-1][:-1]], top)
        probe("long element", leaf, index, size, [*proof[:-1], proof[-1] + b"\x00"], top)
        probe("str element", leaf, index, size, [*proof[:-1], proof[-1].hex()], top)
    if len(proof) > 1:
        probe("inserted", leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], top)
        probe("swapped", leaf, index, size, [proof[1], proof[0], *proof[2:]], top)
    probe("leaf of 31 bytes", leaf[:-1], index, size, proof, top)
    probe("root of 33 bytes", leaf, index, size, proof, top + b"\x00")
    probe("bool index", leaf, True, size, proof, top)
    probe("size beyond uint64", leaf, index, 2**64, proof, top)
    accepted = [desc for desc, check in probes if not refused(check)]
    assert accepted == []


def consistency_cases() -> list[tuple[int, int]]:
    cases = [(1, 2), (1, 8), (2, 5), (3, 7), (4, 7), (5, 7), (6, 7), (6, 8), (7, 8)]
    cases += [(10, 15), (24, 31), (81, 95)]
    rng = random.Random(6)
    for _ in range(20):
        new = rng.randrange(2, MAX + 1)
        cases.append((rng.randrange(1, new), new))
    return cases


@pytest.mark.parametrize(("old", "new"), consistency_cases())
def test_consistency_tampering_is_refused(old: int, new: int, tree: MemoryTree, roots: list[bytes]) -> None:
    r1, r2 = roots[old], roots[new]
    proof = consistency_proof(old, new, tree)
    verify_consistency(old, new, r1, r2, proof)
    every_bit = (old, new) in ((6, 8), (81, 95))
    probes: list[tuple[str, Callable[[], None]]] = []

    def probe(desc: str, *args: object) -> None:
        probes.append((desc, partial(verify_consistency, *args)))  # type: ignore[arg-type]

    for i in range(len(proof)):
        for flipped in flips(proof[i], every_bit):
            probe(f"proof[{i}] bit flip", old, new, r1, r2, [*proof[:i], flipped, *proof[i + 1 :]])
    for flipped in flips(r1, every_bit):
        probe("old root bit flip", old, new, flipped, r2, proof)
    for flipped in flips(r2, every_bit):
        probe("new root bit flip", old, new, r1, flipped, proof)
    for wrong in {old - 1, old + 1, old ^ 2, new + 1, -1} - {old}:
        probe(f"old size {wrong}", wrong, new, r1, r2, proof)
    # Sizes that give the proof the same shape (often new - 1) cannot be told from the
    # proof: the root binds the leaves, and the signed checkpoint binds size to root.
    for wrong in {new * 2, new // 2, old - 1, 2**64} - {new}:
        probe(f"new size {wrong}", old, wrong, r1, r2, proof)
    probe("swapped roots", old, new, r2, r1, proof)
    probe("swapped sizes", new, old, r2, r1, proof)
    probe("empty proof", old, new, r1, r2, [])
    probe("trailing old root", old, new, r1, r2, [*proof, r1])
    probe("trailing new root", old, new, r1, r2, [*proof, r2])
    probe("trailing empty", old, new, r1, r2, [*proof, b""])
    probe("preceding old root", old, new, r1, r2, [r1, *proof])
    probe("preceding new root", old, new, r1, r2, [r2, *proof])
    probe("preceding proof[0]", old, new, r1, r2, [proof[0], *proof])
    probe("truncated", old, new, r1, r2, proof[:-1])
    probe("first removed", old, new, r1, r2, proof[1:])
    probe("short element", old, new, r1, r2, [*proof[:-1], proof[-1][:-1]])
    probe("old root of 31 bytes", old, new, r1[:-1], r2, proof)
    probe("bool size", True, new, r1, r2, proof)
    accepted = [desc for desc, check in probes if not refused(check)]
    assert accepted == []


def test_consistency_trivial_cases() -> None:
    r = leaf_hash(b"x")
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, r, [])  # the empty tree is a prefix of every tree
    verify_consistency(5, 5, r, r, [])
    for args in [
        (0, 0, EMPTY_ROOT, r, []),  # size 0 has one root
        (0, 0, r, r, []),
        (0, 5, r, r, []),  # an old size of 0 must come with the empty root
        (0, 5, EMPTY_ROOT, r, [r]),  # nothing to prove, so no proof
        (5, 5, r, r, [r]),
        (5, 5, r, SOME_HASH, []),
        (6, 5, r, r, []),  # time travel
        (1, 2, r, SOME_HASH, []),  # something to prove and no proof
    ]:
        assert refused(partial(verify_consistency, *args))


def test_inclusion_trivial_cases() -> None:
    r = leaf_hash(b"data")
    verify_inclusion(r, 0, 1, [], r)  # a one-leaf tree's root is its leaf
    for args in [(r, 0, 0, [], r), (r, 1, 1, [], r), (r, 0, 1, [], EMPTY_ROOT), (r, 0, 1, [r], r)]:
        assert refused(partial(verify_inclusion, *args))


# --- input errors from generation are precise ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: inclusion_proof(5, 5, t), r"index: got 5, want 0 <= index < 5 \(the tree size\)"),
        (lambda t: inclusion_proof(-1, 5, t), r"inclusion proof index: got -1, want 0 to"),
        (lambda t: inclusion_proof(0, 0, t), r"inclusion proof index: got 0, want 0 <= index < 0"),
        (lambda t: inclusion_proof("0", 5, t), r"inclusion proof index: got str, want an int"),  # type: ignore[arg-type]
        (lambda t: consistency_proof(6, 5, t), r"old_size: got 6, want at most new_size \(5\)"),
        (lambda t: consistency_proof(-1, 5, t), r"consistency proof old_size: got -1"),
        (lambda t: consistency_proof(0, 2**64, t), r"consistency proof new_size: got 18446744073709551616"),
        (lambda t: root(-1, t), r"tree size: got -1"),
        (lambda t: subtree_root(5, 3, t), r"subtree_root end: got 3, want at least start \(5\)"),
        (lambda t: new_nodes(-1, EMPTY_ROOT, t.node), r"leaf_index: got -1"),
        (lambda t: new_nodes(0, b"short", t.node), r"leaf: got 5 bytes, want 32 bytes"),
        (lambda t: root_from_leaves([EMPTY_ROOT, b"x"]), r"leaf_hashes\[1\]: got 1 bytes, want 32 bytes"),
        (lambda t: t.node(1, 0), r"level 1 index 0 is not a complete subtree of a tree of 1 leaves"),
        (lambda t: t.root(2), r"MemoryTree.root size: got 2, want 0 to 1"),
        (lambda t: t.append_leaf_hash(b"x" * 31), r"leaf: got 31 bytes, want 32 bytes"),
    ],
)
def test_generation_input_errors_are_precise(call: Callable[[MemoryTree], object], message: str) -> None:
    t = MemoryTree()
    t.append(b"only")
    with pytest.raises(InvalidArgument, match=message):
        call(t)
    assert t.size == 1  # nothing half-appended


def test_memory_tree_appends_and_answers_history() -> None:
    t = MemoryTree()
    heads = []
    for i in range(20):
        assert t.append(f"entry {i + 1}".encode()) == i  # the entry with seq i + 1 is leaf i
        heads.append(t.root())
    assert t.size == 20
    for n, head in enumerate(heads, start=1):
        assert t.root(n) == head  # old heads never change
    assert len(EMPTY_ROOT) == HASH_SIZE


def test_memory_tree_is_a_node_source() -> None:
    source: NodeSource = MemoryTree()
    assert source is not None
