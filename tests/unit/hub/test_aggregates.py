"""Merging the nodes' counts at the hub: suppression again, never summing small cells."""

from __future__ import annotations

import pytest

from accord.errors import InvalidArgument
from accord.v1 import common_pb2, hub_pb2
from hub.aggregates import AggregateQuery, NodeCounts, merge

OK = hub_pb2.NODE_STATUS_CODE_OK


def cell(count: int, **label: str) -> common_pb2.CountCell:
    return common_pb2.CountCell(count=count, **label)


def node(agency: str, *cells: common_pb2.CountCell, suppressed: int = 0) -> NodeCounts:
    return NodeCounts(agency, OK, cells, suppressed, 3)


def test_tables_sum_the_nodes_published_cells() -> None:
    tables, suppressed = merge([
        node("rivertown_pd", cell(32), cell(32, record_type="cad_call"),
             cell(12, month="2026-09"), cell(20, month="2026-10"), cell(32, county="Rivertown"),
             suppressed=3),
        node("harbor_pd", cell(11), cell(11, record_type="cad_call"), cell(11, month="2026-09"),
             cell(11, county="Harbor")),
    ])
    plain = {k: {(c.record_type or c.agency or c.month or c.county): c.count for c in v}
             for k, v in tables.items()}
    assert plain == {
        "record_type": {"cad_call": 43},
        "agency": {"rivertown_pd": 32, "harbor_pd": 11},
        "month": {"2026-09": 23, "2026-10": 20},
        "county": {"Rivertown": 32, "Harbor": 11},
    }
    assert suppressed == 3


def test_a_node_sending_small_cells_is_suppressed_at_the_hub_too() -> None:
    # A misbehaving node sends 4 and 7: neither is published, nor summed into 11.
    tables, suppressed = merge([
        node("rogue_pd", cell(4, month="2026-09"), cell(7, month="2026-09"), cell(5)),
    ])
    assert all(not cells for cells in tables.values())
    assert suppressed == 3


def test_malformed_cells_are_not_merged() -> None:
    tables, _ = merge([node("rogue_pd", cell(50, month="2026-09", county="X"),
                            cell(50, agency="harbor_pd"))])
    assert all(not cells for cells in tables.values())


@pytest.mark.parametrize(("agreement", "purpose", "field"), [
    ("", "human_trafficking", "agreement"),
    ("local-pilot", "", "purpose"),
    ("local-pilot", "Human Trafficking", "purpose"),
])
def test_malformed_requests_name_the_field(agreement: str, purpose: str, field: str) -> None:
    with pytest.raises(InvalidArgument, match=f"AggregateCountsRequest.{field}"):
        AggregateQuery.from_proto(hub_pb2.AggregateCountsRequest(agreement=agreement,
                                                                 purpose=purpose))
