"""Sealing released records with HPKE, and withholding fields before release."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from accord.errors import CryptoError, InvalidArgument
from accord.sealing import (
    MAX_RECORD_BYTES,
    SEAL_OVERHEAD,
    RecipientKey,
    open_sealed,
    padded_size,
    seal,
    withhold,
)
from node.records import Person, Record, RecordType, Role, Vehicle

GRANT_ID = "AAECAwQFBgcICQoLDA0ODw"
OTHER_GRANT_ID = "AAECAwQFBgcICQoLDA0OEA"


def record() -> dict[str, Any]:
    """A canonical record dict, made the way the node makes them."""
    return Record(
        source="rms",
        source_id="RMS-2026-0107",
        record_type=RecordType.RMS_INCIDENT,
        occurred_on=dt.date(2026, 3, 14),
        jurisdiction="Rivertown",
        summary="Caller reports a domestic disturbance; victim left with a friend.",
        people=(
            Person(role=Role.VICTIM, name="Jazmin Ramírez", given="Jazmin", family="Ramírez",
                   aliases=("Jaz",), dobs=(dt.date(1999, 2, 1),), phones=("555-0101",),
                   emails=("jaz@example.test",), addresses=("12 Elm St",), labels=frozenset({"victim"})),
            Person(role=Role.WITNESS, name="Tom Reed", phones=("555-0202",), addresses=("14 Elm St",)),
            Person(role=Role.SUSPECT, given="Dale", family="Voss", nicknames=("D",), phones=("555-0303",)),
        ),
        vehicles=(Vehicle(plate="ABC123", plate_state="OR"),),
        extra={"beat": "7", "officer": "1142"},
    ).to_dict()


# --------------------------------------------------------------------------- keys


def test_recipient_key_round_trips_through_raw_bytes() -> None:
    key = RecipientKey.generate()
    assert len(key.public_bytes) == 32
    assert len(key.private_bytes) == 32
    again = RecipientKey.from_private_bytes(key.private_bytes)
    assert again.public_bytes == key.public_bytes


def test_recipient_key_and_public_key_accept_bytes_like_values() -> None:
    key = RecipientKey.generate()
    again = RecipientKey.from_private_bytes(memoryview(key.private_bytes))  # type: ignore[arg-type]
    sealed = seal({"a": 1}, bytearray(key.public_bytes), grant_id=GRANT_ID)  # type: ignore[arg-type]
    assert open_sealed(sealed, again, grant_id=GRANT_ID) == {"a": 1}


def test_recipient_key_repr_hides_the_private_key() -> None:
    key = RecipientKey.generate()
    assert key.private_bytes.hex() not in repr(key)
    assert "private" not in repr(key)


@pytest.mark.parametrize("data", [b"", bytes(31), bytes(33), "00" * 32])
def test_recipient_key_refuses_wrong_sizes(data: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"^private key: want 32 raw bytes"):
        RecipientKey.from_private_bytes(data)


def test_recipient_key_refuses_other_key_types() -> None:
    with pytest.raises(InvalidArgument, match=r"^private: "):
        RecipientKey("not a key")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- seal and open


def test_round_trip() -> None:
    key = RecipientKey.generate()
    rec = record()
    sealed = seal(rec, key.public_bytes, grant_id=GRANT_ID)
    assert open_sealed(sealed, key, grant_id=GRANT_ID) == rec


def test_ciphertext_does_not_show_the_record() -> None:
    key = RecipientKey.generate()
    sealed = seal(record(), key.public_bytes, grant_id=GRANT_ID)
    for secret in (b"555-0101", b"Ram", b"RMS-2026-0107", b"Elm"):
        assert secret not in sealed


def test_ciphertext_differs_each_time() -> None:
    key = RecipientKey.generate()
    sealed = {seal(record(), key.public_bytes, grant_id=GRANT_ID) for _ in range(10)}
    assert len(sealed) == 10


def test_hpke_info_binds_the_grant_id() -> None:
    # Known construction: base-mode HPKE, X25519/HKDF-SHA256/AES-128-GCM, info = prefix + grant id.
    key = RecipientKey.generate()
    sealed = seal({"a": 1, "b": "é"}, key.public_bytes, grant_id=GRANT_ID)
    suite = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
    plaintext = suite.decrypt(sealed, key.private, info=b"accord/v1 release\x00" + GRANT_ID.encode())
    # The canonical JSON, padded with spaces to its size class (1 KiB here).
    assert plaintext == '{"a":1,"b":"é"}'.encode().ljust(1024, b" ")


def test_a_sealed_record_tells_only_its_size_class() -> None:
    key = RecipientKey.generate()
    sizes = {len(seal({"name": name}, key.public_bytes, grant_id=GRANT_ID))
             for name in ("Ann Lee", "Jazmin Ramirez-Oquendo", "x" * 900)}
    assert sizes == {1024 + SEAL_OVERHEAD}
    assert padded_size(1025) == 2048 and padded_size(MAX_RECORD_BYTES) == MAX_RECORD_BYTES
    big = seal({"n": "x" * 1500}, key.public_bytes, grant_id=GRANT_ID)
    assert len(big) == 2048 + SEAL_OVERHEAD
    assert open_sealed(big, key, grant_id=GRANT_ID) == {"n": "x" * 1500}


def test_another_key_cannot_open() -> None:
    sealed = seal(record(), RecipientKey.generate().public_bytes, grant_id=GRANT_ID)
    with pytest.raises(CryptoError) as info:
        open_sealed(sealed, RecipientKey.generate(), grant_id=GRANT_ID)
    assert str(info.value) == "cryptographic verification failed"


def test_wrong_grant_id_cannot_open() -> None:
    key = RecipientKey.generate()
    sealed = seal(record(), key.public_bytes, grant_id=GRANT_ID)
    with pytest.raises(CryptoError):
        open_sealed(sealed, key, grant_id=OTHER_GRANT_ID)


@pytest.mark.parametrize("grant_id", ["", "short", "x" * 65, "AAECAwQFBgcICQoLDA0OD/"])
def test_malformed_grant_id_on_open_is_just_a_crypto_error(grant_id: str) -> None:
    key = RecipientKey.generate()
    sealed = seal(record(), key.public_bytes, grant_id=GRANT_ID)
    with pytest.raises(CryptoError):
        open_sealed(sealed, key, grant_id=grant_id)


def test_flipped_bit_anywhere_fails() -> None:
    key = RecipientKey.generate()
    sealed = seal({"summary": "short"}, key.public_bytes, grant_id=GRANT_ID)
    for i in range(len(sealed)):
        for bit in (0, 7):
            tampered = bytearray(sealed)
            tampered[i] ^= 1 << bit
            with pytest.raises(CryptoError):
                open_sealed(bytes(tampered), key, grant_id=GRANT_ID)


@pytest.mark.parametrize("cut", [lambda b: b"", lambda b: b[:31], lambda b: b[:-1], lambda b: b + b"\x00",
                                 lambda b: b[32:], lambda b: b * 2])
def test_truncated_or_extended_ciphertext_fails(cut: Any) -> None:
    key = RecipientKey.generate()
    sealed = seal(record(), key.public_bytes, grant_id=GRANT_ID)
    with pytest.raises(CryptoError):
        open_sealed(cut(sealed), key, grant_id=GRANT_ID)


def test_non_bytes_and_oversize_ciphertexts_fail() -> None:
    key = RecipientKey.generate()
    with pytest.raises(CryptoError):
        open_sealed("ciphertext", key, grant_id=GRANT_ID)  # type: ignore[arg-type]
    with pytest.raises(CryptoError):
        open_sealed(bytes(MAX_RECORD_BYTES + 49), key, grant_id=GRANT_ID)


@pytest.mark.parametrize("plaintext", [b"[1, 2]", b"not json", b"\xff\xfe", b'{"a": NaN}', b'{"a":1,"a":2}'])
def test_authentic_but_malformed_plaintext_is_a_crypto_error(plaintext: bytes) -> None:
    key = RecipientKey.generate()
    suite = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
    info_bytes = b"accord/v1 release\x00" + GRANT_ID.encode()
    sealed = suite.encrypt(plaintext, key.private.public_key(), info=info_bytes)
    with pytest.raises(CryptoError) as info:
        open_sealed(sealed, key, grant_id=GRANT_ID)
    # No cause rides along: a JSON error would carry the plaintext into logs.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


@pytest.mark.parametrize(
    ("public", "message"),
    [
        (b"", r"^recipient_public: want 32 raw bytes"),
        (bytes(33), r"^recipient_public: want 32 raw bytes"),
        ("00" * 32, r"^recipient_public: want 32 raw bytes"),
        (bytes(32), r"^recipient_public: not a usable X25519 public key"),  # a low-order point
    ],
)
def test_seal_refuses_bad_public_keys(public: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        seal(record(), public, grant_id=GRANT_ID)


def test_seal_refuses_bad_records_and_grant_ids() -> None:
    public = RecipientKey.generate().public_bytes
    with pytest.raises(InvalidArgument, match=r"^record: not JSON-serialisable"):
        seal({"when": dt.date(2026, 1, 1)}, public, grant_id=GRANT_ID)
    with pytest.raises(InvalidArgument, match=r"^record: not JSON-serialisable"):
        seal({"x": float("nan")}, public, grant_id=GRANT_ID)
    with pytest.raises(InvalidArgument, match=r"^record: got list"):
        seal([1], public, grant_id=GRANT_ID)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match=r"^record: \d+ bytes as JSON, at most"):
        seal({"summary": "x" * MAX_RECORD_BYTES}, public, grant_id=GRANT_ID)
    with pytest.raises(InvalidArgument, match=r"^grant_id: "):
        seal(record(), public, grant_id="")


def test_seal_works_with_a_plain_cryptography_key() -> None:
    private = X25519PrivateKey.generate()
    sealed = seal({"a": [1, 2]}, private.public_key().public_bytes_raw(), grant_id=GRANT_ID)
    assert open_sealed(sealed, RecipientKey(private), grant_id=GRANT_ID) == {"a": [1, 2]}


# --------------------------------------------------------------------------- withholding

VICTIM, WITNESS, SUSPECT = 0, 1, 2

Rules = list[tuple[list[str], list[str]]]
Changes = list[tuple[tuple[Any, ...], Any]]

#: (name, rules, expected paths, expected changes as (path in the record, new value)).
WITHHOLD_CASES: list[tuple[str, Rules, list[str], Changes]] = [
    ("nothing", [], [], []),
    (
        "victim's phones",
        [(["phones"], ["victim"])],
        ["people[0].phones"],
        [(("people", VICTIM, "phones"), [])],
    ),
    (
        "victim contacts, the agreement's usual rule",
        [(["phones", "addresses", "emails"], ["victim"])],
        ["people[0].addresses", "people[0].emails", "people[0].phones"],
        [
            (("people", VICTIM, "phones"), []),
            (("people", VICTIM, "addresses"), []),
            (("people", VICTIM, "emails"), []),
        ],
    ),
    (
        "summary blanked whatever the roles",
        [(["summary"], ["victim"])],
        ["summary"],
        [(("summary",), "")],
    ),
    (
        "record fields",
        [(["summary", "extra"], [])],
        ["extra", "summary"],
        [(("summary",), ""), (("extra",), {})],
    ),
    (
        "empty roles mean every role",
        [(["phones"], [])],
        ["people[0].phones", "people[1].phones", "people[2].phones"],
        [
            (("people", VICTIM, "phones"), []),
            (("people", WITNESS, "phones"), []),
            (("people", SUSPECT, "phones"), []),
        ],
    ),
    (
        "name takes given and family with it",
        [(["name"], ["victim", "suspect"])],
        ["people[0].name", "people[2].name"],
        [
            (("people", VICTIM, "name"), ""),
            (("people", VICTIM, "given"), ""),
            (("people", VICTIM, "family"), ""),
            (("people", SUSPECT, "given"), ""),
            (("people", SUSPECT, "family"), ""),
        ],
    ),
    (
        "list fields of the victim",
        [(["aliases", "nicknames", "dobs"], ["victim"])],
        ["people[0].aliases", "people[0].dobs", "people[0].nicknames"],
        [(("people", VICTIM, "aliases"), []), (("people", VICTIM, "dobs"), [])],
    ),
    (
        "a role nobody has",
        [(["phones"], ["reporting_party"])],
        [],
        [],
    ),
    (
        "hub and node rules overlap",
        [(["phones"], ["victim"]), (["phones", "summary"], ["victim", "witness"])],
        ["people[0].phones", "people[1].phones", "summary"],
        [(("people", VICTIM, "phones"), []), (("people", WITNESS, "phones"), []), (("summary",), "")],
    ),
]


def apply(doc: dict[str, Any], changes: Changes) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for path, value in changes:
        target: Any = out
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return out


@pytest.mark.parametrize(("rules", "paths", "changes"), [c[1:] for c in WITHHOLD_CASES],
                         ids=[c[0] for c in WITHHOLD_CASES])
def test_withhold_known_answers(rules: Rules, paths: list[str], changes: Changes) -> None:
    original = record()
    out, withheld = withhold(original, rules)
    assert withheld == paths
    assert out == apply(original, changes)


def test_witness_is_untouched_when_the_victim_is_withheld() -> None:
    out, _ = withhold(record(), [(["phones", "addresses", "name"], ["victim"])])
    assert out["people"][WITNESS] == record()["people"][WITNESS]
    assert out["people"][VICTIM]["phones"] == []
    assert out["people"][VICTIM]["labels"] == ["victim"]  # labels are not withholdable


def test_withheld_paths_name_empty_fields_too() -> None:
    # The witness has no emails; the path is listed anyway, so the list says
    # what the rules covered and reveals nothing about what the record held.
    out, withheld = withhold(record(), [(["emails"], ["witness"])])
    assert withheld == ["people[1].emails"]
    assert out == record()


def test_withhold_does_not_mutate_its_input() -> None:
    original = record()
    snapshot = copy.deepcopy(original)
    out, _ = withhold(original, [(["phones", "name"], []), (["summary", "extra"], [])])
    assert original == snapshot
    # Nor does the output share anything mutable with the input.
    out["people"][WITNESS]["addresses"].append("elsewhere")
    out["vehicles"][0]["plate"] = "ZZZ999"
    assert original == snapshot


def test_withhold_accepts_a_grants_rules() -> None:
    grant_rules = ((("addresses", "emails", "phones"), ("victim",)), (("summary",), ()))
    out, withheld = withhold(record(), grant_rules)
    assert withheld == ["people[0].addresses", "people[0].emails", "people[0].phones", "summary"]
    assert out["summary"] == ""


def test_withhold_accepts_a_record_without_people() -> None:
    out, withheld = withhold({"summary": "s", "vehicles": []}, [(["phones"], []), (["summary"], [])])
    assert out == {"summary": "", "vehicles": []}
    assert withheld == ["summary"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([(["phone"], ["victim"])], r"^withhold\[0\]\.fields\[0\]: got 'phone', want one of \[name, "),
        ([(["labels"], [])], r"^withhold\[0\]\.fields\[0\]: got 'labels'"),
        ([(["phones"], ["Victim"])], r"^withhold\[0\]\.roles\[0\]: got 'Victim', want one of \[suspect, "),
        ([("phones", ["victim"])], r"^withhold\[0\]\.fields: got str, want a list of names"),
        ([(["phones"], "victim")], r"^withhold\[0\]\.roles: got str, want a list of names"),
        ([([], ["victim"])], r"^withhold\[0\]\.fields: must not be empty"),
        ([(["phones"],)], r"^withhold\[0\]: want a \[fields, roles\] pair"),
        ("phones", r"^withhold: got str, want a list of \[fields, roles\] pairs"),
        (None, r"^withhold: got NoneType"),
    ],
)
def test_malformed_rules_fail_closed(rules: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        withhold(record(), rules)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"people": {"role": "victim"}}, r"^record\.people: got dict, want a list"),
        ({"people": ["victim"]}, r"^record\.people\[0\]: got str, want an object"),
        ({"people": [{"name": "x"}]}, r"^record\.people\[0\]\.role: got NoneType, want a string"),
    ],
)
def test_malformed_records_are_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        withhold(doc, [(["phones"], [])])


def test_withhold_then_seal_then_open() -> None:
    key = RecipientKey.generate()
    released, withheld = withhold(record(), [(["phones"], ["victim"])])
    sealed = seal(released, key.public_bytes, grant_id=GRANT_ID)
    opened = open_sealed(sealed, key, grant_id=GRANT_ID)
    assert opened == released
    assert opened["people"][VICTIM]["phones"] == [] and withheld == ["people[0].phones"]
    assert Record.from_dict(opened).people[VICTIM].phones == ()  # still a valid record
