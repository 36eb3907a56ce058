"""Release grants: signing, verifying, and every way a grant can be malformed or tampered with."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.checkpoint import Signer
from accord.errors import CryptoError, InvalidArgument, PermissionDenied
from accord.grant import (
    GRANT_TTL,
    MAX_GRANT_BYTES,
    MAX_GRANT_TTL,
    SIGNING_CONTEXT,
    Grant,
    SignedGrant,
    issue_grant,
    new_grant_id,
    verify_grant,
)
from tests.conftest import NOW

LEEWAY = dt.timedelta(seconds=30)
REQUESTER_KEY = bytes(range(32))
AUDIT_LEAF = bytes(range(100, 132))


class KeySigner:
    """An in-memory Signer, as a test stand-in for a file or HSM key."""

    def __init__(self, key: Ed25519PrivateKey, name: str = "hub-test") -> None:
        self.name = name
        self._key = key

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


HUB = KeySigner(Ed25519PrivateKey.from_private_bytes(bytes(32)))
OTHER_HUB = KeySigner(Ed25519PrivateKey.from_private_bytes(bytes([1] * 32)))


def issue(signer: KeySigner = HUB, now: dt.datetime = NOW, **changes: Any) -> SignedGrant:
    args: dict[str, Any] = {
        "release_id": "rel_0001",
        "pointer": "ptr_AAAAAAAAAAAAAAAAAAAAAAAA",
        "owner": "rivertown_pd",
        "requester_agency": "lakeside_so",
        "requester": "det.alvarez",
        "purpose": "missing_person",
        "agreement": "local-pilot",
        "case": "LS-2026-0042",
        "requester_key": REQUESTER_KEY,
        "audit_seq": 7,
        "audit_leaf": AUDIT_LEAF,
        "withhold": [(["phones", "addresses", "emails"], ["victim"]), (["summary"], [])],
        "approved": False,
    }
    args.update(changes)
    return issue_grant(**args, signer=signer, now=now)


def fixed_grant(**changes: Any) -> Grant:
    """A grant with every field fixed, for known-answer tests."""
    base = issue().grant
    return dataclasses.replace(base, grant_id="AAECAwQFBgcICQoLDA0ODw", **changes)


def verify(signed: SignedGrant, *, now: dt.datetime = NOW, owner: str = "rivertown_pd",
           key: Ed25519PublicKey | None = None) -> Grant:
    return verify_grant(signed, key or HUB.public_key(), owner=owner, now=now, leeway=LEEWAY)


# --------------------------------------------------------------------------- the happy path


def test_signer_protocol_is_satisfied_by_the_test_signer() -> None:
    signer: Signer = HUB  # mypy checks this line against accord.checkpoint.Signer
    assert signer.name == "hub-test"


def test_a_grant_id_made_beforehand_is_used() -> None:
    # The hub names the grant in its audit entry before it issues the grant.
    grant_id = new_grant_id()
    assert len(grant_id) == 22
    assert issue(grant_id=grant_id).grant.grant_id == grant_id
    with pytest.raises(InvalidArgument, match=r"^grant\.grant_id: got 'x'"):
        issue(grant_id="x")


def test_bytes_like_values_from_a_database_are_accepted() -> None:
    signed = issue(requester_key=memoryview(REQUESTER_KEY), audit_leaf=bytearray(AUDIT_LEAF))
    assert type(signed.grant.requester_key) is bytes and signed.grant.requester_key == REQUESTER_KEY
    assert type(signed.grant.audit_leaf) is bytes
    again = SignedGrant(signed.grant, memoryview(signed.signature))  # type: ignore[arg-type]
    assert verify(again) == signed.grant


def test_issue_fills_in_id_and_validity_window() -> None:
    signed = issue()
    grant = signed.grant
    assert len(grant.grant_id) >= 22  # 128 bits of base64url
    assert grant.issued_at == NOW
    assert grant.expires_at == NOW + GRANT_TTL
    assert dt.timedelta(minutes=5) == GRANT_TTL
    # Withholding rules are normalised: names sorted, duplicates gone.
    assert grant.withhold == ((("addresses", "emails", "phones"), ("victim",)), (("summary",), ()))


def test_grant_ids_are_random() -> None:
    ids = {issue().grant.grant_id for _ in range(50)}
    assert len(ids) == 50


def test_grant_round_trips_through_bytes() -> None:
    grant = issue().grant
    assert Grant.from_bytes(grant.to_bytes()) == grant


def test_signed_grant_round_trips_through_bytes() -> None:
    signed = issue()
    again = SignedGrant.from_bytes(signed.to_bytes())
    assert again == signed
    assert verify(again) == signed.grant


def test_signature_verifies_and_returns_the_grant() -> None:
    signed = issue()
    assert verify(signed) is signed.grant


def test_signature_covers_the_domain_separated_canonical_bytes() -> None:
    signed = issue()
    message = b"accord/v1 release grant\x00" + signed.grant.to_bytes()
    assert SIGNING_CONTEXT == b"accord/v1 release grant\x00"
    assert signed.grant.signing_message() == message
    HUB.public_key().verify(signed.signature, message)  # raises if not


def test_canonical_bytes_known_answer() -> None:
    grant = fixed_grant()
    want = (
        b'{"agreement":"local-pilot","approved":false,'
        b'"audit_leaf":"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM","audit_seq":7,'
        b'"case":"LS-2026-0042","expires_at":"2026-11-23T15:05:00.000000+00:00",'
        b'"grant_id":"AAECAwQFBgcICQoLDA0ODw","issued_at":"2026-11-23T15:00:00.000000+00:00",'
        b'"owner":"rivertown_pd","pointer":"ptr_AAAAAAAAAAAAAAAAAAAAAAAA","purpose":"missing_person",'
        b'"release_id":"rel_0001","requester":"det.alvarez","requester_agency":"lakeside_so",'
        b'"requester_key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",'
        b'"withhold":[[["addresses","emails","phones"],["victim"]],[["summary"],[]]]}'
    )
    assert grant.to_bytes() == want


def test_non_utc_times_are_kept_in_utc() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    signed = issue(now=NOW.astimezone(plus_two))
    assert signed.grant.issued_at.tzinfo is dt.UTC
    assert signed.grant.issued_at == NOW
    assert b"+00:00" in signed.grant.to_bytes()


# --------------------------------------------------------------------------- tampering

#: For each field, a different but well-formed value.
CHANGES: dict[str, Any] = {
    "grant_id": "BBBBBBBBBBBBBBBBBBBBBB",
    "release_id": "rel_0002",
    "pointer": "ptr_BBBBBBBBBBBBBBBBBBBBBBBB",
    "owner": "harbor_pd",
    "requester_agency": "harbor_pd",
    "requester": "det.someone_else",
    "purpose": "violent_crime",
    "agreement": "other-pilot",
    "case": "LS-2026-0043",
    "requester_key": bytes(32),
    "audit_seq": 8,
    "audit_leaf": bytes(32),
    "withhold": (),
    "approved": True,
    "issued_at": NOW - dt.timedelta(seconds=1),
    "expires_at": NOW + GRANT_TTL + dt.timedelta(seconds=1),
}


def test_every_field_has_a_tampering_case() -> None:
    assert set(CHANGES) == {f.name for f in dataclasses.fields(Grant)}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_any_single_field_changed_after_signing_fails(name: str) -> None:
    signed = issue()
    changed = dataclasses.replace(signed.grant, **{name: CHANGES[name]})
    assert changed != signed.grant
    with pytest.raises(CryptoError) as info:
        verify(SignedGrant(changed, signed.signature))
    assert str(info.value) == "cryptographic verification failed"  # says nothing about which field


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_any_single_field_changed_on_the_wire_fails(name: str) -> None:
    signed = issue()
    outer = json.loads(signed.to_bytes())
    doc = json.loads(outer["grant"])
    doc[name] = json.loads(dataclasses.replace(signed.grant, **{name: CHANGES[name]}).to_bytes())[name]
    outer["grant"] = json.dumps(doc)
    tampered = SignedGrant.from_bytes(json.dumps(outer).encode())
    with pytest.raises(CryptoError):
        verify(tampered)


def test_a_withholding_rule_dropped_after_signing_fails() -> None:
    signed = issue()
    fewer = dataclasses.replace(signed.grant, withhold=signed.grant.withhold[:1])
    with pytest.raises(CryptoError):
        verify(SignedGrant(fewer, signed.signature))


@pytest.mark.parametrize("byte", range(64))
def test_flipped_bit_in_signature_fails(byte: int) -> None:
    signed = issue()
    sig = bytearray(signed.signature)
    sig[byte] ^= 1 << (byte % 8)
    with pytest.raises(CryptoError):
        verify(SignedGrant(signed.grant, bytes(sig)))


def test_wrong_hub_key_fails() -> None:
    with pytest.raises(CryptoError):
        verify(issue(), key=OTHER_HUB.public_key())


def test_grant_signed_by_another_key_fails() -> None:
    with pytest.raises(CryptoError):
        verify(issue(signer=OTHER_HUB))


def test_signature_without_the_domain_prefix_fails() -> None:
    signed = issue()
    bare = HUB.sign(signed.grant.to_bytes())
    with pytest.raises(CryptoError):
        verify(SignedGrant(signed.grant, bare))


def test_signature_covers_content_not_spelling() -> None:
    # Same content, other spelling: what is verified is the canonical form of what was parsed.
    signed = issue()
    doc = json.loads(signed.grant.to_bytes())
    doc["issued_at"] = "2026-11-23T15:00:00Z"
    re_encoded = json.dumps({"grant": json.dumps(doc, indent=1), "sig": json.loads(signed.to_bytes())["sig"]})
    again = SignedGrant.from_bytes(re_encoded.encode())
    assert again.grant == signed.grant
    assert verify(again) == signed.grant  # the parsed grant is what is checked, so it verifies


# --------------------------------------------------------------------------- addressee and time


def test_grant_for_another_node_is_refused() -> None:
    with pytest.raises(PermissionDenied, match=r"^grant is for another node$"):
        verify(issue(), owner="lakeside_so")


def test_signature_is_checked_before_the_addressee() -> None:
    with pytest.raises(CryptoError):
        verify(issue(signer=OTHER_HUB), owner="lakeside_so")


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (dt.timedelta(0), True),
        (GRANT_TTL, True),
        (GRANT_TTL + LEEWAY, True),
        (GRANT_TTL + LEEWAY + dt.timedelta(microseconds=1), False),
        (dt.timedelta(days=1), False),
    ],
)
def test_expiry(offset: dt.timedelta, ok: bool) -> None:
    signed = issue()
    if ok:
        assert verify(signed, now=NOW + offset) == signed.grant
    else:
        with pytest.raises(PermissionDenied, match=r"^grant expired$"):
            verify(signed, now=NOW + offset)


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (LEEWAY, True),
        (LEEWAY + dt.timedelta(microseconds=1), False),
        (dt.timedelta(hours=1), False),
    ],
)
def test_not_yet_valid(offset: dt.timedelta, ok: bool) -> None:
    signed = issue()
    if ok:
        assert verify(signed, now=NOW - offset) == signed.grant
    else:
        with pytest.raises(PermissionDenied, match=r"^grant not yet valid$"):
            verify(signed, now=NOW - offset)


def test_verify_refuses_a_naive_now_and_an_unbounded_leeway() -> None:
    signed = issue()
    with pytest.raises(InvalidArgument, match="now"):
        verify(signed, now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidArgument, match="leeway"):
        verify_grant(signed, HUB.public_key(), owner="rivertown_pd", now=NOW, leeway=dt.timedelta(hours=1))
    with pytest.raises(InvalidArgument, match="leeway"):
        verify_grant(signed, HUB.public_key(), owner="rivertown_pd", now=NOW, leeway=-LEEWAY)


# --------------------------------------------------------------------------- issuing errors


@pytest.mark.parametrize("ttl", [dt.timedelta(0), -GRANT_TTL, MAX_GRANT_TTL + dt.timedelta(seconds=1)])
def test_issue_refuses_a_bad_ttl(ttl: dt.timedelta) -> None:
    with pytest.raises(InvalidArgument, match=r"^ttl: "):
        issue_grant(**{k: getattr(issue().grant, k) for k in (
            "release_id", "pointer", "owner", "requester_agency", "requester", "purpose", "agreement",
            "case", "requester_key", "audit_seq", "audit_leaf", "withhold", "approved")},
            signer=HUB, now=NOW, ttl=ttl)


def test_issue_refuses_a_naive_now() -> None:
    with pytest.raises(InvalidArgument, match=r"^grant\.issued_at: "):
        issue(now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"owner": "Rivertown PD"}, r"^grant\.owner: got 'Rivertown PD'"),
        ({"pointer": "CAD-2026-1"}, r"^grant\.pointer: "),
        ({"requester": ""}, r"^grant\.requester: must not be empty"),
        ({"requester": "a\nb"}, r"^grant\.requester: contains control characters"),
        ({"case": "x" * 257}, r"^grant\.case: 257 characters"),
        ({"requester_key": bytes(31)}, r"^grant\.requester_key: 31 bytes, want 32"),
        ({"audit_leaf": "00" * 32}, r"^grant\.audit_leaf: got str, want bytes"),
        ({"audit_seq": 0}, r"^grant\.audit_seq: got 0, want 1 or more"),
        ({"audit_seq": True}, r"^grant\.audit_seq: got bool"),
        ({"approved": 1}, r"^grant\.approved: got int"),
        ({"withhold": [(["phone"], ["victim"])]}, r"^grant\.withhold\[0\]\.fields\[0\]: got 'phone'"),
        ({"withhold": [(["phones"], ["victims"])]}, r"^grant\.withhold\[0\]\.roles\[0\]: got 'victims'"),
        ({"withhold": [("phones", ["victim"])]}, r"^grant\.withhold\[0\]\.fields: got str"),
        ({"withhold": [([], ["victim"])]}, r"^grant\.withhold\[0\]\.fields: must not be empty"),
        ({"withhold": [(["phones"],)]}, r"^grant\.withhold\[0\]: want a \[fields, roles\] pair"),
        ({"withhold": [(["phones"], [])] * 65}, r"^grant\.withhold: more than 64 rules"),
    ],
)
def test_issue_refuses_malformed_fields(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        issue(**changes)


def test_grant_refuses_bad_validity_windows() -> None:
    with pytest.raises(InvalidArgument, match=r"^grant\.expires_at: must be after issued_at"):
        fixed_grant(expires_at=NOW)
    with pytest.raises(InvalidArgument, match=r"^grant\.expires_at: a grant lives at most"):
        fixed_grant(expires_at=NOW + MAX_GRANT_TTL + dt.timedelta(seconds=1))
    with pytest.raises(InvalidArgument, match=r"^grant\.issued_at: want an aware datetime"):
        fixed_grant(issued_at=NOW.replace(tzinfo=None))


# --------------------------------------------------------------------------- malformed bytes


def grant_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(fixed_grant().to_bytes())
    return doc


def encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^grant: not JSON"),
        (b"{", r"^grant: not JSON"),
        (b"\xff\xfe", r"^grant: not UTF-8"),
        (b"[]", r"^grant: got a JSON list, want an object"),
        (b'"grant"', r"^grant: got a JSON str, want an object"),
        (b"x" * (MAX_GRANT_BYTES + 1), r"^grant: 16385 bytes, at most 16384 allowed"),
    ],
)
def test_malformed_grant_bytes(data: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        Grant.from_bytes(data)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_missing_field_is_named(name: str) -> None:
    doc = grant_doc()
    del doc[name]
    with pytest.raises(InvalidArgument, match=rf"^grant\.{name}: missing$"):
        Grant.from_bytes(encode(doc))


def test_unknown_field_is_named() -> None:
    doc = grant_doc()
    doc["scope"] = "everything"
    with pytest.raises(InvalidArgument, match=r"^grant\.scope: unknown field$"):
        Grant.from_bytes(encode(doc))


def test_duplicate_field_is_named() -> None:
    data = fixed_grant().to_bytes()[:-1] + b',"owner":"harbor_pd"}'
    with pytest.raises(InvalidArgument, match=r"^grant\.owner: appears twice$"):
        Grant.from_bytes(data)


def test_nan_is_refused() -> None:
    data = fixed_grant().to_bytes().replace(b'"audit_seq":7', b'"audit_seq":NaN')
    with pytest.raises(InvalidArgument, match=r"^grant: NaN is not allowed"):
        Grant.from_bytes(data)


#: For each field, a value of the wrong JSON type.
WRONG_TYPES: dict[str, Any] = {
    "grant_id": 12345,
    "release_id": None,
    "pointer": ["ptr_AAAAAAAAAAAAAAAAAAAAAAAA"],
    "owner": {"id": "rivertown_pd"},
    "requester_agency": 1.5,
    "requester": True,
    "purpose": 0,
    "agreement": [],
    "case": None,
    "requester_key": 0,
    "audit_seq": "7",
    "audit_leaf": [],
    "withhold": {"phones": "victim"},
    "approved": "false",
    "issued_at": 1795446000,
    "expires_at": None,
}


def test_every_field_has_a_wrong_type_case() -> None:
    assert set(WRONG_TYPES) == set(CHANGES)


@pytest.mark.parametrize("name", sorted(WRONG_TYPES))
def test_wrong_type_is_named(name: str) -> None:
    doc = grant_doc()
    doc[name] = WRONG_TYPES[name]
    with pytest.raises(InvalidArgument, match=rf"^grant\.{name}: "):
        Grant.from_bytes(encode(doc))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("requester_key", "AAEC+/8", r"^grant\.requester_key: not unpadded base64url"),
        ("requester_key", "AAECAw==", r"^grant\.requester_key: not unpadded base64url"),
        ("requester_key", "AAF", r"^grant\.requester_key: not canonical base64url"),
        ("requester_key", "A", r"^grant\.requester_key: not unpadded base64url"),
        ("requester_key", "AAECAw", r"^grant\.requester_key: 4 bytes, want 32"),
        ("audit_leaf", "", r"^grant\.audit_leaf: 0 bytes, want 32"),
        ("issued_at", "yesterday", r"^grant\.issued_at: got 'yesterday', want an ISO 8601 time"),
        ("issued_at", "2026-11-23T15:00:00", r"^grant\.issued_at: want an aware datetime"),
        ("audit_seq", -1, r"^grant\.audit_seq: got -1, want 1 or more"),
        ("withhold", [["phones"]], r"^grant\.withhold\[0\]: want a \[fields, roles\] pair"),
        ("withhold", [["phones", []]], r"^grant\.withhold\[0\]\.fields: got str, want a list"),
        ("withhold", [[["phones"], [7]]], r"^grant\.withhold\[0\]\.roles\[0\]: got 7"),
        ("grant_id", "short", r"^grant\.grant_id: got 'short'"),
    ],
)
def test_malformed_field_values_are_named(name: str, value: Any, message: str) -> None:
    doc = grant_doc()
    doc[name] = value
    with pytest.raises(InvalidArgument, match=message):
        Grant.from_bytes(encode(doc))


def signed_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(issue().to_bytes())
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("sig"), r"^signed_grant\.sig: missing$"),
        (lambda d: d.pop("grant"), r"^signed_grant\.grant: missing$"),
        (lambda d: d.update(kid="hub-1"), r"^signed_grant\.kid: unknown field$"),
        (lambda d: d.update(sig="A" * 84), r"^signed_grant\.sig: want 64 bytes"),
        (lambda d: d.update(sig=7), r"^signed_grant\.sig: got int"),
        (lambda d: d.update(sig="!!"), r"^signed_grant\.sig: not unpadded base64url"),
        (lambda d: d.update(grant=json.loads(d["grant"])), r"^signed_grant\.grant: got dict"),
        (lambda d: d.update(grant="{}"), r"^grant\.\w+: missing$"),
        (lambda d: d.update(grant="{\ud800}"), r"^signed_grant\.grant: not valid Unicode"),
    ],
)
def test_malformed_signed_grant(change: Any, message: str) -> None:
    doc = signed_doc()
    change(doc)
    with pytest.raises(InvalidArgument, match=message):
        SignedGrant.from_bytes(encode(doc))


def test_oversize_signed_grant_is_refused_unread() -> None:
    doc = signed_doc()
    doc["padding"] = "x" * MAX_GRANT_BYTES
    with pytest.raises(InvalidArgument, match=r"^signed_grant: \d+ bytes, at most 16384 allowed"):
        SignedGrant.from_bytes(encode(doc))


@pytest.mark.parametrize("data", [b"", b"null", b"[1]", b"\x00" * 10, b'{"grant":"x","sig":""}'])
def test_garbage_signed_grants_raise_invalid_argument(data: bytes) -> None:
    with pytest.raises(InvalidArgument):
        SignedGrant.from_bytes(data)
