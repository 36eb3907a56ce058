"""Keyed balanced Bloom filters: similarity survives, the key is needed, weight is constant."""

from __future__ import annotations

import statistics

import pytest

from node.bloom import FILTER_BYTES, RAW_BITS, BloomEncoder, bigrams, dice

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_bigrams_are_padded_and_words_joined() -> None:
    assert bigrams("ana") == {"_a", "an", "na", "a_"}
    assert bigrams("de la") == {"_d", "de", "e_", "_l", "la", "a_"}
    assert bigrams("  ") == frozenset()


def test_equal_strings_have_dice_one_and_typos_stay_close() -> None:
    enc = BloomEncoder(KEY_A, 20)
    same = dice(enc.encode_int("jazmin"), enc.encode_int("jazmin"))
    typo = dice(enc.encode_int("jazmin"), enc.encode_int("jazmn"))
    other = dice(enc.encode_int("jazmin"), enc.encode_int("rodriguez"))
    assert same == 1.0
    assert typo > 0.85
    assert other < 0.75


@pytest.mark.parametrize("text", ["", "a", "jazmin", "ramirez garcia", "12 n main st apt 4"])
def test_every_filter_is_balanced(text: str) -> None:
    enc = BloomEncoder(KEY_A, 20)
    bits = enc.encode(text)
    assert len(bits) == FILTER_BYTES
    assert int.from_bytes(bits, "big").bit_count() == RAW_BITS


NAMES = ["jazmin", "ramirez", "maria", "garcia", "nguyen", "smith", "johnson", "mohammed",
         "hernandez", "williams", "lopez", "tran", "okafor", "kowalski", "dubois", "haddad"]


def test_two_keys_give_unrelated_filters() -> None:
    """The same name under two federation keys agrees only as much as chance."""
    a, b = BloomEncoder(KEY_A, 20), BloomEncoder(KEY_B, 20)
    same_name = [dice(a.encode_int(n), b.encode_int(n)) for n in NAMES]
    other_names = [dice(a.encode_int(n), b.encode_int(m)) for n in NAMES for m in NAMES if n != m]
    # Balanced filters of unrelated content agree on about half their ones.
    assert abs(statistics.mean(same_name) - 0.5) < 0.05
    assert abs(statistics.mean(same_name) - statistics.mean(other_names)) < 0.03
    assert max(same_name) < 0.62


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="k"):
        BloomEncoder(KEY_A, 0)
    with pytest.raises(ValueError, match="key"):
        BloomEncoder(b"short", 10)
