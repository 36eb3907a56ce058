"""Revoked investigators and tokens: what the hub refuses before a token expires.

An agency's identity provider stops issuing tokens to someone who left, was
suspended or lost a laptop, but the tokens it already issued stay valid for
up to an hour. The trust steward lists them in the hub's revocations file
(``[hub] revocations``), and the hub refuses them from the next reload on
(``[policy] reload_seconds``), on every service:

.. code-block:: toml

    [[revoke]]                       # everyone's tokens of one investigator
    agency = "lakeside_so"
    subject = "det.morales"
    reason = "suspended pending review (HR-2291)"

    [[revoke]]                       # only tokens issued before a time
    agency = "lakeside_so"
    subject = "det.vance"
    issued_before = 2026-12-07T10:00:00Z
    reason = "laptop stolen; new tokens after the reset are fine"

    [[revoke]]                       # one token, by its id (the jti claim)
    agency = "rivertown_pd"
    token_id = "8c1f0e3a"
    reason = "pasted into a chat"

A refused token is audited as a failed authentication (``token_revoked``) with
the investigator's subject. A suspended investigator's watches (a subject
revoked without ``issued_before``) pause: they are not checked, and resume
looking back to their last check if the entry is removed. Every list the hub
loads is audited (``revocations_loaded`` at start, ``revocations_changed``
with what was added and removed).

Deny by default: a file that cannot be read or does not validate stops the
hub from starting, and at a reload is rejected while the list before it
keeps being enforced, so a typo never lifts a revocation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from accord.config import Section
from accord.errors import ConfigError
from accord.identity import MAX_SUBJECT_CHARS, Principal
from accord.ids import AGENCY_RE

log = structlog.get_logger("accord.hub.revocations")

#: Entries a file may hold: each load is one audit entry listing changes.
MAX_ENTRIES = 10_000
MAX_REASON_CHARS = 500


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
        by_key = self._by_key
        if not by_key:
            return False
        if (principal.agency, "token_id", principal.token_id) in by_key:
            return True
        found = by_key.get((principal.agency, "subject", principal.subject))
        if found is None:
            return False
        if found.issued_before is None:
            return True
        # A token without a known issue time is treated as issued before it.
        issued = principal.issued_at
        return issued is None or issued < found.issued_before

    def suspends(self, agency: str, subject: str) -> bool:
        """Whether every token of ``subject`` is revoked (their watches pause)."""
        found = self._by_key.get((agency, "subject", subject))
        return found is not None and found.issued_before is None

    def changes(self, before: Revocations) -> tuple[list[Revocation], list[Revocation]]:
        """(added or changed, removed) entries since ``before``."""
        old = {e.key: e for e in before.entries}
        new = {e.key: e for e in self.entries}
        added = [e for k, e in new.items() if old.get(k) != e]
        removed = [e for k, e in old.items() if k not in new]
        return added, removed

    @classmethod
    def load(cls, path: Path) -> Revocations:
        """Read and validate a revocations file; raises ConfigError naming entry and field."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
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
            entry = _entry(Section(path, f"revoke[{i}]", item))
            if entry.key in entries:
                what = f"{entry.key[1]} {entry.key[2]!r} of {entry.agency}"
                raise ConfigError(f"{path}: revoke[{i}]: {what} is listed twice")
            entries[entry.key] = entry
        return cls(tuple(entries.values()), hashlib.sha256(raw).hexdigest()[:16])


def _entry(section: Section) -> Revocation:
    where = f"{section.source}: {section.name}"
    agency = section.text("agency")
    if not AGENCY_RE.match(agency):
        raise ConfigError(f"{where}.agency: got {agency!r}, want an agency id")
    reason = section.text("reason").strip()
    if not reason or len(reason) > MAX_REASON_CHARS or not reason.isprintable():
        raise ConfigError(f"{where}.reason: want why, in printable text of at most "
                          f"{MAX_REASON_CHARS} characters (it goes into the audit log)")
    subject = section.text("subject", "") or None
    token_id = section.text("token_id", "") or None
    if (subject is None) == (token_id is None):
        raise ConfigError(f"{where}: want exactly one of subject and token_id")
    for key, value in (("subject", subject), ("token_id", token_id)):
        if value is not None and (len(value) > MAX_SUBJECT_CHARS or not value.isprintable()):
            raise ConfigError(f"{where}.{key}: got {value!r}, want printable text of at most "
                              f"{MAX_SUBJECT_CHARS} characters")
    before = section.time("issued_before")
    if before is not None and token_id is not None:
        raise ConfigError(f"{where}.issued_before: only for a subject (a token id "
                          "names one token already)")
    section.check_unknown()
    return Revocation(agency=agency, reason=reason, subject=subject, token_id=token_id,
                      issued_before=before)


class RevocationList:
    """The list in force, swapped whole on reload (read without a lock)."""

    def __init__(self, path: Path | None, current: Revocations | None = None) -> None:
        self.path = path
        self.current = current if current is not None else Revocations()

    @classmethod
    def open(cls, path: Path | None) -> RevocationList:
        """Load ``path`` (None: no list); raises ConfigError: the hub does not start."""
        return cls(path, Revocations.load(path) if path is not None else None)

    def reload(self) -> tuple[list[Revocation], list[Revocation]] | None:
        """Load the file again; returns (added, removed) if it changed, else None.

        A file that no longer loads is rejected and the current list kept.
        """
        if self.path is None:
            return None
        try:
            fresh = Revocations.load(self.path)
        except ConfigError as exc:
            log.error("revocations_reload_rejected", error=exc.message,
                      kept=self.current.fingerprint)
            return None
        if fresh.fingerprint == self.current.fingerprint:
            return None
        before, self.current = self.current, fresh
        log.info("revocations_reloaded", entries=len(fresh.entries),
                 fingerprint=fresh.fingerprint)
        return fresh.changes(before)


def describe(entries: Iterable[Revocation]) -> list[dict[str, str]]:
    return [e.to_dict() for e in entries]


async def watch(revocations: RevocationList, interval: float,
                on_change: Callable[[list[Revocation], list[Revocation]], Any]) -> None:
    """Reload every ``interval`` seconds until cancelled; ``on_change`` audits a change."""
    while True:
        await asyncio.sleep(interval)
        changed = await asyncio.to_thread(revocations.reload)
        if changed is not None:
            await on_change(*changed)
