"""Signed checkpoints (tree heads) of the audit log, as C2SP signed notes.

A checkpoint (c2sp.org/tlog-checkpoint) commits to the log at one size: its
origin, the tree size and the RFC 6962 root hash (:mod:`accord.merkle`). The
hub signs it with Ed25519 as a signed note (c2sp.org/signed-note)::

    <origin>
    <tree size, decimal>
    <root hash, base64>

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>

The signed message is the note text: the first three lines, each ending in a
newline. The key ID is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``
(0x01 is the signed-note type byte for Ed25519).

A node keeps a :class:`Verifier`: the hub's public key, key name and origin,
and the last checkpoint it accepted. A new checkpoint is accepted only with a
valid signature and a consistency proof from the last one, so a hub that
rewrites history, or shows different nodes different logs, is caught.

Parsing is strict and its errors (:class:`~accord.errors.InvalidArgument`)
name what is wrong; verification failures are one opaque
:class:`~accord.errors.CryptoError`. Signing sits behind the :class:`Signer`
protocol so the key can move to an HSM. No clock is read here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.errors import ConfigError, CryptoError, InvalidArgument
from accord.merkle import HASH_SIZE, MAX_SIZE, verify_consistency

#: The signed-note signature type byte for Ed25519.
ED25519_TYPE = b"\x01"
#: Length of the key ID that starts every signature.
KEY_HASH_SIZE = 4
#: Length of an Ed25519 signature.
SIGNATURE_SIZE = 64
#: The longest checkpoint text :meth:`SignedCheckpoint.from_text` reads.
MAX_TEXT_CHARS = 8192

_SIGNATURE_PREFIX = "\N{EM DASH} "
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class Signer(Protocol):
    """Signs checkpoint bodies with an Ed25519 key that need not be in this process."""

    #: The key name in signature lines, e.g. ``"accord-hub"``.
    name: str

    def public_key(self) -> Ed25519PublicKey:
        """The public half of the signing key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        ...


class Ed25519Signer:
    """A :class:`Signer` backed by an Ed25519 private key in memory."""

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        _check_key_name("signer name", name)
        self.name = name
        self._key = private_key
        self._public = private_key.public_key()  # derived once: every checkpoint names it

    @classmethod
    def load_pem(cls, path: str | Path, name: str) -> Ed25519Signer:
        """Load an unencrypted PKCS#8 PEM Ed25519 private key; :class:`ConfigError` if that fails."""
        path = Path(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read checkpoint signing key: {exc.strerror or exc}") from exc
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ConfigError(f"{path}: not an unencrypted PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{path}: got a {type(key).__name__}, want an Ed25519 private key")
        return cls(key, name)

    def public_key(self) -> Ed25519PublicKey:
        """The public half of the signing key."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)


def key_hash(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """The signed-note key ID: ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``."""
    _check_key_name("key name", key_name)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(key_name.encode("utf-8") + b"\n" + ED25519_TYPE + raw).digest()[:KEY_HASH_SIZE]


@dataclass(frozen=True)
class Checkpoint:
    """The log at one size: origin, tree size and RFC 6962 root hash. Always well formed."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        _check_line("checkpoint origin", self.origin)
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise InvalidArgument(f"checkpoint size: got {type(self.size).__name__}, want an int")
        if not 0 <= self.size <= MAX_SIZE:
            raise InvalidArgument(f"checkpoint size: got {self.size}, want 0 to {MAX_SIZE}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise InvalidArgument(f"checkpoint root: got {_describe(self.root)}, want {HASH_SIZE} bytes")

    def body(self) -> bytes:
        """The note text that is signed: origin, size and root lines, each ending in a newline."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n".encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with one signature line. Well formed, but not verified: see :func:`verify_checkpoint`."""

    checkpoint: Checkpoint
    key_name: str
    signature: bytes
    key_hash: bytes

    def __post_init__(self) -> None:
        _check_key_name("signature key name", self.key_name)
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_SIZE:
            raise InvalidArgument(
                f"signature: got {_describe(self.signature)}, want {SIGNATURE_SIZE} bytes (Ed25519)"
            )
        if not isinstance(self.key_hash, bytes) or len(self.key_hash) != KEY_HASH_SIZE:
            raise InvalidArgument(
                f"signature key ID: got {_describe(self.key_hash)}, want {KEY_HASH_SIZE} bytes"
            )

    def to_text(self) -> str:
        """The signed note: the body, a blank line, and the signature line."""
        blob = base64.b64encode(self.key_hash + self.signature).decode("ascii")
        return f"{self.checkpoint.body().decode()}\n{_SIGNATURE_PREFIX}{self.key_name} {blob}\n"

    @classmethod
    def from_text(cls, text: str) -> SignedCheckpoint:
        """Parse a signed checkpoint; :class:`InvalidArgument` naming the problem if it is malformed.

        Strict: exactly three body lines (no extension lines), a blank line,
        exactly one signature line, canonical base64, a decimal size without
        leading zeros, a 32-byte root, no control characters but newline.
        """
        if not isinstance(text, str):
            raise InvalidArgument(f"checkpoint text: got {type(text).__name__}, want str")
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidArgument(
                f"checkpoint text: got {len(text)} characters, want at most {MAX_TEXT_CHARS}"
            )
        _check_characters("checkpoint text", text, newline_ok=True)
        if not text.endswith("\n"):
            raise InvalidArgument("checkpoint text: does not end with a newline")
        if text.endswith("\n\n"):
            raise InvalidArgument("checkpoint text: ends with a blank line, want the signature line last")
        # The note text ends at the last blank line (c2sp.org/signed-note).
        split = text.rfind("\n\n")
        if split < 0:
            raise InvalidArgument("checkpoint text: no blank line between the note text and the signature")
        body, signatures = text[:split], text[split + 2 : -1]

        lines = body.split("\n")
        if len(lines) != 3:
            raise InvalidArgument(
                f"checkpoint text: the note text has {len(lines)} lines, "
                "want 3 (origin, tree size, root hash; extension lines are not supported)"
            )
        origin, size_text, root_text = lines
        if not _DECIMAL.fullmatch(size_text):
            raise InvalidArgument(
                f"checkpoint tree size: got {_show(size_text)}, want a decimal number without leading zeros"
            )
        if len(size_text) > len(str(MAX_SIZE)) or int(size_text) > MAX_SIZE:
            raise InvalidArgument(f"checkpoint tree size: got {_show(size_text)}, want at most {MAX_SIZE}")
        root = _b64decode("checkpoint root hash", root_text)
        checkpoint = Checkpoint(origin=origin, size=int(size_text), root=root)

        signature_lines = signatures.split("\n")
        if len(signature_lines) != 1:
            raise InvalidArgument(f"checkpoint signatures: got {len(signature_lines)} lines, want exactly 1")
        line = signature_lines[0]
        if not line.startswith(_SIGNATURE_PREFIX):
            raise InvalidArgument("checkpoint signature line: does not start with an em dash and a space")
        parts = line[len(_SIGNATURE_PREFIX) :].split(" ")
        if len(parts) != 2:
            raise InvalidArgument(
                f"checkpoint signature line: got {len(parts)} space-separated fields after the dash, "
                "want 2 (key name, signature)"
            )
        name, blob_text = parts
        blob = _b64decode("checkpoint signature", blob_text)
        if len(blob) != KEY_HASH_SIZE + SIGNATURE_SIZE:
            raise InvalidArgument(
                f"checkpoint signature: got {len(blob)} bytes, "
                f"want {KEY_HASH_SIZE + SIGNATURE_SIZE} (4-byte key ID and 64-byte Ed25519 signature)"
            )
        key_id, signature = blob[:KEY_HASH_SIZE], blob[KEY_HASH_SIZE:]
        return cls(checkpoint=checkpoint, key_name=name, signature=signature, key_hash=key_id)


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> SignedCheckpoint:
    """Sign a checkpoint's body with ``signer``."""
    signature = signer.sign(cp.body())
    return SignedCheckpoint(
        checkpoint=cp,
        key_name=signer.name,
        signature=signature,
        key_hash=key_hash(signer.name, signer.public_key()),
    )


def verify_checkpoint(
    signed: SignedCheckpoint,
    public_key: Ed25519PublicKey | Sequence[Ed25519PublicKey],
    key_name: str,
    origin: str,
) -> Checkpoint:
    """Return the checkpoint if ``public_key`` under ``key_name`` signed it for ``origin``.

    Several keys may be given (during and after a rotation of the hub's key,
    old checkpoints stay verifiable): the note's key hash picks the one.
    Raises an opaque :class:`CryptoError` otherwise: a different key name, key
    ID or origin, or a signature that does not verify.
    """
    if signed.key_name != key_name or signed.checkpoint.origin != origin:
        raise CryptoError()
    keys = (public_key,) if isinstance(public_key, Ed25519PublicKey) else tuple(public_key)
    matching = [k for k in keys
                if hmac.compare_digest(signed.key_hash, key_hash(key_name, k))]
    if not matching:
        raise CryptoError()
    public_key = matching[0]
    try:
        public_key.verify(signed.signature, signed.checkpoint.body())
    except InvalidSignature as exc:
        raise CryptoError() from exc
    return signed.checkpoint


class Verifier:
    """What a node keeps about the hub's log: its key, and the last checkpoint it accepted.

    Needs nothing but the hub's public key. Not thread-safe: one per node,
    used from one task.
    """

    def __init__(
        self,
        public_key: Ed25519PublicKey,
        key_name: str,
        origin: str,
        last: Checkpoint | None = None,
    ) -> None:
        _check_key_name("verifier key name", key_name)
        _check_line("verifier origin", origin)
        if last is not None and last.origin != origin:
            raise InvalidArgument(f"verifier last: origin {_show(last.origin)} is not {_show(origin)}")
        self._public_key = public_key
        self._key_name = key_name
        self._origin = origin
        self._last = last

    @property
    def last(self) -> Checkpoint | None:
        """The last checkpoint accepted, or the one given at start, or None."""
        return self._last

    def accept(self, signed: SignedCheckpoint, consistency: Sequence[bytes]) -> Checkpoint:
        """Verify ``signed`` and that it extends :attr:`last`; make it the new :attr:`last`.

        ``consistency`` is the proof from ``last.size`` to the new size
        (:func:`accord.merkle.consistency_proof`). It is not looked at when
        there is no last checkpoint yet (the first one is trusted on its
        signature alone) or when the sizes are equal (then the roots must be
        equal). A smaller size than ``last`` is refused: the log only grows.
        Raises an opaque :class:`CryptoError` on any failure, and then
        :attr:`last` is unchanged.
        """
        cp = verify_checkpoint(signed, self._public_key, self._key_name, self._origin)
        last = self._last
        if last is not None:
            if cp.size < last.size:
                raise CryptoError()
            if cp.size == last.size:
                if not hmac.compare_digest(cp.root, last.root):
                    raise CryptoError()
            else:
                verify_consistency(last.size, cp.size, last.root, cp.root, consistency)
        self._last = cp
        return cp


# --- internals --------------------------------------------------------------------------------------------


def _check_key_name(what: str, name: object) -> None:
    """Key names are non-empty and have no Unicode spaces and no plus (c2sp.org/signed-note)."""
    if not isinstance(name, str):
        raise InvalidArgument(f"{what}: got {type(name).__name__}, want str")
    if not name:
        raise InvalidArgument(f"{what}: empty")
    _check_characters(what, name, newline_ok=False)
    if any(ch.isspace() or ch == "+" for ch in name):
        raise InvalidArgument(f"{what}: got {_show(name)}, want no spaces and no '+'")


def _check_line(what: str, value: object) -> None:
    """A non-empty line of note text."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}: got {type(value).__name__}, want str")
    if not value:
        raise InvalidArgument(f"{what}: empty")
    _check_characters(what, value, newline_ok=False)


def _check_characters(what: str, text: str, *, newline_ok: bool) -> None:
    """Valid UTF-8 and no ASCII control characters but (where allowed) newline."""
    for offset, ch in enumerate(text):
        if ch < " " and not (newline_ok and ch == "\n"):
            raise InvalidArgument(f"{what}: control character U+{ord(ch):04X} at offset {offset}")
        if "\ud800" <= ch <= "\udfff":
            raise InvalidArgument(f"{what}: not valid UTF-8 (lone surrogate at offset {offset})")


def _b64decode(what: str, text: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4): padded, canonical, nothing else."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise InvalidArgument(f"{what}: not base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise InvalidArgument(f"{what}: not canonical base64")
    return raw


def _describe(value: object) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    return type(value).__name__


def _show(text: str, limit: int = 40) -> str:
    """A short repr of untrusted text, for error messages."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."
