"""Releasing a record from the owning node: nothing leaves unless the log proves
it was recorded.

Before a record leaves, this node checks, itself, in this order:

1. the grant's Ed25519 signature by the hub, that it is for this node, and
   that it is within its short validity;
2. that the grant was never used (the release log's primary key is the grant
   id, so even a race cannot use it twice); the same grant again gets the
   answer already sent, so a hub whose first answer was lost can retry;
3. that the pointer exists and was issued to the requesting agency;
4. that the audit entry it was given is the grant's (leaf hash, sequence
   number, event, and every term: pointer, owner, requester and their key,
   agreement, purpose, case, approval, withholding), and that it is included
   in a checkpoint signed by the hub which is consistent with the last
   checkpoint this node accepted (so a hub cannot show it one history and an
   auditor another); and that the requesting agency's node itself signed the
   key the record is to be sealed to, for this pointer, with its certificate
   from the federation CA (:mod:`accord.attestation`): the hub relays the key
   but cannot put its own in its place;
5. its own release policy, with the record's real labels.

Only then does it log the release locally, committed with the new checkpoint,
withhold the fields the agreement says, and encrypt the record to the
requester's key. Any failure of a cryptographic check is one opaque error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord import merkle
from accord.attestation import UNATTESTED, verify_attestation
from accord.checkpoint import Checkpoint, SignedCheckpoint, verify_checkpoint
from accord.errors import CryptoError, InvalidArgument, NotFound, PermissionDenied
from accord.grant import Grant, SignedGrant, parse_withhold, verify_grant
from accord.policy.engine import RELEASE, Decision, PolicyPoint
from accord.sealing import seal, withhold
from accord.v1 import node_pb2
from node.store import NodeStore

#: Asks the hub for a consistency proof between two checkpoint sizes.
ConsistencySource = Callable[[int, int], Awaitable[Sequence[bytes]]]

KEY_NAME = "accord-hub"

#: Facts the node cannot see but the hub checked and signed for in the grant:
#: the requester's roles and their justification. Everything else (purpose,
#: membership, record type, labels, approval) the node decides again itself.
HUB_ATTESTED = frozenset({"role_not_allowed_to_release", "justification_missing"})


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class HubKeys:
    """What this node trusts about the hub's log.

    ``public_keys`` holds the hub's current key and, during and after a key
    rotation, its previous ones: grants and checkpoints signed by any verify.
    """

    public_keys: tuple[Ed25519PublicKey, ...]
    origin: str
    key_name: str = KEY_NAME
    #: The federation CA, which issued the requesting nodes' certificates
    #: (their attestations of requester keys are checked against it).
    ca: x509.Certificate | None = None


def _entry_records(doc: dict[str, Any], grant: Grant) -> bool:
    """Whether the audit entry ``doc`` records this grant, every term of it.

    The entry is what auditors read. Were only its id checked, a hub holding
    its signing key could log one release and sign grants for others under
    the same id (another record, another requester's key, an approval no
    custodian gave); so every term the grant carries must be the entry's.
    """
    details = doc.get("details")
    if not isinstance(details, dict):
        return False
    try:
        withhold = parse_withhold(details.get("withhold"))
    except InvalidArgument:
        return False
    key_digest = hashlib.sha256(grant.requester_key).hexdigest()
    return (doc.get("seq") == grant.audit_seq
            and doc.get("event") == "release_granted"
            and doc.get("outcome") == "ok"
            and doc.get("purpose") == grant.purpose
            and doc.get("case") == grant.case
            and details.get("grant_id") == grant.grant_id
            and details.get("release_id") == grant.release_id
            and details.get("pointer") == grant.pointer
            and details.get("owner") == grant.owner
            and details.get("agreement") == grant.agreement
            and details.get("requester") == grant.requester
            and details.get("requester_agency") == grant.requester_agency
            and details.get("approved") is grant.approved
            and withhold == grant.withhold
            and isinstance(details.get("requester_key_sha256"), str)
            and hmac.compare_digest(details["requester_key_sha256"], key_digest))


class Releaser:
    """The owning node's half of the release workflow."""

    def __init__(self, store: NodeStore, agency: str, policy: PolicyPoint, hub: HubKeys,
                 consistency: ConsistencySource) -> None:
        self._store = store
        self._agency = agency
        self._policy = policy
        self._hub = hub
        self._consistency = consistency
        # One release at a time: the checkpoint state must advance linearly.
        self._lock = asyncio.Lock()

    async def _decide(self, *, agreement: str, purpose: str, case_number: str,
                      justification: str, requester: str, agency: str, roles: Sequence[str],
                      record_type: str, labels: frozenset[str], approval: str,
                      now: dt.datetime) -> Decision:
        return await self._policy.decide(RELEASE, {
            "agreement": agreement, "purpose": purpose, "case_number": case_number,
            "justification": justification, "now": now.date().isoformat(),
            "principal": {"subject": requester, "agency": agency, "roles": sorted(roles)},
            "owner": self._agency,
            "record": {"record_type": record_type, "labels": sorted(labels)},
            "approval": approval,
        })

    def _record_for(self, handle: str, requesting_agency: str, now: dt.datetime
                    ) -> tuple[int, dict[str, object], frozenset[str]]:
        pointer = self._store.pointer(handle)
        if (pointer is None or pointer.requesting_agency != requesting_agency
                or _aware(pointer.expires_at) < now):
            raise NotFound("pointer: not found")
        found = self._store.record_by_id(pointer.record_id)
        if found is None:
            raise NotFound("pointer: the record is gone")
        body, labels = found
        return int(pointer.record_id), body, labels

    async def prepare(self, req: node_pb2.PrepareReleaseRequest, now: dt.datetime
                      ) -> node_pb2.PrepareReleaseResponse:
        """Would this node release the pointer's record? No content in the answer."""
        _, body, labels = await asyncio.to_thread(
            self._record_for, req.pointer, req.requesting_agency, now)
        decision = await self._decide(
            agreement=req.agreement, purpose=req.purpose, case_number=req.case_number,
            justification=req.justification, requester=req.requester,
            agency=req.requesting_agency, roles=list(req.requester_roles),
            record_type=str(body["record_type"]), labels=labels, approval="none", now=now)
        return node_pb2.PrepareReleaseResponse(
            allow=decision.allow, needs_approval=bool(decision.result.get("needs_approval")),
            reasons=list(decision.reasons))

    async def release(self, req: node_pb2.ReleaseRequest, now: dt.datetime
                      ) -> node_pb2.ReleaseResponse:
        async with self._lock:
            return await self._release(req, now)

    async def _release(self, req: node_pb2.ReleaseRequest, now: dt.datetime
                       ) -> node_pb2.ReleaseResponse:
        # 1. the grant itself
        grant = verify_grant(SignedGrant.from_bytes(req.grant), self._hub.public_keys,
                             owner=self._agency, now=now)
        # 2. single use: the same grant again (the hub retrying an answer lost on
        # its way) gets the answer already logged and sent, nothing more
        earlier = await asyncio.to_thread(self._store.released, grant.grant_id)
        if earlier is not None:
            sent, withheld_before = earlier
            if sent is None:  # logged before answers were kept
                raise PermissionDenied("grant already used")
            return node_pb2.ReleaseResponse(ciphertext=sent, withheld=withheld_before)
        # 3. the pointer, issued to this requester's agency
        record_id, body, labels = await asyncio.to_thread(
            self._record_for, grant.pointer, grant.requester_agency, now)
        # 4. the audit entry, in the log, under a consistent signed checkpoint
        checkpoint, newest = await self._check_logged(grant, req)
        # 4b. the key the record is sealed to: the requesting node's own, not
        # one the hub put in its place (an entry the hub logged says nothing
        # about that: the hub writes both)
        if self._hub.ca is None:
            raise PermissionDenied("requester key: this node has no federation CA to check "
                                   "attestations against", reasons=(UNATTESTED,))
        verify_attestation(bytes(req.requester_certificate), bytes(req.requester_key_signature),
                           self._hub.ca, agency=grant.requester_agency, pointer=grant.pointer,
                           requester_key=grant.requester_key, now=now)
        # 5. this node's own policy, with the record's real labels
        decision = await self._decide(
            agreement=grant.agreement, purpose=grant.purpose, case_number=grant.case,
            justification="", requester=grant.requester, agency=grant.requester_agency,
            roles=(), record_type=str(body["record_type"]),
            labels=labels, approval="approved" if grant.approved else "none", now=now)
        blocking = [r for r in decision.reasons if r not in HUB_ATTESTED]
        if blocking:
            raise PermissionDenied(f"{self._agency} policy refuses the release: "
                                   f"{', '.join(blocking)}", reasons=tuple(blocking))
        rules = [(tuple(f), tuple(r)) for f, r in grant.withhold]
        rules += [(tuple(w.get("fields", [])), tuple(w.get("roles", [])))
                  for w in decision.result.get("withhold", []) if isinstance(w, dict)]
        redacted, withheld = withhold(body, rules)
        ciphertext = seal(redacted, grant.requester_key, grant_id=grant.grant_id)
        await asyncio.to_thread(self._store.record_release, {
            "grant_id": grant.grant_id, "release_id": grant.release_id,
            "pointer": grant.pointer, "record_id": record_id,
            "requester_agency": grant.requester_agency, "requester": grant.requester,
            "purpose": grant.purpose, "case_number": grant.case,
            "audit_seq": grant.audit_seq, "checkpoint_size": checkpoint.size,
            "withheld": withheld, "released_at": now, "ciphertext": ciphertext,
        }, (newest.size, newest.root))
        return node_pb2.ReleaseResponse(ciphertext=ciphertext, withheld=withheld)

    async def _check_logged(self, grant: Grant, req: node_pb2.ReleaseRequest
                            ) -> tuple[Checkpoint, Checkpoint]:
        """The checkpoint the entry is proven under, and the newest one now known."""
        entry = bytes(req.audit_entry)
        if merkle.leaf_hash(entry) != grant.audit_leaf:
            raise CryptoError()
        try:
            doc = json.loads(entry)
        except ValueError:
            raise CryptoError() from None
        if not isinstance(doc, dict) or not _entry_records(doc, grant):
            raise CryptoError()
        try:
            signed = SignedCheckpoint.from_text(req.checkpoint)
        except InvalidArgument:
            raise CryptoError() from None
        checkpoint = verify_checkpoint(signed, self._hub.public_keys, self._hub.key_name,
                                       self._hub.origin)
        stored = await asyncio.to_thread(self._store.last_checkpoint)
        newest = checkpoint
        if stored is not None:
            # Whichever of the two is older must be a prefix of the newer, or
            # the hub is showing this node a forked history.
            between = merkle.proof_between(stored[0], checkpoint.size)
            proof = await self._consistency(*between) if between is not None else []
            merkle.verify_one_history(stored, (checkpoint.size, checkpoint.root), proof)
            if stored[0] > checkpoint.size:
                newest = Checkpoint(self._hub.origin, *stored)
        merkle.verify_inclusion(grant.audit_leaf, grant.audit_seq - 1, checkpoint.size,
                                list(req.inclusion_proof), checkpoint.root)
        return checkpoint, newest
