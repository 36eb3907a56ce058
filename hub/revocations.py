"""Revoked investigators and tokens: what the hub refuses before a token expires.

An agency's identity provider stops issuing tokens to someone who left, was
suspended or lost a laptop, but the tokens it already issued stay valid for
up to an hour. The trust steward lists them in the hub's revocations file
(``[hub] revocations``), and the hub refuses them from the next reload on
(``[policy] reload_seconds``), on every service:

.. code-block:: toml

    [[revoke]]                       # every token of one investigator
    agency = "lakeside_so"
    subject = "det.morales"
    reason = "suspended pending review (HR-2291)"

    [[revoke]]                       # only tokens issued (iat) before a time
    agency = "lakeside_so"
    subject = "det.vance"
    issued_before = 2026-12-07T10:00:00Z
    reason = "laptop stolen"

    [[revoke]]                       # one token, by its id (the jti claim)
    agency = "rivertown_pd"
    token_id = "8c1f0e3a"
    reason = "pasted into a chat"

A refused token is audited as a failed authentication (``token_revoked``) with
the investigator's subject and the token id. A watch set by a revoked
investigator, or with a revoked token, pauses (not checked; once lifted, its
next check looks back to its last one). Every change to the list in force is
audited (``revocations_changed``, against what the log already records).

Deny by default: a file that cannot be read or does not validate (an entry
naming no member, a subject with spaces around it, an unknown key) stops the
hub from starting, and at a reload is rejected, audited once
(``revocations_rejected``), while the list before it stays enforced: a file
that does not validate never lifts a revocation. New and widened entries apply at the first reload
that reads them; entries a reload drops or narrows stay enforced until a
second reload reads the same entries, so a file caught half-written lifts
nothing (a valid edit that stays is applied as written).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import socket
import tomllib
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from accord.config import Section
from accord.errors import ConfigError
from accord.identity import MAX_SUBJECT_CHARS, Principal
from accord.ids import AGENCY_RE
from accord.metrics import Metrics
from hub.audit import AuditEvent, AuditLog

log = structlog.get_logger("accord.hub.revocations")

#: Entries a file may hold: each load is one audit entry listing changes.
MAX_ENTRIES = 1000
MAX_REASON_CHARS = 200


@dataclass(frozen=True, slots=True)
class Revocation:
    """One ``[[revoke]]`` entry: a subject (all, or issued before a time) or one token."""

    agency: str
    reason: str
    subject: str | None = None
    token_id: str | None = None
    issued_before: dt.datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        if self.subject is not None:
            return (self.agency, "subject", self.subject)
        assert self.token_id is not None
        return (self.agency, "token_id", self.token_id)

    def to_dict(self) -> dict[str, str]:
        out = {"agency": self.agency, "reason": self.reason}
        if self.subject is not None:
            out["subject"] = self.subject
        if self.token_id is not None:
            out["token_id"] = self.token_id
        if self.issued_before is not None:
            out["issued_before"] = self.issued_before.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class Revocations:
    """An immutable revocation list, as one file held it."""

    entries: tuple[Revocation, ...] = ()
    fingerprint: str = ""
    _by_key: dict[tuple[str, str, str], Revocation] = field(
        init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_key.update((e.key, e) for e in self.entries)

    def refuses(self, principal: Principal) -> bool:
        """Whether ``principal``'s token is revoked (by subject, time or token id)."""
        return self.refuses_token(principal.agency, principal.subject, principal.token_id,
                                  principal.issued_at)

    def refuses_token(self, agency: str, subject: str, token_id: str | None,
                      issued_at: dt.datetime | None) -> bool:
        """Whether a token of ``subject`` (its id and issue time, if known) is revoked.

        Watches and releases keep the token they were made with; rows from
        before they did have neither, and only subject entries apply to them.
        """
        by_key = self._by_key
        if not by_key:
            return False
        if token_id is not None and (agency, "token_id", token_id) in by_key:
            return True
        found = by_key.get((agency, "subject", subject))
        if found is None:
            return False
        if found.issued_before is None:
            return True
        # A token without a known issue time is treated as issued before it.
        return issued_at is None or issued_at < found.issued_before

    @classmethod
    def load(cls, path: Path, members: Collection[str] | None = None) -> Revocations:
        """Read and validate a revocations file; raises ConfigError naming entry and field.

        With ``members``, an entry naming another agency is refused: it would
        revoke nobody.
        """
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        if not raw.strip():
            # A file truncated by a slip (`cat >` for `cat >>`) or a failed
            # copy would lift every revocation: say "no one" in so many words.
            raise ConfigError(f"{path}: empty; to revoke no one, say so in a comment "
                              "line (e.g. '# no one is revoked')")
        unknown = sorted(set(data) - {"revoke"})
        if unknown:
            raise ConfigError(f"{path}: unknown key {unknown[0]!r}, want only [[revoke]] entries")
        items = data.get("revoke", [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ConfigError(f"{path}: revoke: want [[revoke]] tables")
        if len(items) > MAX_ENTRIES:
            raise ConfigError(f"{path}: {len(items)} entries, want at most {MAX_ENTRIES}")
        entries: dict[tuple[str, str, str], Revocation] = {}
        for i, item in enumerate(items):
            entry = _entry(Section(path, f"revoke[{i}]", item), members)
            if entry.key in entries:
                what = f"{entry.key[1]} {entry.key[2]!r} of {entry.agency}"
                raise ConfigError(f"{path}: revoke[{i}]: {what} is listed twice")
            entries[entry.key] = entry
        return cls.of(entries.values())

    @classmethod
    def of(cls, entries: Iterable[Revocation]) -> Revocations:
        """A list of ``entries``, fingerprinted by what they say (not by comments)."""
        kept = tuple(entries)
        canonical = json.dumps(sorted(describe(kept), key=lambda d: sorted(d.items())),
                               sort_keys=True).encode()
        return cls(kept, hashlib.sha256(canonical).hexdigest()[:16])

    def weakened(self, fresh: Revocations) -> list[Revocation]:
        """Entries of this list that ``fresh`` drops or narrows (refuses fewer tokens)."""
        found = []
        for entry in self.entries:
            new = fresh._by_key.get(entry.key)
            if new is None or _narrower(new, entry):
                found.append(entry)
        return found


#: The keys a ``[[revoke]]`` entry may hold.
ENTRY_KEYS = ("agency", "subject", "token_id", "issued_before", "reason")


def _entry(section: Section, members: Collection[str] | None) -> Revocation:
    where = f"{section.source}: {section.name}"
    # Unknown keys first: a misspelt "subjct" is named as such, not as a
    # missing subject.
    unknown = sorted(set(section.keys()) - set(ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}, want {', '.join(ENTRY_KEYS)}")
    agency = section.text("agency")
    if not AGENCY_RE.match(agency):
        raise ConfigError(f"{where}.agency: got {agency!r}, want an agency id")
    if members is not None and agency not in members:
        raise ConfigError(f"{where}.agency: got {agency!r}, not a member of the federation "
                          f"(its members: {', '.join(sorted(members))})")
    reason = section.text("reason").strip()
    if not reason or len(reason) > MAX_REASON_CHARS or not reason.isprintable():
        raise ConfigError(f"{where}.reason: want why, in printable text of at most "
                          f"{MAX_REASON_CHARS} characters (it goes into the audit log)")
    subject = section.text("subject", "") or None
    token_id = section.text("token_id", "") or None
    if (subject is None) == (token_id is None):
        raise ConfigError(f"{where}: want exactly one of subject and token_id")
    for key, value in (("subject", subject), ("token_id", token_id)):
        if value is not None and (len(value) > MAX_SUBJECT_CHARS or not value.isprintable()
                                  or value != value.strip()):
            raise ConfigError(f"{where}.{key}: got {value!r}, want printable text of at most "
                              f"{MAX_SUBJECT_CHARS} characters, without spaces around it")
    before = section.time("issued_before")
    if before is not None and token_id is not None:
        raise ConfigError(f"{where}.issued_before: only for a subject (a token id "
                          "names one token already)")
    return Revocation(agency=agency, reason=reason, subject=subject, token_id=token_id,
                      issued_before=before)


class RevocationList:
    """The list in force, swapped whole on reload (read without a lock).

    Entries a reload would drop or narrow stay enforced until a second reload
    reads the same entries (comments aside): a file caught while an editor
    rewrites it (truncated, or half written) lifts nothing. New and widened
    entries apply at once.
    """

    def __init__(self, path: Path | None, current: Revocations | None = None,
                 members: Collection[str] | None = None) -> None:
        self.path = path
        self.members = frozenset(members) if members is not None else None
        self.current = current if current is not None else Revocations()
        #: The entries of a file that would lift revocations, seen once (fingerprint).
        self._lifting: str | None = None
        #: The last file rejected, and why: audited once per distinct file.
        self.rejected: tuple[str, str] | None = None

    @classmethod
    def open(cls, path: Path | None, members: Collection[str] | None = None) -> RevocationList:
        """Load ``path`` (None: no list); raises ConfigError: the hub does not start."""
        current = Revocations.load(path, members) if path is not None else None
        return cls(path, current, members)

    def reload(self) -> bool:
        """Load the file again and enforce it if it is valid; True if the list changed.

        A file that does not load is rejected (``rejected`` says why) and the
        current list kept. New and widened entries apply at once; entries the
        file drops or narrows stay enforced until a second reload reads the
        same entries.
        """
        if self.path is None:
            return False
        try:
            fresh = Revocations.load(self.path, self.members)
        except ConfigError as exc:
            fingerprint = _fingerprint_of(self.path)
            if self.rejected is None or self.rejected[0] != fingerprint:
                log.error("revocations_reload_rejected", error=exc.message,
                          kept=self.current.fingerprint)
                self.rejected = (fingerprint, exc.message)
            return False
        self.rejected = None
        weakened = self.current.weakened(fresh)
        if weakened and self._lifting != fresh.fingerprint:
            # Seen once: enforce the file and, until it is read again the
            # same, the entries it would lift as they were.
            self._lifting = fresh.fingerprint
            lifted = {e.key for e in weakened}
            merged = Revocations.of([e for e in fresh.entries if e.key not in lifted] + weakened)
        else:
            self._lifting = None
            merged = fresh
        if merged.fingerprint == self.current.fingerprint:
            return False
        self.current = merged
        log.info("revocations_reloaded", entries=len(merged.entries),
                 fingerprint=merged.fingerprint, pending_lift=len(weakened) if
                 self._lifting else 0)
        return True


def _fingerprint_of(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "unreadable"


def describe(entries: Iterable[Revocation]) -> list[dict[str, str]]:
    return [e.to_dict() for e in entries]


def _narrower(new: Revocation, old: Revocation) -> bool:
    """Whether ``new`` refuses fewer of a subject's tokens than ``old`` did."""
    if old.issued_before is None:
        return new.issued_before is not None
    return new.issued_before is not None and new.issued_before < old.issued_before


def replay(docs: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], dict[str, str]]:
    """The list the audit log records as in force, from its revocation entries."""
    state: dict[tuple[str, str, str], dict[str, str]] = {}
    for doc in docs:
        d = doc["details"]
        if doc["event"] == "revocations_loaded":
            state = {}
        for entry in d.get("removed", []):
            state.pop(_key_of(entry), None)
        for entry in d.get("added", []):
            state[_key_of(entry)] = dict(entry)
    return state


def _key_of(entry: Mapping[str, str]) -> tuple[str, str, str]:
    kind = "subject" if "subject" in entry else "token_id"
    return (entry["agency"], kind, entry[kind])


def unrecorded(revocations: Revocations, recorded: Mapping[tuple[str, str, str], dict[str, str]]
               ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(added or changed, removed) in ``revocations`` against what the log records."""
    now = {e.key: e.to_dict() for e in revocations.entries}
    added = [d for k, d in now.items() if recorded.get(k) != d]
    removed = [d for k, d in recorded.items() if k not in now]
    return added, removed


class RevocationAudit:
    """Audits the list in force whenever it differs from what the log records.

    The log's own revocation entries say what it records as in force (they
    are replayed), so a list changed while the hub was down is audited when it
    starts, a restart with the same list writes nothing, and hub replicas
    reloading one change write it once (unless they race). A rejected file is
    audited once (``revocations_rejected``, outcome ``error``).
    """

    def __init__(self, audit: AuditLog, revocations: RevocationList,
                 clock: Callable[[], dt.datetime], metrics: Metrics | None = None) -> None:
        self._audit = audit
        self._revocations = revocations
        self._clock = clock
        self._metrics = metrics
        self._recorded: str | None = None  # the fingerprint last found in the log
        self._rejected: str | None = None

    async def __call__(self) -> None:
        await asyncio.to_thread(self._record)

    def _record(self) -> None:
        rejected = self._revocations.rejected
        if self._metrics is not None:
            self._metrics.revocations_rejected_now.set(0 if rejected is None else 1)
        if rejected is None:
            self._rejected = None  # the next bad file is news again, even the same one
        elif rejected[0] != self._rejected:
            self._audit.append(AuditEvent(
                event="revocations_rejected", time=self._clock(), outcome="error",
                details={"error": rejected[1], "replica": REPLICA,
                         "in_force": self._revocations.current.fingerprint}))
            self._rejected = rejected[0]
            if self._metrics is not None:
                self._metrics.revocation_files.labels("rejected").inc()
        current = self._revocations.current
        if current.fingerprint == self._recorded:
            return
        recorded = replay(e.doc for e in self._audit.of_events(EVENTS))
        added, removed = unrecorded(current, recorded)
        if added or removed:
            self._audit.append(AuditEvent(
                event=CHANGED, time=self._clock(), outcome="ok",
                details={"fingerprint": current.fingerprint, "entries": len(current.entries),
                         "added": added, "removed": removed, "replica": REPLICA}))
        self._recorded = current.fingerprint
        if self._metrics is not None:
            self._metrics.revocations.set(len(current.entries))
            self._metrics.revocation_files.labels("applied").inc()


#: The audit event of every change to the list in force.
CHANGED = "revocations_changed"
#: The events replayed: ``revocations_loaded`` (written at start by the first
#: version of this module) set the list whole.
EVENTS = (CHANGED, "revocations_loaded")
#: Which hub process wrote an entry: replicas whose files differ for a while
#: (a ConfigMap not yet synced) each write what they enforce.
REPLICA = socket.gethostname()


async def watch(revocations: RevocationList, interval: float,
                after: Callable[[], Awaitable[None]]) -> None:
    """Reload every ``interval`` seconds until cancelled, then ``after()`` (which audits).

    Nothing stops it but cancellation: a reload or an audit that fails is
    logged and tried again at the next interval.
    """
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(revocations.reload)
            await after()
        except Exception:
            log.exception("revocations_reload_failed")
