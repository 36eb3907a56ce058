"""Merging the nodes' counts at the hub: suppression again, never summing small cells."""

from __future__ import annotations

import pytest

from accord.errors import InvalidArgument
from accord.v1 import common_pb2, hub_pb2
from hub.aggregates import MIN_CELL, AggregateQuery, NodeCounts, merge

OK = hub_pb2.NODE_STATUS_CODE_OK


def cell(record_type: str, month: str, county: str, count: int) -> common_pb2.CountCell:
    return common_pb2.CountCell(record_type=record_type, month=month, county=county, count=count)


def node(agency: str, *cells: common_pb2.CountCell, suppressed: int = 0) -> NodeCounts:
    return NodeCounts(agency, OK, cells, suppressed, 3)


def test_marginals_sum_released_cells() -> None:
    tables, suppressed = merge([
        node("rivertown_pd", cell("cad_call", "2026-09", "Rivertown", 12),
             cell("cad_call", "2026-10", "Rivertown", 20), suppressed=3),
        node("harbor_pd", cell("rms_incident", "2026-09", "Harbor", 11)),
    ])
    plain = {k: {(c.record_type or c.agency or c.month or c.county): c.count for c in v}
             for k, v in tables.items()}
    assert plain == {
        "record_type": {"cad_call": 32, "rms_incident": 11},
        "agency": {"rivertown_pd": 32, "harbor_pd": 11},
        "month": {"2026-09": 23, "2026-10": 20},
        "county": {"Rivertown": 32, "Harbor": 11},
    }
    assert suppressed == 3


def test_a_node_sending_small_cells_is_suppressed_at_the_hub_too() -> None:
    # A misbehaving node sends 4 and 7: neither is published, nor summed into 11.
    tables, suppressed = merge([
        node("rogue_pd", cell("cad_call", "2026-09", "X", 4), cell("cad_call", "2026-09", "X", 7)),
    ])
    assert all(not cells for cells in tables.values())
    assert suppressed == 2
    every = [c.count for cells in tables.values() for c in cells]
    assert all(n >= MIN_CELL for n in every)


@pytest.mark.parametrize(("agreement", "purpose", "field"), [
    ("", "human_trafficking", "agreement"),
    ("local-pilot", "", "purpose"),
    ("local-pilot", "Human Trafficking", "purpose"),
])
def test_malformed_requests_name_the_field(agreement: str, purpose: str, field: str) -> None:
    with pytest.raises(InvalidArgument, match=f"AggregateCountsRequest.{field}"):
        AggregateQuery.from_proto(hub_pb2.AggregateCountsRequest(agreement=agreement,
                                                                 purpose=purpose))
