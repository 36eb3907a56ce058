"""Verifying the hub's audit log with nothing but the hub's public key.

:func:`verify_log` recomputes the RFC 6962 Merkle tree from the entries, in
order, and checks it against every signed checkpoint: each signature, each
root at its size, and the consistency of each checkpoint with the one before.
The hub signs a checkpoint with every commit (one commit may hold several
entries: a group commit, or a search with its sweep levels), so altering an
entry breaks the very checkpoint that first covered it, and the report names
that entry.
Deleting or reordering entries breaks their sequence numbers, which are part
of each signed entry. Nodes, auditors and the ``accord audit verify`` command
all use this one verifier.

What it cannot see by itself is a log cut back, with its checkpoints, to an
earlier size: that is a shorter log which verifies. A verifier that already
accepted a checkpoint (a node from its releases, an auditor from an earlier
verification) passes it as ``pinned``, and the log must then contain it.
Entries no signed checkpoint covers are not verified at all, so they fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord import merkle
from accord.checkpoint import SignedCheckpoint, verify_checkpoint
from accord.errors import CryptoError


@dataclass
class VerifyReport:
    """The outcome of a verification: ``ok``, or the first problem found."""

    entries: int = 0
    checkpoints: int = 0
    ok: bool = True
    problem: str = ""
    bad_seq: int | None = None
    root: bytes = b""
    #: The size of the checkpoint the log had to contain, if one was pinned.
    pinned_size: int | None = None

    def fail(self, problem: str, seq: int | None) -> VerifyReport:
        self.ok, self.problem, self.bad_seq = False, problem, seq
        return self

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "entries": self.entries, "checkpoints": self.checkpoints,
                "problem": self.problem, "bad_seq": self.bad_seq, "root": self.root.hex(),
                "pinned_size": self.pinned_size}


def verify_log(
    entries: Iterable[tuple[int, bytes]],
    checkpoints: Iterable[SignedCheckpoint],
    public_key: Ed25519PublicKey | Sequence[Ed25519PublicKey],
    key_name: str,
    origin: str,
    *,
    pinned: Sequence[tuple[int, bytes]] = (),
) -> VerifyReport:
    """Verify ``entries`` (stored seq, canonical bytes), in order, against ``checkpoints``.

    ``pinned`` are (size, root) checkpoints already accepted (the node's, an
    auditor's saved one): the log must hold every one, or it was
    rolled back or forked. Two of them at one size with different roots fail
    at once: someone was shown two histories.
    """
    pins: dict[int, bytes] = {}
    for size, root in pinned:
        if pins.get(size, root) != root:
            return VerifyReport(pinned_size=size).fail(
                f"two checkpoints accepted before at size {size} have different roots: "
                "they were shown two histories", None)
        pins[size] = root
    report = VerifyReport(pinned_size=max(pins) if pins else None)
    by_size: dict[int, SignedCheckpoint] = {}
    for signed in checkpoints:
        report.checkpoints += 1
        size = signed.checkpoint.size
        if signed.checkpoint.origin != origin:
            return report.fail(f"checkpoint at size {size}: for the log "
                               f"{signed.checkpoint.origin!r}, not {origin!r}", None)
        try:
            cp = verify_checkpoint(signed, public_key, key_name, origin)
        except CryptoError:
            return report.fail(f"checkpoint at size {size}: bad signature", None)
        if size == 0 and cp.root != merkle.EMPTY_ROOT:
            return report.fail("checkpoint at size 0: its root is not the empty tree's", None)
        seen = by_size.get(size)
        if seen is not None and seen.checkpoint.root != cp.root:
            return report.fail(f"two signed checkpoints at size {size} have different roots: "
                               "the hub signed two histories", None)
        by_size[size] = signed
    if not by_size:
        return report.fail("no signed checkpoint: there is nothing to verify the entries "
                           "against", None)
    tree = merkle.MemoryTree()
    previous: tuple[int, bytes] | None = None
    for position, (stored_seq, entry) in enumerate(entries, start=1):
        try:
            claimed = json.loads(entry).get("seq")
        except (ValueError, AttributeError):
            return report.fail(f"entry #{position}: not a valid entry", position)
        if stored_seq != position or claimed != position:
            return report.fail(
                f"entry #{position}: sequence number is {claimed} (stored as {stored_seq}): "
                "entries were deleted, inserted or reordered", position)
        tree.append(entry)
        report.entries = position
        if position in pins and tree.root() != pins[position]:
            return report.fail(
                f"the log up to entry #{position} differs from the checkpoint at size "
                f"{position} accepted before: a forked history", position)
        covering = by_size.get(position)
        if covering is None:
            continue
        root = tree.root()
        if root != covering.checkpoint.root:
            first = previous[0] + 1 if previous is not None else 1
            if first == position:
                return report.fail(
                    f"entry #{position} does not match the signed checkpoint at size "
                    f"{position}: altered", position)
            # One commit, one checkpoint: any entry of that commit may be the altered one.
            return report.fail(
                f"entries #{first} to #{position} do not match the signed checkpoint at size "
                f"{position}: one of them was altered", first)
        if previous is not None:
            old_size, old_root = previous
            try:
                merkle.verify_consistency(old_size, position, old_root, root,
                                          merkle.consistency_proof(old_size, position, tree))
            except CryptoError:
                return report.fail(f"checkpoints at sizes {old_size} and {position} are not "
                                   "consistent", position)
        previous = (position, root)
    report.root = tree.root() if report.entries else merkle.EMPTY_ROOT
    beyond = sorted(size for size in by_size if size > report.entries)
    if beyond:
        return report.fail(
            f"a signed checkpoint covers {beyond[-1]} entries but only {report.entries} are "
            f"present: entries #{report.entries + 1} to #{beyond[-1]} were deleted",
            report.entries + 1)
    if pins and max(pins) > report.entries:
        largest = max(pins)
        return report.fail(
            f"the log holds {report.entries} entries, but a checkpoint at size {largest} "
            f"was accepted before: entries #{report.entries + 1} to #{largest} were "
            "removed (the log was rolled back)", report.entries + 1)
    last = max(by_size)
    if report.entries > last:
        return report.fail(
            f"entries #{last + 1} to #{report.entries} are covered by no signed checkpoint: "
            "they cannot be verified", last + 1)
    return report


def signed_prefix(entries: Sequence[bytes], notes: Sequence[str]) -> list[bytes]:
    """The entries up to the size of the largest of ``notes`` (signed checkpoints).

    For reading a live log: read its checkpoints first, then its entries, and
    keep the entries the checkpoints cover. The hub appends while a reader
    reads (the reads themselves are audited); read the other way round, a
    checkpoint could cover entries the reader never saw.
    """
    if not notes:
        return list(entries)
    # The largest, wherever it is in the list: nothing here assumes an order.
    covered = max(SignedCheckpoint.from_text(n).checkpoint.size for n in notes)
    return list(entries[:covered])
