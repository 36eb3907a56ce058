"""A released record's length does not reach the hub: only its size class does.

The hub relays and stores every sealed record, and ``release_delivered``
writes its size (``ciphertext_bytes``) into the permanent audit log. Unpadded,
two records from one source that differ only in a name differed in length by
exactly the names' difference in UTF-8 bytes. Now records are padded to a
power of two (1 KiB at least) before sealing.
"""

from __future__ import annotations

import datetime as dt

from accord.v1 import hub_pb2
from node.records import Person, Record, RecordType, Role
from tests.integration.conftest import LiveFederation
from tests.integration.test_release import ask, gateway


def call_about(source_id: str, name: str, phone: str) -> Record:
    return Record(source="rivertown_cad", source_id=source_id, record_type=RecordType.CAD_CALL,
                  occurred_on=dt.date(2026, 9, 14), summary="Welfare check",
                  people=(Person(role=Role.OTHER, name=name, phones=(phone,)),))


async def test_the_hub_cannot_tell_a_released_records_length(
    federation: LiveFederation,
) -> None:
    short, long = "Ann Lee", "Jazmin Ramirez-Oquendo"
    federation.ingest("rivertown_pd", [call_about("CAD-1", short, "503-555-0100"),
                                       call_about("CAD-2", long, "503-555-0199")])
    for phone in ("503-555-0100", "503-555-0199"):
        response = await federation.search("lakeside_so", case="LS-1", phone=phone)
        [pointer] = response.result.pointers
        requested = await gateway(federation, "lakeside_so", "LocalRequestRelease",
                                  ask(pointer.handle, case_number="LS-1"))
        await gateway(federation, "lakeside_so", "LocalFetchRelease",
                      hub_pb2.FetchReleaseRequest(
                          release_id=requested.release.release_id))  # type: ignore[attr-defined]
    sizes = [e.doc["details"]["ciphertext_bytes"] for e in federation.hub.audit.entries()
             if e.doc["event"] == "release_delivered"]
    print("ciphertext_bytes in the audit log:", sizes)
    assert len(sizes) == 2
    assert sizes[1] - sizes[0] != len(long.encode()) - len(short.encode()), (
        f"the audit log gives the difference of the names' lengths: {sizes}")
