"""Signed checkpoints: C2SP known answers, round trips, strict parsing, opaque verification
failures, and a node's Verifier refusing forks and rollbacks."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.checkpoint import (
    Checkpoint,
    Ed25519Signer,
    SignedCheckpoint,
    Signer,
    Verifier,
    key_hash,
    sign_checkpoint,
    verify_checkpoint,
)
from accord.errors import ConfigError, CryptoError, InvalidArgument
from accord.merkle import EMPTY_ROOT, MemoryTree, consistency_proof

VECTORS = json.loads((Path(__file__).parent / "vectors" / "checkpoint.json").read_text())

ORIGIN = "accord.example/audit"
NAME = "accord-hub"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
SIGNER = Ed25519Signer(KEY, NAME)


def public_from_vkey(vkey: str) -> Ed25519PublicKey:
    raw = base64.b64decode(vkey)
    assert raw[0] == 1  # the signed-note type byte for Ed25519
    return Ed25519PublicKey.from_public_bytes(raw[1:])


def log_of(size: int, prefix: bytes = b"entry") -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(prefix + b" %d" % (i + 1))
    return tree


def signed_at(tree: MemoryTree, size: int, signer: Signer = SIGNER, origin: str = ORIGIN) -> SignedCheckpoint:
    return sign_checkpoint(Checkpoint(origin=origin, size=size, root=tree.root(size)), signer)


def refused(check: Callable[[], object]) -> bool:
    """True if ``check`` raises CryptoError with the opaque message, and nothing more."""
    try:
        check()
    except CryptoError as exc:
        return str(exc) == "cryptographic verification failed"
    return False


# --- known answers from the Go implementations ------------------------------------------------------------


def test_signed_note_known_answer() -> None:
    v = VECTORS["signed_note"]
    seed = base64.b64decode(v["signer_key"])
    assert seed[0] == 1
    signer = Ed25519Signer(Ed25519PrivateKey.from_private_bytes(seed[1:]), v["key_name"])
    public = public_from_vkey(v["verifier_key"])
    assert signer.public_key().public_bytes_raw() == public.public_bytes_raw()
    assert key_hash(v["key_name"], public).hex() == v["key_id"]
    # Ed25519 is deterministic, so our signature line must be the published one byte for byte.
    blob = base64.b64encode(key_hash(signer.name, signer.public_key()) + signer.sign(v["text"].encode()))
    assert f"— {signer.name} {blob.decode()}\n" == v["signature_line"]


def test_real_checkpoint_known_answer() -> None:
    v = VECTORS["checkpoint"]
    public = public_from_vkey(v["verifier_key"])
    signed = SignedCheckpoint.from_text(v["text"])
    want = Checkpoint(origin=v["origin"], size=v["size"], root=base64.b64decode(v["root"]))
    assert signed.checkpoint == want
    assert signed.key_name == v["key_name"]
    assert signed.key_hash.hex() == v["key_id"] == key_hash(v["key_name"], public).hex()
    assert verify_checkpoint(signed, public, v["key_name"], v["origin"]) == signed.checkpoint
    assert signed.to_text() == v["text"]


@pytest.mark.parametrize("vector", VECTORS["key_ids"], ids=lambda v: v["key_name"])
def test_key_id_known_answers(vector: dict[str, str]) -> None:
    assert key_hash(vector["key_name"], public_from_vkey(vector["verifier_key"])).hex() == vector["key_id"]


# --- round trips and verification ---------------------------------------------------------------------------


def test_round_trip_and_verify() -> None:
    tree = log_of(5)
    signed = signed_at(tree, 5)
    text = signed.to_text()
    root_b64 = base64.b64encode(tree.root()).decode()
    assert text.startswith(f"{ORIGIN}\n5\n{root_b64}\n\n— {NAME} ")
    assert signed.checkpoint.body() == f"{ORIGIN}\n5\n{root_b64}\n".encode()
    parsed = SignedCheckpoint.from_text(text)
    assert parsed == signed
    assert parsed.to_text() == text
    assert verify_checkpoint(parsed, KEY.public_key(), NAME, ORIGIN) == signed.checkpoint
    # The signed message is exactly the body.
    KEY.public_key().verify(signed.signature, signed.checkpoint.body())


def test_empty_tree_checkpoint() -> None:
    signed = sign_checkpoint(Checkpoint(origin=ORIGIN, size=0, root=EMPTY_ROOT), SIGNER)
    assert "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" in signed.to_text()
    assert verify_checkpoint(SignedCheckpoint.from_text(signed.to_text()), KEY.public_key(), NAME, ORIGIN)


def flipped(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def test_tampering_is_refused() -> None:
    signed = signed_at(log_of(9), 9)
    cp, sig, kid = signed.checkpoint, signed.signature, signed.key_hash
    public = KEY.public_key()
    probes: list[tuple[str, Callable[[], object]]] = []

    def probe(desc: str, candidate: SignedCheckpoint, key: Ed25519PublicKey = public, **claims: str) -> None:
        name, origin = claims.get("name", NAME), claims.get("origin", ORIGIN)
        probes.append((desc, partial(verify_checkpoint, candidate, key, name, origin)))

    for bit in range(64 * 8):
        probe(f"signature bit {bit}", SignedCheckpoint(cp, NAME, flipped(sig, bit), kid))
    for bit in range(4 * 8):
        probe(f"key ID bit {bit}", SignedCheckpoint(cp, NAME, sig, flipped(kid, bit)))
    for bit in range(32 * 8):
        body = Checkpoint(ORIGIN, 9, flipped(cp.root, bit))
        probe(f"root bit {bit}", SignedCheckpoint(body, NAME, sig, kid))
    for size in (8, 10, 0, 9 ^ 1 << 40):
        probe(f"size {size}", SignedCheckpoint(Checkpoint(ORIGIN, size, cp.root), NAME, sig, kid))
    other_origin = Checkpoint(ORIGIN + "x", 9, cp.root)
    probe("claimed other origin", SignedCheckpoint(other_origin, NAME, sig, kid), origin=ORIGIN + "x")
    probe("wrong origin", signed, origin="accord.example/other")
    probe("wrong key", signed, OTHER_KEY.public_key())
    probe("wrong key name", signed, name="accord-hub2")
    probe("renamed signature line", SignedCheckpoint(cp, "accord-hub2", sig, kid), name="accord-hub2")
    probe("other key, same name, its own key ID", signed_at(log_of(9), 9, Ed25519Signer(OTHER_KEY, NAME)))
    accepted = [desc for desc, check in probes if not refused(check)]
    assert accepted == []


def test_any_flipped_bit_in_the_text_is_refused() -> None:
    text = signed_at(log_of(3), 3).to_text().encode()
    public = KEY.public_key()
    for bit in range(len(text) * 8):
        try:
            changed = flipped(text, bit).decode("utf-8")
        except UnicodeDecodeError:
            continue  # not text any more: nothing to parse
        try:
            signed = SignedCheckpoint.from_text(changed)
        except InvalidArgument:
            continue
        assert refused(partial(verify_checkpoint, signed, public, NAME, ORIGIN)), bit


# --- strict parsing ---------------------------------------------------------------------------------------

GOOD = signed_at(log_of(5), 5).to_text()
ROOT_LINE = GOOD.split("\n")[2]
SIG_LINE = GOOD.split("\n")[4]
SIG_BLOB = SIG_LINE.split(" ")[2]


def _with_root(root_line: str) -> str:
    return GOOD.replace(f"\n{ROOT_LINE}\n", f"\n{root_line}\n")


def _with_signature_line(line: str) -> str:
    return GOOD.replace(SIG_LINE, line)


def _with_size(size_line: str) -> str:
    return GOOD.replace(f"{ORIGIN}\n5\n", f"{ORIGIN}\n{size_line}\n")


def _noncanonical(b64: str) -> str:
    # A 32-byte value's last base64 digit carries 4 bits that must be zero.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = b64[-2]
    return b64[:-2] + alphabet[alphabet.index(last) | 1] + "="


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"bytes", r"checkpoint text: got bytes, want str"),
        ("a" * 9000, r"checkpoint text: got 9000 characters, want at most 8192"),
        (GOOD.replace("\n", "\r\n"), r"checkpoint text: control character U\+000D at offset 20"),
        (GOOD.replace(ORIGIN, ORIGIN + "\t"), r"checkpoint text: control character U\+0009"),
        (GOOD.replace(ORIGIN, ORIGIN + "\ud800"), r"checkpoint text: not valid UTF-8 \(lone surrogate"),
        (GOOD[:-1], r"checkpoint text: does not end with a newline"),
        (GOOD + "\n", r"checkpoint text: ends with a blank line"),
        (GOOD.replace("\n\n", "\n"), r"checkpoint text: no blank line between the note text and the"),
        ("", r"checkpoint text: does not end with a newline"),
        (_with_root(ROOT_LINE + "\nextension"), r"the note text has 4 lines, want 3 .*extension lines"),
        (GOOD.replace(f"{ORIGIN}\n", ""), r"the note text has 2 lines, want 3"),
        (GOOD.replace(ORIGIN, ""), r"checkpoint origin: empty"),
        (_with_size("05"), r"checkpoint tree size: got '05', want a decimal number without leading zeros"),
        (_with_size("-5"), r"checkpoint tree size: got '-5', want a decimal"),
        (_with_size("+5"), r"checkpoint tree size: got '\+5', want a decimal"),
        (_with_size(" 5"), r"checkpoint tree size: got ' 5', want a decimal"),
        (_with_size("\u0665"), r"checkpoint tree size: got '\u0665', want a decimal"),  # ARABIC-INDIC FIVE
        (_with_size(""), r"checkpoint tree size: got '', want a decimal"),
        (_with_size("18446744073709551616"), r"tree size: got '18446744073709551616', want at most"),
        (_with_size("9" * 100), r"checkpoint tree size: got '9999999999.*\.\.\., want at most"),
        (_with_root("not base64!"), r"checkpoint root hash: not base64"),
        (_with_root(ROOT_LINE.rstrip("=")), r"checkpoint root hash: not base64"),
        (_with_root("é" + ROOT_LINE[1:]), r"checkpoint root hash: not base64"),
        (_with_root(_noncanonical(ROOT_LINE)), r"checkpoint root hash: not canonical base64"),
        (_with_root(base64.b64encode(bytes(31)).decode()), r"checkpoint root: got 31 bytes, want 32 bytes"),
        (GOOD + SIG_LINE + "\n", r"checkpoint signatures: got 2 lines, want exactly 1"),
        (_with_signature_line("- " + SIG_LINE[2:]), r"signature line: does not start with an em dash and"),
        (_with_signature_line("—" + SIG_LINE[1:].lstrip()), r"does not start with an em dash and a space"),
        (_with_signature_line(f"— {NAME} extra {SIG_BLOB}"), r"got 3 space-separated fields .*want 2"),
        (_with_signature_line(f"— {NAME}  {SIG_BLOB}"), r"got 3 space-separated fields"),
        (_with_signature_line(f"— {NAME}"), r"got 1 space-separated fields"),
        (_with_signature_line(f"—  {SIG_BLOB}"), r"signature key name: empty"),
        (_with_signature_line(f"— a+b {SIG_BLOB}"), r"key name: got 'a\+b', want no spaces and no '\+'"),
        (_with_signature_line(f"— a\u00a0b {SIG_BLOB}"), r"signature key name: .*want no spaces"),
        (_with_signature_line(f"— {NAME} ###"), r"checkpoint signature: not base64"),
        (_with_signature_line(f"— {NAME} {_noncanonical(SIG_BLOB)}"), r"checkpoint signature: not canonical"),
        (
            _with_signature_line(f"— {NAME} {base64.b64encode(bytes(64)).decode()}"),
            r"checkpoint signature: got 64 bytes, want 68 \(4-byte key ID and 64-byte Ed25519 signature\)",
        ),
    ],
)
def test_malformed_text_is_refused_precisely(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        SignedCheckpoint.from_text(text)


EMPTY = Checkpoint(ORIGIN, 0, EMPTY_ROOT)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Checkpoint("", 1, EMPTY_ROOT), r"checkpoint origin: empty"),
        (lambda: Checkpoint("a\nb", 1, EMPTY_ROOT), r"checkpoint origin: control character U\+000A"),
        (lambda: Checkpoint(ORIGIN, -1, EMPTY_ROOT), r"checkpoint size: got -1, want 0 to"),
        (lambda: Checkpoint(ORIGIN, 2**64, EMPTY_ROOT), r"checkpoint size: got 18446744073709551616"),
        (lambda: Checkpoint(ORIGIN, True, EMPTY_ROOT), r"checkpoint size: got bool, want an int"),
        (lambda: Checkpoint(ORIGIN, 1, EMPTY_ROOT[:31]), r"checkpoint root: got 31 bytes, want 32 bytes"),
        (lambda: Checkpoint(ORIGIN, 1, EMPTY_ROOT.hex()), r"checkpoint root: got str, want 32 bytes"),  # type: ignore[arg-type]
        (lambda: SignedCheckpoint(EMPTY, "a b", bytes(64), bytes(4)), r"no spaces"),
        (lambda: SignedCheckpoint(EMPTY, NAME, bytes(63), bytes(4)), r"signature: got 63 bytes, want 64"),
        (lambda: SignedCheckpoint(EMPTY, NAME, bytes(64), bytes(5)), r"key ID: got 5 bytes, want 4"),
        (lambda: Ed25519Signer(KEY, "accord hub"), r"signer name: got 'accord hub', want no spaces"),
        (lambda: Ed25519Signer(KEY, ""), r"signer name: empty"),
        (lambda: Verifier(KEY.public_key(), "a+b", ORIGIN), r"verifier key name: got 'a\+b'"),
        (lambda: Verifier(KEY.public_key(), NAME, ""), r"verifier origin: empty"),
        (
            lambda: Verifier(KEY.public_key(), NAME, ORIGIN, last=Checkpoint("elsewhere", 0, EMPTY_ROOT)),
            r"verifier last: origin 'elsewhere' is not 'accord.example/audit'",
        ),
    ],
)
def test_bad_values_are_refused_precisely(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()


# --- signers ----------------------------------------------------------------------------------------------


class RemoteSigner:
    """A Signer that is not Ed25519Signer, as an HSM client would be."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.name = "hsm.example/log"
        self._key = key
        self.calls: list[bytes] = []

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        self.calls.append(message)
        return self._key.sign(message)


def test_any_signer_will_do() -> None:
    signer = RemoteSigner(OTHER_KEY)
    cp = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    signed = sign_checkpoint(cp, signer)
    assert signer.calls == [cp.body()]
    assert verify_checkpoint(signed, OTHER_KEY.public_key(), "hsm.example/log", ORIGIN) == cp


def test_load_pem(tmp_path: Path) -> None:
    path = tmp_path / "hub.pem"
    path.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    signer = Ed25519Signer.load_pem(path, NAME)
    assert signer.name == NAME
    assert signer.public_key().public_bytes_raw() == KEY.public_key().public_bytes_raw()
    assert verify_checkpoint(signed_at(log_of(2), 2, signer), KEY.public_key(), NAME, ORIGIN)
    assert Ed25519Signer.load_pem(str(path), NAME).name == NAME


def test_load_pem_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing.pem: cannot read checkpoint signing key"):
        Ed25519Signer.load_pem(tmp_path / "missing.pem", NAME)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ConfigError, match=r"garbage.pem: not an unencrypted PEM private key"):
        Ed25519Signer.load_pem(garbage, NAME)
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ConfigError, match=r"encrypted.pem: not an unencrypted PEM private key"):
        Ed25519Signer.load_pem(encrypted, NAME)
    p256 = tmp_path / "p256.pem"
    p256.write_bytes(
        ec.derive_private_key(7, ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ConfigError, match=r"p256.pem: got a .*, want an Ed25519 private key"):
        Ed25519Signer.load_pem(p256, NAME)


# --- the node's Verifier ------------------------------------------------------------------------------------


def test_verifier_accepts_a_growing_log() -> None:
    tree = log_of(300)
    verifier = Verifier(KEY.public_key(), NAME, ORIGIN)
    assert verifier.last is None
    # The first checkpoint is trusted on its signature alone.
    first = verifier.accept(signed_at(tree, 0), [])
    assert first.size == 0 and first.root == EMPTY_ROOT
    previous = 0
    for size in (1, 2, 5, 5, 8, 17, 64, 65, 200, 300, 300):
        proof = consistency_proof(previous, size, tree)
        cp = verifier.accept(signed_at(tree, size), proof)
        assert cp == verifier.last == Checkpoint(ORIGIN, size, tree.root(size))
        previous = size


def test_verifier_starting_from_a_saved_checkpoint() -> None:
    tree = log_of(40)
    verifier = Verifier(KEY.public_key(), NAME, ORIGIN, last=Checkpoint(ORIGIN, 10, tree.root(10)))
    assert verifier.accept(signed_at(tree, 40), consistency_proof(10, 40, tree)).size == 40


def test_verifier_refuses_forks_and_rollbacks() -> None:
    honest = log_of(100)
    fork = log_of(49)  # shares the first 49 entries, then diverges
    fork.append(b"forged")
    for i in range(50, 100):
        fork.append(b"entry %d" % (i + 1))
    assert honest.root(49) == fork.root(49) and honest.root(50) != fork.root(50)

    verifier = Verifier(KEY.public_key(), NAME, ORIGIN)
    verifier.accept(signed_at(honest, 60), [])
    last = verifier.last
    other = Ed25519Signer(OTHER_KEY, NAME)

    def attempt(tree: MemoryTree, size: int, proof: list[bytes], **how: object) -> Callable[[], object]:
        return partial(verifier.accept, signed_at(tree, size, **how), proof)  # type: ignore[arg-type]

    attempts = {
        "same size, forked root": attempt(fork, 60, []),
        "smaller size": attempt(honest, 59, []),
        "smaller size with a proof": attempt(honest, 59, consistency_proof(59, 60, honest)),
        "empty tree": attempt(honest, 0, []),
        "larger forked tree, its own proof": attempt(fork, 80, consistency_proof(60, 80, fork)),
        "larger forked tree, honest proof": attempt(fork, 80, consistency_proof(60, 80, honest)),
        "larger honest tree, no proof": attempt(honest, 80, []),
        "larger honest tree, wrong proof": attempt(honest, 80, consistency_proof(59, 80, honest)),
        "larger honest tree, other key": attempt(honest, 80, consistency_proof(60, 80, honest), signer=other),
        "larger honest tree, other origin": attempt(
            honest, 80, consistency_proof(60, 80, honest), origin=ORIGIN + "2"
        ),
    }
    for desc, call in attempts.items():
        assert refused(call), desc
        assert verifier.last is last, desc  # unchanged by a refusal
    # The honest log still moves on.
    assert verifier.accept(signed_at(honest, 100), consistency_proof(60, 100, honest)).size == 100
