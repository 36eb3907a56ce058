"""Privacy review: what the hub can compute from the keyed encodings it relays and keeps.

Both tests read only what the hub stores (the ``watches`` table keeps a
watch's tokens and Bloom filters for up to 90 days); the names are used only
to score what the hub recovered. ``xfail(strict=True)`` while open; run with
``--runxfail`` to see the numbers.

1. Balanced Bloom filters (node/bloom.py) all weigh exactly 512 bits, but a
   filter bit and its complement are permuted under a key that is the same
   for every filter of a kind and agreement. Without the key, the hub tells
   the two halves apart from a few dozen filters (a raw-filter bit is set by
   bigrams, so it is 1 in fewer than half of the filters; its complement in
   more than half), then counts each filter's raw bits: the unbalanced CLK
   weight, which is close to linear in the name's length.
2. The number of tokens of each kind in a query is a function of the
   plaintext: a query with a birth date but no DOB token has a birth date of
   January 1st (node/encodings.py ``_full_dates``), FAMILY_PHONETIC counts the
   words of the family name, GIVEN_CANONICAL the nickname-table entries of
   the given name.
"""

from __future__ import annotations

import collections
import statistics

import pytest
from nicknames import NickNamer
from sqlalchemy import select

from accord.tokens import FILTER_BYTES, TOKEN_BYTES
from accord.v1 import common_pb2, node_pb2
from hub.watches import _unpack, watches
from tests.integration.conftest import LiveFederation
from tests.integration.test_release import gateway

GIVEN = common_pb2.IDENTIFIER_KIND_GIVEN_NAME
BITS = FILTER_BYTES * 8


async def add_watch(live: LiveFederation, token: str, **fields: str) -> str:
    response = await gateway(live, "lakeside_so", "LocalAddWatch", node_pb2.LocalAddWatchRequest(
        case_number="LS-1", purpose="human_trafficking", **fields), token)
    return str(response.watch.watch_id)  # type: ignore[attr-defined]


def stored_watches(live: LiveFederation) -> dict[str, tuple[list[tuple[int, bytes]],
                                                            list[tuple[int, bytes]]]]:
    with live.hub.audit.engine.connect() as conn:
        rows = conn.execute(select(watches.c.watch_id, watches.c.tokens, watches.c.filters))
        return {r.watch_id: (list(_unpack(r.tokens, TOKEN_BYTES)),
                             list(_unpack(r.filters, FILTER_BYTES))) for r in rows}


@pytest.mark.xfail(strict=True, reason="open: balanced Bloom filters give their raw weight "
                   "(the name's length) away to anyone holding a few dozen of them")
async def test_the_hub_cannot_learn_name_lengths_from_stored_filters(
    federation: LiveFederation,
) -> None:
    givens = sorted(g for g in NickNamer.default_lookup() if g.isalpha())[::19][:60]
    ids: dict[str, str] = {}
    for i, given in enumerate(givens):  # four investigators: the rate limit's burst is 20
        token = federation.token("lakeside_so", sub=f"det.{i % 4}")
        ids[await add_watch(federation, token, name=f"{given} smith")] = given
    held = stored_watches(federation)
    filters = {ids[w]: int.from_bytes(next(b for k, b in f if k == GIVEN), "big")
               for w, (_, f) in held.items()}
    # Balanced, as documented: every filter weighs exactly half its bits.
    assert {f.bit_count() for f in filters.values()} == {BITS // 2}
    # The hub's side, with no key: a position 1 in fewer than half of the
    # filters is a raw-filter bit, its complement is 1 in more than half.
    seen = list(filters.values())
    raw_side = [p for p in range(BITS) if sum((f >> p) & 1 for f in seen) < len(seen) / 2]
    weight = {g: sum((f >> p) & 1 for p in raw_side) for g, f in filters.items()}
    lengths = [len(g) for g in weight]
    corr = statistics.correlation(lengths, list(weight.values()))
    slope, intercept = statistics.linear_regression(list(weight.values()), lengths)
    right = sum(round(slope * w + intercept) == len(g) for g, w in weight.items())
    within_one = sum(abs(round(slope * w + intercept) - len(g)) <= 1 for g, w in weight.items())
    print(f"positions classified raw-side: {len(raw_side)} of {BITS}; corr(weight, length) "
          f"= {corr:.3f}; length exactly right for {right}/{len(weight)}, within one for "
          f"{within_one}/{len(weight)}")
    assert abs(corr) < 0.3, (f"the hub recovers name length from filters alone: "
                             f"correlation {corr:.3f}, {right}/{len(weight)} lengths exact")


@pytest.mark.xfail(strict=True, reason="open: per-kind token counts are a function of the "
                   "plaintext (a January 1st birth date, family-name words, nicknames)")
async def test_token_counts_per_kind_say_nothing_about_the_identifier(
    federation: LiveFederation,
) -> None:
    token = federation.token("lakeside_so")
    queries = {
        "jan1": {"name": "Jazmin Ramirez", "dob": "1999-01-01"},
        "mar4": {"name": "Jazmin Ramirez", "dob": "1999-03-04"},
        "one_word_family": {"name": "Robert Smith"},
        "two_word_family": {"name": "Xq Ramirez-Oquendo"},
    }
    ids = {await add_watch(federation, token, **q): label for label, q in queries.items()}
    counts = {ids[w]: collections.Counter(common_pb2.IdentifierKind.Name(k) for k, _ in t)
              for w, (t, _) in stored_watches(federation).items()}
    for label, c in counts.items():
        print(label, dict(sorted(c.items())))
    # What the hub reads off the counts, without any key:
    jan1 = counts["jan1"]["IDENTIFIER_KIND_DOB"] == 0 and counts["jan1"][
        "IDENTIFIER_KIND_BIRTH_YEAR"] == 1
    words = {label: counts[label]["IDENTIFIER_KIND_FAMILY_PHONETIC"] // 2
             for label in ("one_word_family", "two_word_family")}
    nicknames = (counts["one_word_family"]["IDENTIFIER_KIND_GIVEN_CANONICAL"],
                 counts["two_word_family"]["IDENTIFIER_KIND_GIVEN_CANONICAL"])
    print(f"birth date is 1 January: {jan1}; family-name words: {words}; "
          f"given-name canonicals (robert, xq): {nicknames}")
    assert counts["jan1"] == counts["mar4"], "a January 1st birth date shows in the counts"
    assert counts["one_word_family"] == counts["two_word_family"], (
        "family-name words and nickname classes show in the counts")
