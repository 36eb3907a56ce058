"""Release of full records, at the hub: decide, audit, grant, relay ciphertext.

The order is the point of this module. A release is authorised by appending
a ``release_granted`` entry to the audit log; the grant (signed by the hub,
single use, short-lived, bound to the pointer, the requester and their key,
the purpose, the case and that entry) is written in the *same* transaction,
and leaves the hub only after it committed. The owning node then checks the
grant and the entry's inclusion under a signed checkpoint before it sends
anything, and what it sends is encrypted to the requester: the hub relays
ciphertext it cannot read.

State machine, every transition an audit event::

    requested --(needs approval)--> pending_approval --approved--> granted
        |                                  `--denied--> denied
        `--(no approval needed)--> granted --fetch--> delivered
                                           `--node refuses--> failed
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Dialect

from accord.attestation import verify_attestation
from accord.checkpoint import Signer
from accord.db import bind_converter, insert_sql
from accord.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RemoteError,
    Unavailable,
)
from accord.grant import SignedGrant, issue_grant
from accord.identity import Principal
from accord.ids import CASE, POINTER, PURPOSE, check_id
from accord.policy.engine import DENIED_WITHOUT_REASON, RELEASE, PolicyPoint
from accord.times import as_utc
from accord.v1 import common_pb2, node_pb2
from hub.audit import AuditEvent, AuditLog
from hub.revocations import RevocationList

metadata = MetaData()

#: The calling peer's address, bound per request by the server for audit entries.
CALLER_SOURCE: contextvars.ContextVar[str] = contextvars.ContextVar("caller_source", default="")

#: Pointers the hub relayed, bound to the investigator who received them.
relayed_pointers = Table(
    "relayed_pointers",
    metadata,
    Column("handle", String(80), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("record_type", String(32), nullable=False),
    Column("requesting_agency", String(64), nullable=False),
    Column("requester", String(256), nullable=False),
    Column("agreement", String(64), nullable=False),
    Column("search_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@functools.cache
def _remember_sql(dialect: Dialect) -> tuple[str, Callable[[Any], Any]]:
    """The pointer-binding insert as driver SQL for ``dialect``, and its time conversion."""
    sql = insert_sql(relayed_pointers, dialect) + " ON CONFLICT (handle) DO NOTHING"
    return sql, bind_converter(relayed_pointers.c.created_at, dialect)


releases = Table(
    "releases",
    metadata,
    Column("release_id", String(40), primary_key=True),
    Column("request_key", String(80), nullable=False),
    Column("pointer", String(80), nullable=False),
    Column("owner", String(64), nullable=False, index=True),
    Column("record_type", String(32), nullable=False),
    Column("requester_agency", String(64), nullable=False),
    Column("requester", String(256), nullable=False),
    Column("requester_roles", JSON, nullable=False),
    Column("requester_key", LargeBinary(32), nullable=False),
    #: The requesting node's attestation of that key (accord/attestation.py),
    #: relayed to the owning node with the grant. Empty in rows made before.
    Column("requester_key_signature", LargeBinary, nullable=True),
    Column("requester_certificate", LargeBinary, nullable=True),
    Column("purpose", String(64), nullable=False),
    Column("agreement", String(64), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("justification", Text, nullable=False),
    Column("state", Integer, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("approved", Boolean, nullable=False, default=False),
    Column("withhold", JSON, nullable=False),
    Column("decided_by", String(256), nullable=False, default=""),
    Column("decision_reason", Text, nullable=False, default=""),
    Column("grant", LargeBinary, nullable=True),
    Column("grant_id", String(64), nullable=True),
    Column("grant_seq", BigInteger, nullable=True),
    Column("grant_entry", LargeBinary, nullable=True),
    Column("audit_seq", BigInteger, nullable=False),
    Column("ciphertext", LargeBinary, nullable=True),
    Column("withheld", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: The token that asked (jti, iat): revoking it stops an approval. NULL before 0007.
    Column("token_id", String(256), nullable=True),
    Column("token_issued_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("requester_agency", "requester", "request_key", name="uq_release_request"),
)

PENDING = common_pb2.RELEASE_STATE_PENDING_APPROVAL
GRANTED = common_pb2.RELEASE_STATE_GRANTED
DENIED = common_pb2.RELEASE_STATE_DENIED
DELIVERED = common_pb2.RELEASE_STATE_DELIVERED
FAILED = common_pb2.RELEASE_STATE_FAILED

RELEASE_ID_RE = re.compile(r"^rel_[A-Za-z0-9_-]{16,40}\Z")
REQUEST_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,80}\Z")
MAX_JUSTIFICATION = 2000
MAX_REASON = 500
#: A pointer can be used for a release this long after the search.
POINTER_TTL = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ReleaseAsk:
    """A validated RequestReleaseRequest."""

    pointer: str
    case_number: str
    purpose: str
    justification: str
    requester_key: bytes
    request_key: str
    requester_key_signature: bytes
    requester_certificate: bytes

    @classmethod
    def from_proto(cls, req: Any) -> ReleaseAsk:
        check_id("RequestReleaseRequest.pointer", req.pointer, POINTER)
        check_id("RequestReleaseRequest.case_number", req.case_number, CASE)
        check_id("RequestReleaseRequest.purpose", req.purpose, PURPOSE)
        if len(req.justification) > MAX_JUSTIFICATION:
            raise InvalidArgument(
                f"RequestReleaseRequest.justification: {len(req.justification)} characters, "
                f"at most {MAX_JUSTIFICATION}"
            )
        if not _printable(req.justification):
            raise InvalidArgument("RequestReleaseRequest.justification: contains control "
                                  "characters")
        if len(req.requester_key) != 32:
            raise InvalidArgument(
                f"RequestReleaseRequest.requester_key: {len(req.requester_key)} bytes, want 32"
            )
        if not REQUEST_KEY_RE.match(req.request_key):
            raise InvalidArgument("RequestReleaseRequest.request_key: want 8-80 letters, digits, _ or -")
        for name in ("requester_key_signature", "requester_certificate"):
            if not getattr(req, name):
                raise InvalidArgument(f"RequestReleaseRequest.{name}: missing; the requesting "
                                      "node attests its key (a node older than the hub?)")
        return cls(req.pointer, req.case_number, req.purpose, req.justification.strip(),
                   bytes(req.requester_key), req.request_key,
                   bytes(req.requester_key_signature), bytes(req.requester_certificate))


#: The hub's calls to owning nodes, bound to real gRPC stubs by the server.
Prepare = Callable[[str, node_pb2.PrepareReleaseRequest], Awaitable[node_pb2.PrepareReleaseResponse]]
Deliver = Callable[[str, node_pb2.ReleaseRequest], Awaitable[node_pb2.ReleaseResponse]]


def release_to_proto(row: Any, requester_revoked: bool = False) -> common_pb2.Release:
    return common_pb2.Release(
        requester_revoked=requester_revoked,
        release_id=row.release_id, pointer=row.pointer, owner=row.owner,
        record_type=row.record_type, requester_agency=row.requester_agency,
        requester=row.requester, purpose=row.purpose, case_number=row.case_number,
        justification=row.justification, agreement=row.agreement, state=row.state,
        reasons=list(row.reasons), requested_at=_aware(row.created_at).isoformat(),
        decided_by=row.decided_by, decision_reason=row.decision_reason,
        audit_seq=row.audit_seq,
    )


class ReleaseService:
    """The hub's half of the release workflow."""

    def __init__(self, *, audit: AuditLog, policy: PolicyPoint, signer: Signer,
                 prepare: Prepare, deliver: Deliver, timeout: float,
                 ca: x509.Certificate | None = None,
                 revocations: RevocationList | None = None) -> None:
        #: The steward's revocations: a suspended requester's release is not approved.
        self._revocations = revocations if revocations is not None else RevocationList(None)
        #: The federation CA: a request's key attestation is checked here too,
        #: so a bad one is refused with its reason before anything is granted
        #: (the owning node checks it again, for itself).
        self._ca = ca
        self._audit = audit
        self._engine = audit.engine
        self._policy = policy
        self._signer = signer
        self._prepare = prepare
        self._deliver = deliver
        self._timeout = timeout

    # --- pointers ------------------------------------------------------------

    @staticmethod
    def remember_pointers(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Bind relayed pointers to the investigator who received them, in ``conn``'s
        transaction (the search's audit transaction).

        A handle is bound once, to the first investigator who received it: a
        node that repeats or re-uses handles cannot rebind (or break) them.
        One driver-level ``INSERT ... ON CONFLICT DO NOTHING`` on either
        backend (a select and an insert through SQLAlchemy cost the search's
        audit commit about 0.3 ms).
        """
        if not rows:
            return
        sql, convert = _remember_sql(conn.dialect)
        conn.connection.cursor().executemany(sql, [
            (r["handle"], r["owner"], r["record_type"], r["requesting_agency"],
             r["requester"], r["agreement"], r["search_id"], convert(r["created_at"]))
            for r in rows])

    def _pointer(self, conn: Connection, principal: Principal, handle: str,
                 now: dt.datetime) -> Any:
        row = conn.execute(select(relayed_pointers).where(
            relayed_pointers.c.handle == handle)).one_or_none()
        # Unknown, someone else's, or stale: one answer, so handles cannot be probed.
        if (row is None or row.requesting_agency != principal.agency
                or row.requester != principal.subject
                or _aware(row.created_at) + POINTER_TTL < now):
            return None
        return row

    # --- events ----------------------------------------------------------------

    def _event(self, name: str, outcome: str, now: dt.datetime, actor: Principal,
               row: Any, reasons: Sequence[str] = (), **details: Any) -> AuditEvent:
        return AuditEvent(
            event=name, time=now, outcome=outcome, actor=actor.subject, agency=actor.agency,
            roles=tuple(sorted(actor.roles)), source=CALLER_SOURCE.get(),
            purpose=row["purpose"], case=row["case_number"],
            reasons=tuple(reasons),
            details={"release_id": row["release_id"], "pointer": row["pointer"],
                     "owner": row["owner"], "record_type": row["record_type"],
                     "agreement": row["agreement"], "requester": row["requester"],
                     "requester_agency": row["requester_agency"], **details},
        )

    async def _decide(self, row: dict[str, Any], principal_roles: Sequence[str],
                      now: dt.datetime, approval: str) -> Any:
        return await self._policy.decide(RELEASE, {
            "agreement": row["agreement"], "purpose": row["purpose"],
            "case_number": row["case_number"], "justification": row["justification"],
            "now": now.date().isoformat(),
            "principal": {"subject": row["requester"], "agency": row["requester_agency"],
                          "roles": sorted(principal_roles)},
            "owner": row["owner"],
            # The hub does not know the record's labels; the owning node decides
            # again, independently, with them.
            "record": {"record_type": row["record_type"], "labels": []},
            "approval": approval,
        })

    # --- request -----------------------------------------------------------------

    # Every database step below runs in a worker thread (asyncio.to_thread): an
    # audit transaction waits for the append lock, which on PostgreSQL another
    # hub replica may hold, and on the event loop that wait would stall every
    # other call this replica serves, health checks included.

    async def request(self, principal: Principal, ask: ReleaseAsk, now: dt.datetime
                      ) -> common_pb2.Release:
        def lookup() -> tuple[Any, Any]:
            with self._engine.connect() as conn:
                existing = _by_request_key(conn, principal, ask.request_key)
                if existing is not None:
                    return existing, None
                return None, self._pointer(conn, principal, ask.pointer, now)

        existing, pointer = await asyncio.to_thread(lookup)
        if existing is not None:
            return release_to_proto(existing)  # a retried request: same release
        if self._ca is not None:
            try:
                verify_attestation(ask.requester_certificate, ask.requester_key_signature,
                                   self._ca, agency=principal.agency, pointer=ask.pointer,
                                   requester_key=ask.requester_key, now=now)
            except PermissionDenied as exc:
                raise InvalidArgument(f"RequestReleaseRequest.requester_key_signature: "
                                      f"{exc.message}") from None
        row: dict[str, Any] = {
            "release_id": "rel_" + secrets.token_urlsafe(18), "request_key": ask.request_key,
            "pointer": ask.pointer, "owner": pointer.owner if pointer else "",
            "record_type": pointer.record_type if pointer else "",
            "requester_agency": principal.agency, "requester": principal.subject,
            "requester_roles": sorted(principal.roles), "requester_key": ask.requester_key,
            "requester_key_signature": ask.requester_key_signature,
            "requester_certificate": ask.requester_certificate,
            "purpose": ask.purpose, "agreement": pointer.agreement if pointer else "",
            "case_number": ask.case_number, "justification": ask.justification,
            "reasons": [], "approved": False, "withhold": [], "decided_by": "",
            "decision_reason": "", "withheld": [], "created_at": now, "updated_at": now,
            "token_id": principal.token_id, "token_issued_at": principal.issued_at,
        }
        if pointer is None:
            await self._refuse(principal, row, now, ("pointer_unknown",))
            raise NotFound("pointer: not found (or not yours, or expired)")

        decision = await self._decide(row, sorted(principal.roles), now, "none")
        hub_needs = bool(decision.result.get("needs_approval"))
        blocking = tuple(r for r in decision.reasons if r != "approval_required")
        if blocking:
            await self._refuse(principal, row, now, blocking)
            raise PermissionDenied(f"release denied: {', '.join(blocking)}", reasons=blocking)
        node = await self._ask_owner(principal, row, now)
        node_reasons = _reason_codes(node.reasons)
        node_blocking = tuple(f"{row['owner']}:{r}" for r in node_reasons
                              if r != "approval_required")
        if not node.allow and not node_reasons:
            # A refusal without a reason is still a refusal.
            node_blocking = (f"{row['owner']}:{DENIED_WITHOUT_REASON}",)
        if not node.allow and node_blocking:
            await self._refuse(principal, row, now, node_blocking)
            raise PermissionDenied(f"release denied: {', '.join(node_blocking)}",
                                   reasons=node_blocking)
        # Asked for in either form (the flag or the reason), approval is needed.
        needs_approval = (hub_needs or node.needs_approval
                          or "approval_required" in decision.reasons
                          or "approval_required" in node_reasons)
        row["withhold"] = _withhold_rules(decision.result.get("withhold", []))
        row["state"] = PENDING if needs_approval else GRANTED
        row["reasons"] = ["approval_required"] if needs_approval else []

        def commit() -> Any:
            with self._audit.transaction() as tx:
                # Checked again where appends are serialised: the same request
                # sent twice at once is one release, not an error.
                twin = _by_request_key(tx.conn, principal, ask.request_key)
                if twin is None:
                    appended = tx.append(self._event(
                        "release_requested", "ok", now, principal, row,
                        needs_approval=needs_approval,
                        justification_given=bool(row["justification"])))
                    row["audit_seq"] = appended.seq
                    tx.conn.execute(insert(releases).values(**row))
                    if not needs_approval:
                        self._grant(tx, principal, row, now)
            return twin

        twin = await asyncio.to_thread(commit)
        if twin is not None:
            return release_to_proto(twin)
        return await self.get(row["release_id"])

    async def _refuse(self, principal: Principal, row: dict[str, Any], now: dt.datetime,
                      reasons: tuple[str, ...]) -> None:
        await asyncio.to_thread(self._audit.append, self._event(
            "release_denied", "denied", now, principal, row, reasons))

    async def _ask_owner(self, principal: Principal, row: dict[str, Any],
                         now: dt.datetime) -> node_pb2.PrepareReleaseResponse:
        try:
            return await asyncio.wait_for(self._prepare(row["owner"], node_pb2.PrepareReleaseRequest(
                pointer=row["pointer"], requesting_agency=row["requester_agency"],
                requester=row["requester"], requester_roles=row["requester_roles"],
                purpose=row["purpose"], agreement=row["agreement"],
                case_number=row["case_number"], justification=row["justification"],
            )), self._timeout)
        except (RemoteError, TimeoutError) as exc:
            status = exc.status.name.lower() if isinstance(exc, RemoteError) else "timed_out"
            await asyncio.to_thread(self._audit.append, self._event(
                "release_failed", "error", now, principal, row, (f"owner_{status}",)))
            raise Unavailable(f"release: the owning node {row['owner']} could not be asked "
                              f"({status}); try again") from exc

    def _grant(self, tx: Any, actor: Principal, row: dict[str, Any], now: dt.datetime) -> None:
        """Append the authorisation and store the grant, in the caller's transaction."""
        grant_id = secrets.token_urlsafe(18)
        appended = tx.append(self._event(
            "release_granted", "ok", now, actor, row, grant_id=grant_id,
            approved=row["approved"], withhold=row["withhold"],
            requester_key_sha256=_sha256(row["requester_key"])))
        signed = issue_grant(
            grant_id=grant_id, release_id=row["release_id"], pointer=row["pointer"],
            owner=row["owner"], requester_agency=row["requester_agency"],
            requester=row["requester"], purpose=row["purpose"], agreement=row["agreement"],
            case=row["case_number"], requester_key=row["requester_key"],
            audit_seq=appended.seq, audit_leaf=appended.leaf,
            withhold=tuple((tuple(f), tuple(r)) for f, r in row["withhold"]),
            approved=row["approved"], signer=self._signer, now=now,
        )
        tx.conn.execute(update(releases).where(releases.c.release_id == row["release_id"]).values(
            state=GRANTED, reasons=[], grant=signed.to_bytes(), grant_id=grant_id,
            grant_seq=appended.seq, grant_entry=appended.entry, audit_seq=appended.seq,
            updated_at=now))

    # --- custodians ------------------------------------------------------------------

    async def decide(self, principal: Principal, release_id: str, approve: bool, reason: str,
                     now: dt.datetime) -> common_pb2.Release:
        if not RELEASE_ID_RE.match(release_id):
            raise InvalidArgument("DecideReleaseRequest.release_id: malformed, want 'rel_...'")
        if len(reason) > MAX_REASON or not reason.strip() or not _printable(reason):
            raise InvalidArgument(f"DecideReleaseRequest.reason: want 1-{MAX_REASON} printable "
                                  "characters")
        if not principal.has_role("custodian"):
            raise PermissionDenied("only a custodian of the owning agency may decide releases",
                                   reasons=("role_custodian_missing",))
        if approve:
            # An approval is a grant: the policy is asked again, now (the
            # agreement may have expired, the requester's agency left it,
            # since the request), as for a grant renewed at fetch.
            row = await asyncio.to_thread(self._row, release_id)
            if row is not None and row.owner == principal.agency and row.state == PENDING:
                current = dict(row._mapping)
                if self._revoked(row):
                    # Not granted while the steward's revocation stands; the
                    # custodian may deny it, or decide once it is lifted.
                    await asyncio.to_thread(
                        self._audit.append,
                        self._event("release_approval_refused", "denied", now, principal,
                                    current, ("requester_revoked",)))
                    raise PermissionDenied(
                        f"release {release_id}: its requester {row.requester} "
                        f"({row.requester_agency}), or the token they asked with, is revoked "
                        "at the hub; deny it, or decide once the revocation is lifted",
                        reasons=("requester_revoked",))
                decision = await self._decide(current, list(row.requester_roles), now,
                                              "approved")
                blocking = tuple(r for r in decision.reasons if r != "approval_required")
                if blocking:  # a refusal always carries a reason (see PolicyPoint)
                    await asyncio.to_thread(self._deny_from, PENDING, principal, current,
                                            blocking, now)
                    raise PermissionDenied(f"release denied: {', '.join(blocking)}",
                                           reasons=blocking)
        await asyncio.to_thread(self._record_decision, principal, release_id, approve, reason,
                                now)
        return await self.get(release_id)

    def _record_decision(self, principal: Principal, release_id: str, approve: bool,
                         reason: str, now: dt.datetime) -> None:
        with self._audit.transaction() as tx:
            row = tx.conn.execute(select(releases).where(
                releases.c.release_id == release_id)).one_or_none()
            if row is None or row.owner != principal.agency:
                raise NotFound(f"release {release_id}: not found among your agency's releases")
            if row.state != PENDING:
                raise InvalidArgument(f"release {release_id}: is not pending approval")
            data = dict(row._mapping)
            data.update(decided_by=principal.subject, decision_reason=reason.strip(),
                        approved=approve)
            name = "release_approved" if approve else "release_denied"
            appended = tx.append(self._event(name, "ok" if approve else "denied", now, principal,
                                             data, () if approve else ("custodian_denied",),
                                             reason=reason.strip()))
            tx.conn.execute(update(releases).where(releases.c.release_id == release_id).values(
                state=PENDING if approve else DENIED, approved=approve,
                reasons=[] if approve else ["custodian_denied"], decided_by=principal.subject,
                decision_reason=reason.strip(), audit_seq=appended.seq, updated_at=now))
            if approve:
                self._grant(tx, principal, data, now)

    async def list_for(self, principal: Principal, state: int) -> list[common_pb2.Release]:
        if state and state not in common_pb2.ReleaseState.values():
            raise InvalidArgument(f"ListReleasesRequest.state: got {state}, unknown")
        query = select(releases).order_by(releases.c.created_at)
        if principal.has_role("custodian"):
            query = query.where(releases.c.owner == principal.agency)
        else:
            query = query.where(releases.c.requester_agency == principal.agency,
                                releases.c.requester == principal.subject)
        if state:
            query = query.where(releases.c.state == state)

        def read() -> list[common_pb2.Release]:
            with self._engine.connect() as conn:
                return [release_to_proto(r, self._revoked(r)) for r in conn.execute(query)]

        return await asyncio.to_thread(read)

    async def get(self, release_id: str) -> common_pb2.Release:
        row = await asyncio.to_thread(self._row, release_id)
        if row is None:
            raise NotFound(f"release {release_id}: not found")
        return release_to_proto(row, self._revoked(row))

    def _revoked(self, row: Any) -> bool:
        """Whether the steward revoked the requester, or the token they asked with."""
        issued = row.token_issued_at
        return self._revocations.current.refuses_token(
            row.requester_agency, row.requester, row.token_id, as_utc(issued) if issued else None)

    def _row(self, release_id: str) -> Any:
        """The release's row, or None."""
        with self._engine.connect() as conn:
            return conn.execute(select(releases).where(
                releases.c.release_id == release_id)).one_or_none()

    # --- delivery ---------------------------------------------------------------------

    async def fetch(self, principal: Principal, release_id: str, now: dt.datetime
                    ) -> tuple[common_pb2.Release, bytes, str, list[str]]:
        if not RELEASE_ID_RE.match(release_id):
            raise InvalidArgument("FetchReleaseRequest.release_id: malformed, want 'rel_...'")
        row = await asyncio.to_thread(self._row, release_id)
        if row is None or row.requester_agency != principal.agency \
                or row.requester != principal.subject:
            raise NotFound(f"release {release_id}: not found among your releases")
        if row.state == DELIVERED:
            # A retried fetch gets the same ciphertext; only the requester can open it.
            return release_to_proto(row), bytes(row.ciphertext), row.grant_id, list(row.withheld)
        if row.state != GRANTED:
            return release_to_proto(row), b"", "", []
        signed = SignedGrant.from_bytes(bytes(row.grant))
        if signed.grant.expires_at <= now:
            # A new grant is a new decision: the node takes the requester's
            # role and justification on the hub's word, so the policy is asked
            # again, with the roles the requester holds now.
            current = dict(row._mapping)
            decision = await self._decide(current, sorted(principal.roles), now,
                                          "approved" if row.approved else "none")
            blocking = tuple(r for r in decision.reasons
                             if not (r == "approval_required" and row.approved))
            if blocking or not (decision.allow or row.approved):
                blocking = blocking or (DENIED_WITHOUT_REASON,)
                await asyncio.to_thread(self._deny_from, GRANTED, principal, current, blocking,
                                        now)
                raise PermissionDenied(f"release denied: {', '.join(blocking)}",
                                       reasons=blocking)
            await asyncio.to_thread(self._regrant, principal, current, now)
            row = await asyncio.to_thread(self._row, release_id)
        checkpoint = await asyncio.to_thread(self._audit.latest_checkpoint)
        # The grant's entry committed with its own checkpoint, so one covers it.
        assert checkpoint is not None
        size = checkpoint.checkpoint.size
        proof = await asyncio.to_thread(self._audit.inclusion_proof, row.grant_seq, size)
        request = node_pb2.ReleaseRequest(
            grant=bytes(row.grant), audit_entry=bytes(row.grant_entry),
            checkpoint=checkpoint.to_text(), inclusion_proof=proof,
            requester_key_signature=bytes(row.requester_key_signature or b""),
            requester_certificate=bytes(row.requester_certificate or b""))
        data = dict(row._mapping)
        try:
            response = await asyncio.wait_for(self._deliver(row.owner, request), self._timeout)
        except (RemoteError, TimeoutError) as exc:
            refused = isinstance(exc, RemoteError) and exc.status.name in {
                "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION", "NOT_FOUND"}
            if isinstance(exc, RemoteError) and exc.message in CLOCK_REFUSALS:
                # The owner's clock and ours disagree about the grant's few
                # minutes: worth another try (a new grant once this one is
                # expired here too), not the end of the release.
                refused = False
            detail = exc.message if isinstance(exc, RemoteError) else "timed out"
            await asyncio.to_thread(self._record_failure, principal, data, refused, detail, now)
            if refused:
                raise PermissionDenied(
                    f"release {release_id}: {row.owner} refused it: {detail}") from exc
            raise Unavailable(f"release {release_id}: {row.owner} could not release it now "
                              f"({detail}); try again") from exc
        await asyncio.to_thread(self._record_delivery, principal, data, response, now)
        release = await self.get(release_id)
        return release, bytes(response.ciphertext), row.grant_id, list(response.withheld)

    def _deny_from(self, state: int, principal: Principal, row: dict[str, Any],
                   blocking: tuple[str, ...], now: dt.datetime) -> None:
        """The policy, asked again, refuses a release in ``state``: audit it, end it denied."""
        with self._audit.transaction() as tx:
            appended = tx.append(self._event("release_denied", "denied", now, principal,
                                             row, blocking))
            tx.conn.execute(update(releases).where(
                releases.c.release_id == row["release_id"], releases.c.state == state).values(
                state=DENIED, reasons=list(blocking), audit_seq=appended.seq, updated_at=now))

    def _regrant(self, principal: Principal, row: dict[str, Any], now: dt.datetime) -> None:
        with self._audit.transaction() as tx:
            self._grant(tx, principal, row, now)

    def _record_failure(self, principal: Principal, row: dict[str, Any], refused: bool,
                        detail: str, now: dt.datetime) -> None:
        with self._audit.transaction() as tx:
            appended = tx.append(self._event(
                "release_failed", "error", now, principal, row,
                (("owner_refused" if refused else "owner_unavailable"),),
                detail=detail[:300], grant_id=row["grant_id"]))
            if refused:
                # Never over a delivery (a concurrent fetch may have got the record).
                tx.conn.execute(update(releases).where(
                    releases.c.release_id == row["release_id"],
                    releases.c.state == GRANTED).values(
                    state=FAILED, reasons=["owner_refused"], audit_seq=appended.seq,
                    updated_at=now))

    def _record_delivery(self, principal: Principal, row: dict[str, Any],
                         response: node_pb2.ReleaseResponse, now: dt.datetime) -> None:
        with self._audit.transaction() as tx:
            appended = tx.append(self._event(
                "release_delivered", "ok", now, principal, row, grant_id=row["grant_id"],
                ciphertext_bytes=len(response.ciphertext), withheld=list(response.withheld)))
            tx.conn.execute(update(releases).where(
                releases.c.release_id == row["release_id"]).values(
                state=DELIVERED, ciphertext=response.ciphertext,
                withheld=list(response.withheld), audit_seq=appended.seq, updated_at=now))


def _by_request_key(conn: Connection, principal: Principal, request_key: str) -> Any:
    """The release this principal already asked for under ``request_key``, or None."""
    return conn.execute(select(releases).where(
        releases.c.requester_agency == principal.agency,
        releases.c.requester == principal.subject,
        releases.c.request_key == request_key)).one_or_none()


#: A node's refusals of a grant that only say its clock and the hub's disagree.
CLOCK_REFUSALS = frozenset({"grant expired", "grant not yet valid"})

REASON_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
MAX_NODE_REASONS = 16


def _reason_codes(raw: Sequence[str]) -> tuple[str, ...]:
    """A node's reasons, as trusted as the node: codes only, few, short."""
    codes = [r for r in raw[:MAX_NODE_REASONS] if REASON_RE.match(r)]
    if len(codes) != len(raw):
        codes.append("malformed_reasons")
    return tuple(codes)


def _printable(text: str) -> bool:
    """Free text may hold line breaks and tabs, but no other control characters."""
    return all(c.isprintable() or c in "\n\t" for c in text)


def _withhold_rules(raw: Any) -> list[list[list[str]]]:
    rules = []
    for rule in raw if isinstance(raw, list) else []:
        if isinstance(rule, dict):
            rules.append([sorted(rule.get("fields", [])), sorted(rule.get("roles", []))])
    return rules


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


