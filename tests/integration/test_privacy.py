"""The hub never sees a plaintext identifier: run a whole search flow on real
server processes, then scan every file the hub wrote."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import subprocess
from pathlib import Path

from accord.cli.federation import default_template, init_federation
from accord.cli.main import gateway_call, local_search
from accord.cli.procs import spawn, stop_all, wait_serving
from accord.errors import RemoteError
from accord.identity import DevIdentityProvider
from accord.v1 import common_pb2, hub_pb2, node_pb2
from hub.config import HubConfig
from node.config import NodeConfig
from node.records import Person, Record, RecordType, Role, Vehicle
from node.store import NodeStore, Prepared
from node.tokens import record_tokens
from tests.integration.conftest import AGENCIES

PERSON = {
    "name": "Jazmín Ramírez-Oquendo",
    "dob": "1999-03-04",
    "phone": "(503) 555-0142",
    "email": "jazzy.ro@example.org",
    "plate": "7KDX214",
}

# Every way the run's plaintext could appear in a file, case-insensitively.
NEEDLES = [
    "jazm", "ramirez", "ramírez", "oquendo", "jazzy",
    "1999-03-04", "03/04/1999", "19990304", "1999/03/04",
    "5035550142", "555-0142", "5550142", "+15035550142",
    "7kdx214", "example.org",
    # The associate a sweep reaches through the phone: never searched for by name.
    "marcus", "19861121", "1986-11-21",
]


def find_plaintext(root: Path) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        for needle in NEEDLES:
            for encoded in {needle.encode("utf-8"), needle.encode("utf-16-le")}:
                if encoded in data:
                    found.append(f"{path.relative_to(root)}: {needle}")
    return found


def story_record() -> Record:
    return Record(
        source="cad", source_id="CAD-1", record_type=RecordType.CAD_CALL,
        occurred_on=dt.date(2026, 9, 14),
        people=(Person(role=Role.VICTIM, name=PERSON["name"], nicknames=("Jazzy",),
                       dobs=(dt.date(1999, 3, 4),), phones=(PERSON["phone"],),
                       emails=(PERSON["email"],)),),
        vehicles=(Vehicle(plate=PERSON["plate"], plate_state="OR"),),
    )


def associate_record() -> Record:
    """harbor_pd's stop of the associate: linked to the story only by phone and plate."""
    return Record(
        source="harbor_fi", source_id="HFI-1", record_type=RecordType.FIELD_INTERVIEW,
        occurred_on=dt.date(2026, 10, 2),
        people=(Person(role=Role.OTHER, given="Marcus", family="Dell",
                       dobs=(dt.date(1986, 11, 21),), phones=("+15035550142",)),),
        vehicles=(Vehicle(plate=PERSON["plate"], plate_state="OR"),),
    )


def test_hub_files_hold_no_plaintext_identifier(tmp_path: Path) -> None:
    real_now = dt.datetime.now(dt.UTC)
    fed = init_federation(tmp_path / "fed", AGENCIES, real_now, base_port=None,
                          template=default_template())
    hub_config = HubConfig.load(fed.hub_config)
    node_configs = {a: NodeConfig.load(fed.node_config(a)) for a in AGENCIES}

    # The owning node indexes the record before the servers start.
    owner = node_configs["rivertown_pd"]
    store = NodeStore.open(owner.database_url)
    keys = owner.keyring().all()
    store.upsert([Prepared(story_record(), record_tokens(story_record(), keys, "US"))], real_now)
    store.close()
    harbor = node_configs["harbor_pd"]
    store = NodeStore.open(harbor.database_url)
    store.upsert([Prepared(associate_record(), record_tokens(associate_record(),
                                                             harbor.keyring().all(), "US"))],
                 real_now)
    store.close()

    logs = tmp_path / "out"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = [
        # The hub's own stdout/stderr goes into its directory, so the scan covers it.
        spawn(["hub", "serve", "--config", str(fed.hub_config)],
              hub_config.data_dir / "stdout.log")
    ]
    procs += [spawn(["node", "serve", "--config", str(fed.node_config(a))], logs / f"{a}.out")
              for a in AGENCIES]
    try:
        targets = [hub_config.listen] + [node_configs[a].listen for a in AGENCIES]
        tls = node_configs["lakeside_so"].tls

        async def run() -> list[node_pb2.LocalSearchResponse]:
            await asyncio.gather(*(wait_serving(t, tls, p)
                                   for t, p in zip(targets, procs, strict=True)))
            idp = DevIdentityProvider.load(fed.idp_dir("lakeside_so"), "lakeside_so")
            token = idp.issue("det.morales", ("investigator",), dt.datetime.now(dt.UTC))
            requests = [
                # A sweep: pivot tokens of her phone, email and plate cross the hub.
                node_pb2.LocalSearchRequest(case_number="LS-1", purpose="human_trafficking",
                                            name=PERSON["name"], dob=PERSON["dob"], depth=2),
                node_pb2.LocalSearchRequest(case_number="LS-1", purpose="human_trafficking",
                                            phone=PERSON["phone"], email=PERSON["email"],
                                            plate=f"OR:{PERSON['plate']}"),
                # A rejected query must not leak either.
                node_pb2.LocalSearchRequest(case_number="LS-1", purpose="curiosity",
                                            phone=PERSON["phone"]),
            ]
            results = []
            for request in requests:
                try:
                    results.append(await local_search(fed.node_config("lakeside_so"), token,
                                                      request))
                except RemoteError:  # the rejected one
                    continue
            # And a full release: the record crosses the hub, encrypted.
            asked = await gateway_call(
                fed.node_config("lakeside_so"), token, "LocalRequestRelease",
                node_pb2.LocalRequestReleaseRequest(
                    pointer=results[0].result.pointers[0].handle, case_number="LS-1",
                    purpose="victim_services", justification="victim support"))
            fetched = await gateway_call(
                fed.node_config("lakeside_so"), token, "LocalFetchRelease",
                hub_pb2.FetchReleaseRequest(release_id=asked.release.release_id))
            released.append(json.loads(fetched.record_json))
            # Another agency searches the same phone (deconfliction), and she
            # sets a watch on it.
            harbor_token = DevIdentityProvider.load(fed.idp_dir("harbor_pd"), "harbor_pd").issue(
                "det.kane", ("investigator",), dt.datetime.now(dt.UTC))
            results.append(await local_search(
                fed.node_config("harbor_pd"), harbor_token,
                node_pb2.LocalSearchRequest(case_number="HB-1", purpose="human_trafficking",
                                            phone=PERSON["phone"])))
            await gateway_call(fed.node_config("lakeside_so"), token, "LocalAddWatch",
                               node_pb2.LocalAddWatchRequest(
                                   case_number="LS-1", purpose="human_trafficking",
                                   phone=PERSON["phone"],
                                   label=f"{PERSON['name']}, {PERSON['phone']}"))
            return results

        released: list[dict[str, object]] = []
        results = asyncio.run(run())
    finally:
        stop_all(procs)

    # The flow really ran, found the record and released it (victim services:
    # nothing withheld, so the plaintext really did cross, encrypted)...
    assert [len(r.result.pointers) for r in results] == [1, 2, 1]
    # The sweep reached harbor_pd's stop through the plate (she is a victim in
    # the call, so the agreement keeps her phone out of sweeps)...
    [linked] = results[0].result.linked
    assert linked.pointer.agency == "harbor_pd"
    assert [p.kind for p in linked.paths] == [common_pb2.IDENTIFIER_KIND_PLATE]
    # ...and harbor_pd was told lakeside_so had searched the phone.
    assert [n.agency for n in results[2].result.notices] == ["lakeside_so"]
    [record] = released
    assert "Jazzy" in json.dumps(record) and "(503) 555-0142" in json.dumps(record)
    hub_dir = hub_config.data_dir
    assert (hub_dir / "hub.db").stat().st_size > 0
    assert re.search(rb'"rpc": "Search"', (hub_dir / "hub.log").read_bytes())
    # ...and nothing the hub wrote contains any of its plaintext.
    assert find_plaintext(hub_dir) == []
    # Control: the scan does find plaintext where it is (the owning node's store).
    assert find_plaintext(owner.data_dir)
