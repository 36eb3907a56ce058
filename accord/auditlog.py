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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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
    notes: list[str] = field(default_factory=list)

    def fail(self, problem: str, seq: int | None) -> VerifyReport:
        self.ok, self.problem, self.bad_seq = False, problem, seq
        return self

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "entries": self.entries, "checkpoints": self.checkpoints,
                "problem": self.problem, "bad_seq": self.bad_seq, "root": self.root.hex()}


def verify_log(
    entries: Iterable[tuple[int, bytes]],
    checkpoints: Iterable[SignedCheckpoint],
    public_key: Ed25519PublicKey | Sequence[Ed25519PublicKey],
    key_name: str,
    origin: str,
) -> VerifyReport:
    """Verify ``entries`` (stored seq, canonical bytes), in order, against ``checkpoints``."""
    report = VerifyReport()
    by_size: dict[int, SignedCheckpoint] = {}
    for signed in checkpoints:
        report.checkpoints += 1
        try:
            cp = verify_checkpoint(signed, public_key, key_name, origin)
        except CryptoError:
            return report.fail(f"checkpoint at size {signed.checkpoint.size}: bad signature",
                               None)
        by_size[cp.size] = signed
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
    if report.entries and report.entries not in by_size:
        report.notes.append(f"no checkpoint covers the last entries after "
                            f"#{previous[0] if previous else 0}")
    return report
