"""Per-release private keys are sealed at rest, bound to their request, under a node-only key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from accord.errors import ConfigError, CryptoError
from accord.sealing import RecipientKey
from node.keywrap import RequestKeyWrap


def test_a_sealed_key_opens_only_for_its_request_under_its_file(tmp_path: Path) -> None:
    wrap = RequestKeyWrap.load(tmp_path / "request_keys.key")
    private = RecipientKey.generate().private_bytes
    sealed = wrap.seal("req-1", private)

    assert private not in sealed and len(sealed) == 61
    assert wrap.open("req-1", sealed) == private
    assert wrap.seal("req-1", private) != sealed  # a fresh nonce every time
    with pytest.raises(CryptoError):
        wrap.open("req-2", sealed)  # moved onto another request's row
    other = RequestKeyWrap.load(tmp_path / "other.key")
    with pytest.raises(CryptoError):
        other.open("req-1", sealed)  # another node's (or a lost and remade) file
    for i in range(len(sealed)):
        flipped = bytearray(sealed)
        flipped[i] ^= 0x01
        with pytest.raises(CryptoError):
            wrap.open("req-1", bytes(flipped))
    with pytest.raises(CryptoError):
        wrap.open("req-1", sealed[:20])


def test_the_key_file_is_made_once_owner_only_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "request_keys.key"
    sealed = RequestKeyWrap.load(path).seal("r", bytes(32))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 32
    assert RequestKeyWrap.load(path).open("r", sealed) == bytes(32)  # a restart reads it again


def test_a_row_from_before_sealing_is_read_as_it_is(tmp_path: Path) -> None:
    raw = RecipientKey.generate().private_bytes
    assert RequestKeyWrap.load(tmp_path / "k").open("any", raw) == raw


def test_a_bad_key_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "short.key"
    path.write_bytes(b"123")
    with pytest.raises(ConfigError, match=r"short\.key: 3 bytes, want 32"):
        RequestKeyWrap.load(path)
    with pytest.raises(ConfigError, match=r"missing\.key: cannot read"):
        RequestKeyWrap.load(tmp_path / "missing.key", create=False)
