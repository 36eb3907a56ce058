"""Small-cell suppression at the node: no count below 11 ever leaves it."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.errors import InvalidArgument
from accord.v1 import node_pb2
from node.counts import MIN_CELL, CountQuery, suppress, tally

SEPT = dt.date(2026, 9, 14)


def query(**overrides: object) -> CountQuery:
    fields: dict[str, object] = {"requesting_agency": "lakeside_so",
                                 "record_types": frozenset({"cad_call", "hotline_tip"}),
                                 "exclude_labels": frozenset({"sealed"}), "min_cell": MIN_CELL}
    fields.update(overrides)
    return CountQuery(**fields)  # type: ignore[arg-type]


def test_cells_below_eleven_are_dropped_and_only_counted() -> None:
    counts = {("cad_call", "2026-09", "Rivertown"): 11, ("cad_call", "2026-10", "Rivertown"): 10,
              ("hotline_tip", "2026-09", "unknown"): 1, ("cad_call", "2026-08", "Lakeside"): 250}
    result = suppress(counts)
    assert dict(result.cells) == {("cad_call", "2026-09", "Rivertown"): 11,
                                  ("cad_call", "2026-08", "Lakeside"): 250}
    assert result.suppressed_cells == 2
    answer = result.to_proto()
    assert all(c.count >= MIN_CELL for c in answer.cells)
    assert sorted(c.count for c in answer.cells) == [11, 250]


@pytest.mark.parametrize("asked", [0, 1, 5, 10])
def test_a_lower_threshold_is_never_honoured(asked: int) -> None:
    assert suppress({("cad_call", "2026-09", "x"): 10}, asked).cells == {}
    built = CountQuery.from_proto(node_pb2.CountRecordsRequest(
        requesting_agency="lakeside_so", record_types=["cad_call"], min_cell=asked))
    assert built.min_cell == MIN_CELL


def test_a_higher_threshold_is_honoured() -> None:
    assert suppress({("cad_call", "2026-09", "x"): 15}, 20).suppressed_cells == 1


def test_tally_counts_only_scope_and_respects_local_rules() -> None:
    rows = [
        ("cad_call", SEPT, [], "Rivertown"),
        ("cad_call", SEPT, ["victim"], "Rivertown"),      # excluded by the node's own rule
        ("cad_call", SEPT, ["sealed"], "Rivertown"),      # never counted
        ("warrant", SEPT, [], "Rivertown"),               # not in scope
        ("hotline_tip", SEPT, [], ""),                    # withheld locally
        ("cad_call", dt.date(2026, 10, 1), [], "  "),
    ]
    counts = tally(rows, query(), {"exclude_labels": ["victim"],
                                   "record_types_withheld": ["hotline_tip"]})
    assert counts == {("cad_call", "2026-09", "Rivertown"): 1,
                      ("cad_call", "2026-10", "unknown"): 1}


def test_sealed_is_always_excluded_even_if_not_asked() -> None:
    built = CountQuery.from_proto(node_pb2.CountRecordsRequest(
        requesting_agency="lakeside_so", record_types=["cad_call"]))
    assert "sealed" in built.exclude_labels


def test_malformed_requests_raise_our_error() -> None:
    with pytest.raises(InvalidArgument, match="requesting_agency"):
        CountQuery.from_proto(node_pb2.CountRecordsRequest())
    with pytest.raises(InvalidArgument, match="at most 64"):
        CountQuery.from_proto(node_pb2.CountRecordsRequest(
            requesting_agency="a", record_types=[f"t{i}" for i in range(65)]))
