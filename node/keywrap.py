"""The requesting node's per-release private keys, sealed at rest.

A node that asks for a release makes an X25519 key pair for that request
(:class:`accord.sealing.RecipientKey`) and keeps the private half until the
record arrives: it is what opens the record. The database keeps it sealed
with AES-256-GCM under a key of this node alone, held in a file beside the
node (``[node] request_key_file``, ``request_keys.key`` in the data
directory by default) and never in the database. A copy of the database (a
backup, a replica, a PostgreSQL server run by someone else) is then not
enough to open a release: that also needs the file, which is on the node.

Each sealed key is bound to its request: the request key (the id the hub
echoes back) is the AEAD's associated data, so a sealed key copied onto
another request's row does not open.

Stored form: ``b"\\x01"`` (the format) + 12-byte nonce + ciphertext and tag
(32 + 16 bytes): 61 bytes. Rows written before keys were sealed hold the raw
32-byte key; they are read as they are.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accord.errors import ConfigError, CryptoError

KEY_BYTES = 32
_FORMAT = b"\x01"
_NONCE_BYTES = 12
_AAD_PREFIX = b"accord/v1 request key\x00"
#: Length of a raw X25519 private key: an unsealed row from before sealing.
RAW_KEY_BYTES = 32


class RequestKeyWrap:
    """Seals and opens the private keys of this node's release requests."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigError(f"request key file: {len(key)} bytes, want {KEY_BYTES}")
        self._aead = AESGCM(key)

    @classmethod
    def load(cls, path: Path, *, create: bool = True) -> RequestKeyWrap:
        """The wrap whose key is in ``path``; with ``create``, a new random key if none is there.

        A new file is written readable by its owner only. Raises ConfigError
        naming the file when it cannot be read or does not hold 32 bytes.
        """
        if create and not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: read theirs
            except OSError as exc:
                raise ConfigError(f"{path}: cannot create the request key file: "
                                  f"{exc.strerror or exc}") from exc
            else:
                with os.fdopen(fd, "wb") as file:
                    file.write(secrets.token_bytes(KEY_BYTES))
                    file.flush()
                    os.fsync(file.fileno())
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the request key file: "
                              f"{exc.strerror or exc}") from exc
        if len(key) != KEY_BYTES:
            raise ConfigError(f"{path}: {len(key)} bytes, want {KEY_BYTES} (a request key file)")
        return cls(key)

    def seal(self, request_key: str, private_key: bytes) -> bytes:
        """``private_key`` sealed for the row of ``request_key``."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, private_key, _aad(request_key))

    def open(self, request_key: str, stored: bytes) -> bytes:
        """The private key of ``request_key``'s row.

        Raises CryptoError (opaque) when the stored bytes were not sealed by
        this key for this request, or were altered.
        """
        if len(stored) == RAW_KEY_BYTES:
            return stored  # written before keys were sealed
        if not stored.startswith(_FORMAT) or len(stored) <= 1 + _NONCE_BYTES:
            raise CryptoError()
        nonce, sealed = stored[1:1 + _NONCE_BYTES], stored[1 + _NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, _aad(request_key))
        except InvalidTag:
            raise CryptoError() from None


def _aad(request_key: str) -> bytes:
    return _AAD_PREFIX + request_key.encode("utf-8")
