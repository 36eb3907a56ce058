"""Small-cell suppression at the node: no count below 11 ever leaves it, and no
published number lets one be worked out."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.errors import InvalidArgument
from accord.v1 import node_pb2
from node.counts import MIN_CELL, CountQuery, Tally, suppress, suppress_table, tally

SEPT = dt.date(2026, 9, 14)


def query() -> CountQuery:
    return CountQuery("lakeside_so", frozenset({"cad_call", "hotline_tip"}),
                      frozenset({"sealed"}), MIN_CELL)


def test_cells_below_eleven_are_withheld() -> None:
    kept, withheld = suppress_table({"a": 11, "b": 250, "c": 10, "d": 1, "e": 40}, MIN_CELL)
    assert kept == {"a": 11, "b": 250, "e": 40}
    assert withheld == 2  # c and d: 11 records together, so no secondary suppression


def test_secondary_suppression_hides_a_small_remainder() -> None:
    # Total 65 is published: without more suppression, 65 - 11 - 50 = 4 would reveal "c".
    kept, withheld = suppress_table({"a": 11, "b": 50, "c": 4}, MIN_CELL)
    assert kept == {"b": 50}
    assert withheld == 2
    assert 65 - sum(kept.values()) >= MIN_CELL


def test_nothing_withheld_means_nothing_more_suppressed() -> None:
    assert suppress_table({"a": 11, "b": 12}, MIN_CELL) == ({"a": 11, "b": 12}, 0)


def test_a_small_total_withholds_everything() -> None:
    result = suppress(Tally(10, {"record_type": {"cad_call": 10}, "month": {"2026-09": 10},
                                 "county": {"x": 10}}))
    assert result.total == 0 and all(not t for t in result.tables.values())
    assert result.to_proto().cells == []
    assert result.suppressed_cells == 4


def test_the_answer_never_carries_a_small_count() -> None:
    t = Tally(30, {"record_type": {"cad_call": 25, "hotline_tip": 5},
                   "month": {"2026-09": 15, "2026-10": 15}, "county": {"A": 29, "B": 1}})
    answer = suppress(t).to_proto()
    assert all(c.count >= MIN_CELL for c in answer.cells)
    published = {(c.record_type, c.month, c.county): c.count for c in answer.cells}
    assert published == {("", "", ""): 30, ("", "2026-09", ""): 15, ("", "2026-10", ""): 15}
    assert answer.suppressed_cells == 4  # both record types (secondary), both counties


@pytest.mark.parametrize("asked", [0, 1, 5, 10])
def test_a_lower_threshold_is_never_honoured(asked: int) -> None:
    assert suppress(Tally(10, {"record_type": {"cad_call": 10}}), asked).total == 0
    built = CountQuery.from_proto(node_pb2.CountRecordsRequest(
        requesting_agency="lakeside_so", record_types=["cad_call"], min_cell=asked,
        agreement="local-pilot", purpose="human_trafficking"))
    assert built.min_cell == MIN_CELL


def test_tally_counts_only_scope_and_respects_local_rules() -> None:
    rows = [
        ("cad_call", SEPT, [], "Rivertown"),
        ("cad_call", SEPT, ["victim"], "Rivertown"),      # excluded by the node's own rule
        ("cad_call", SEPT, ["sealed"], "Rivertown"),      # never counted
        ("warrant", SEPT, [], "Rivertown"),               # not in scope
        ("hotline_tip", SEPT, [], ""),                    # withheld locally
        ("cad_call", dt.date(2026, 10, 1), [], "  "),
    ]
    counted = tally(rows, query(), {"exclude_labels": ["victim"],
                                    "record_types_withheld": ["hotline_tip"]})
    assert counted.total == 2
    assert counted.tables == {"record_type": {"cad_call": 2},
                              "month": {"2026-09": 1, "2026-10": 1},
                              "county": {"Rivertown": 1, "unknown": 1}}


def test_sealed_is_always_excluded_even_if_not_asked() -> None:
    built = CountQuery.from_proto(node_pb2.CountRecordsRequest(
        requesting_agency="lakeside_so", record_types=["cad_call"],
        agreement="local-pilot", purpose="human_trafficking"))
    assert "sealed" in built.exclude_labels


def test_malformed_requests_raise_our_error() -> None:
    with pytest.raises(InvalidArgument, match="requesting_agency"):
        CountQuery.from_proto(node_pb2.CountRecordsRequest())
    with pytest.raises(InvalidArgument, match="at most 64"):
        CountQuery.from_proto(node_pb2.CountRecordsRequest(
            requesting_agency="lakeside_so", record_types=[f"t{i}" for i in range(65)],
            agreement="local-pilot", purpose="human_trafficking"))
