"""The auditor's view of the log: verification, proofs and activity charts.

Everything here is computed from audit entries the auditor may list (the hub
audits the listing itself), and from the hub's signed checkpoints, verified
with nothing but the hub's public keys, as ``accord audit verify`` does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord import merkle
from accord.auditlog import VerifyReport, verify_log
from accord.checkpoint import SignedCheckpoint, verify_checkpoint
from accord.errors import AccordError

KEY_NAME = "accord-hub"
#: Searches by one investigator within BURST_WINDOW that count as a burst.
BURST_SEARCHES = 5
BURST_WINDOW = dt.timedelta(minutes=5)
#: Denied searches by one investigator worth a look.
DENIALS_FLAG = 3
SEARCH_EVENTS = frozenset({"search", "search_denied", "search_rate_limited"})


def verify_entries(entries: Sequence[bytes], notes: Sequence[str],
                   keys: Sequence[Ed25519PublicKey], origin: str, *,
                   pinned: tuple[int, bytes] | None = None) -> VerifyReport:
    """Recompute the tree and check every signed checkpoint (the whole log).

    ``pinned`` is the (size, root) the node accepted before: the log must hold
    it, or it was rolled back or forked (which the log alone cannot show).
    """
    return verify_log(zip(range(1, len(entries) + 1), entries, strict=True),
                      [SignedCheckpoint.from_text(n) for n in notes], list(keys), KEY_NAME,
                      origin, pinned=[pinned] if pinned is not None else [])


@dataclass(frozen=True)
class InclusionCheck:
    seq: int
    tree_size: int
    root: str
    leaf: str
    proof: list[str]
    ok: bool
    problem: str = ""


def check_inclusion(seq: int, entry: bytes, note: str, proof: Sequence[bytes],
                    keys: Sequence[Ed25519PublicKey], origin: str) -> InclusionCheck:
    """Is ``entry`` leaf ``seq`` of the tree the signed checkpoint ``note`` commits to?"""
    leaf = merkle.leaf_hash(entry)
    try:
        checkpoint = verify_checkpoint(SignedCheckpoint.from_text(note), list(keys), KEY_NAME,
                                       origin)
    except AccordError as exc:
        return InclusionCheck(seq, 0, "", leaf.hex(), [p.hex() for p in proof], False,
                              f"checkpoint: {exc.message}")
    try:
        merkle.verify_inclusion(leaf, seq - 1, checkpoint.size, list(proof), checkpoint.root)
    except AccordError:
        return InclusionCheck(seq, checkpoint.size, checkpoint.root.hex(), leaf.hex(),
                              [p.hex() for p in proof], False, "the proof does not verify")
    return InclusionCheck(seq, checkpoint.size, checkpoint.root.hex(), leaf.hex(),
                          [p.hex() for p in proof], True)


def check_against_pin(check: InclusionCheck, pinned: tuple[int, bytes] | None,
                      proof: Sequence[bytes]) -> InclusionCheck:
    """``check``, failed unless its checkpoint and the node's ``pinned`` one are one history.

    ``proof`` is the consistency proof between the two sizes (smaller first):
    an entry proven in a checkpoint the node never could have accepted beside
    its own (a fork, or a log rolled back) is not verified.
    """
    if not check.ok or pinned is None:
        return check
    pinned_size = pinned[0]
    size = check.tree_size
    try:
        merkle.verify_one_history((size, bytes.fromhex(check.root)), pinned, proof)
    except AccordError:
        problem = (f"the checkpoint of size {size} has another root than the node's "
                   "accepted checkpoint of that size: a forked log" if size == pinned_size
                   else f"the checkpoint of size {size} is not consistent with the node's "
                   f"accepted checkpoint of size {pinned_size}: a forked or rolled-back log")
        return replace(check, ok=False, problem=problem)
    return check


@dataclass
class Investigator:
    key: str
    searches: int = 0
    denied: int = 0
    without_case: int = 0
    cases: set[str] = field(default_factory=set)
    flags: list[str] = field(default_factory=list)


@dataclass
class Activity:
    """Chart data: each a list of (label, value), largest or oldest first."""

    searches_per_agency_day: list[tuple[str, str, int]]
    denials_by_reason: list[tuple[str, int]]
    releases_by_purpose: list[tuple[str, int]]
    top_investigators: list[Investigator]


def parse(entries: Sequence[bytes]) -> list[dict[str, Any]]:
    docs = []
    for raw in entries:
        try:
            doc = json.loads(raw)
        except ValueError:  # not an entry at all: the verification names it, nothing to chart
            continue
        if isinstance(doc, dict):
            docs.append(doc)
    return docs


def _time(doc: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(doc.get("time", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


def activity(docs: Sequence[dict[str, Any]], top: int = 10) -> Activity:
    """Searches per agency per day, denials by reason, releases by purpose, busiest people."""
    per_day: Counter[tuple[str, str]] = Counter()
    denials: Counter[str] = Counter()
    purposes: Counter[str] = Counter()
    people: dict[str, Investigator] = {}
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    for doc in docs:
        event = str(doc.get("event", ""))
        if doc.get("outcome") == "denied":
            for reason in doc.get("reasons") or ["unspecified"]:
                denials[str(reason)] += 1
        if event == "release_requested":
            purposes[str(doc.get("purpose", "")) or "unspecified"] += 1
        if event not in SEARCH_EVENTS:
            continue
        when = _time(doc)
        agency = str(doc.get("agency", ""))
        if event == "search" and when is not None:
            per_day[(agency, when.date().isoformat())] += 1
        key = f"{doc.get('actor', '')} ({agency})"
        person = people.setdefault(key, Investigator(key))
        person.searches += 1
        if doc.get("outcome") == "denied":
            person.denied += 1
        case = str(doc.get("case", "")).strip()
        if case:
            person.cases.add(case)
        else:
            person.without_case += 1
        if when is not None:
            times[key].append(when)
    for key, person in people.items():
        if _burst(sorted(times[key])):
            person.flags.append(f"burst: {BURST_SEARCHES}+ searches within "
                                f"{int(BURST_WINDOW.total_seconds() // 60)} minutes")
        if person.without_case:
            person.flags.append(f"{person.without_case} search(es) without a case number")
        if person.denied >= DENIALS_FLAG:
            person.flags.append(f"{person.denied} denied searches")
    ranked = sorted(people.values(), key=lambda p: (-p.searches, p.key))[:top]
    return Activity(
        searches_per_agency_day=[(a, d, n) for (a, d), n in sorted(per_day.items(),
                                                                    key=lambda i: (i[0][1], i[0][0]))],
        denials_by_reason=denials.most_common(),
        releases_by_purpose=purposes.most_common(),
        top_investigators=ranked,
    )


def _burst(times: Sequence[dt.datetime]) -> bool:
    start = 0
    for end, when in enumerate(times):
        while when - times[start] > BURST_WINDOW:
            start += 1
        if end - start + 1 >= BURST_SEARCHES:
            return True
    return False


def bars(rows: Sequence[tuple[str, int]], width: int = 320) -> list[tuple[str, int, int]]:
    """(label, value, bar width in px) for a horizontal bar chart drawn in inline SVG."""
    peak = max((v for _, v in rows), default=0)
    return [(label, value, max(2, round(width * value / peak)) if peak else 0)
            for label, value in rows]
