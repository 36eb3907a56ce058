"""`accord release ...` and `accord audit ...` as people type them, against live servers."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.integration.conftest import LiveFederation
from tests.integration.test_search import cad_call, tip


async def accord(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "accord.cli.main", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_release_and_audit_commands(federation: LiveFederation, tmp_path: Path) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    federation.ingest("tip_hotline", [tip()])
    lakeside = str(federation.fed.node_config("lakeside_so"))
    hotline = str(federation.fed.node_config("tip_hotline"))
    investigator = federation.token("lakeside_so", sub="det.morales")
    custodian = federation.token("tip_hotline", sub="cust.ng", roles=("custodian",))
    auditor = federation.token("lakeside_so", sub="aud.price", roles=("auditor",))

    code, out, err = await accord("search", "--config", lakeside, "--token", investigator,
                                  "--case", "LS-1", "--purpose", "human_trafficking",
                                  "--phone", "503-555-0142", "--json")
    assert code == 0, err
    pointers = {p["agency"]: p["handle"] for p in json.loads(out)["pointers"]}
    assert set(pointers) == {"rivertown_pd", "tip_hotline"}

    async def request(pointer: str) -> dict[str, object]:
        code, out, err = await accord("release", "request", "--config", lakeside, "--token",
                                      investigator, "--pointer", pointer, "--case", "LS-1",
                                      "--purpose", "human_trafficking", "--justification",
                                      "identify the caller", "--json")
        assert code == 0, err
        result: dict[str, object] = json.loads(out)
        return result

    cad = await request(pointers["rivertown_pd"])
    assert cad["state"] == "granted"
    code, out, err = await accord("release", "fetch", str(cad["release_id"]), "--config",
                                  lakeside, "--token", investigator, "--json")
    assert code == 0, err
    fetched = json.loads(out)
    assert fetched["release"]["state"] == "delivered"
    assert fetched["record"]["source_id"] == "CAD-2026-004211"

    tipped = await request(pointers["tip_hotline"])
    assert tipped["state"] == "pending_approval"
    code, out, err = await accord("release", "pending", "--config", hotline, "--token",
                                  custodian, "--json")
    assert code == 0, err
    assert [r["release_id"] for r in json.loads(out)] == [tipped["release_id"]]
    code, out, err = await accord("release", "approve", str(tipped["release_id"]), "--config",
                                  hotline, "--token", custodian, "--reason", "victim safety")
    assert code == 0, err
    assert "granted" in out
    code, out, err = await accord("release", "fetch", str(tipped["release_id"]), "--config",
                                  lakeside, "--token", investigator)
    assert code == 0, err
    assert "withheld by the agreement" in out

    # Auditors read the trail; investigators cannot.
    code, _, err = await accord("audit", "list", "--config", lakeside, "--token", investigator)
    assert code == 1
    assert err.strip() == "error: permission_denied: role 'auditor' required"
    code, out, err = await accord("audit", "list", "--config", lakeside, "--token", auditor,
                                  "--case", "LS-1", "--json")
    assert code == 0, err
    trail = [d["event"] for d in json.loads(out)]
    assert trail == ["search", "release_requested", "release_granted", "release_delivered",
                     "release_requested", "release_approved", "release_granted",
                     "release_delivered"]
    code, out, err = await accord("audit", "list", "--config", lakeside, "--token", auditor,
                                  "--event", "release_approved", "--json")
    assert [d["actor"] for d in json.loads(out)] == ["cust.ng"]
    reads = [e.doc for e in federation.hub.audit.entries() if e.doc["event"] == "audit_read"]
    assert len(reads) == 2 and reads[-1]["details"]["filters"] == {"event": "release_approved"}

    saved = tmp_path / "audit.checkpoint"
    code, out, err = await accord("audit", "verify", "--config", lakeside, "--token", auditor,
                                  "--json", "--save-checkpoint", str(saved))
    assert code == 0, err
    report = json.loads(out)
    # One signed checkpoint per commit (a release's request and grant commit together).
    assert report["ok"] and report["entries"] > 10
    assert 1 <= report["checkpoints"] <= report["entries"]
    assert report["anchors"] == ["the node has accepted no checkpoint yet"]
    # The tip line released a record: its node pins the checkpoint it accepted then.
    code, out, err = await accord("audit", "verify", "--config", hotline, "--token",
                                  federation.token("tip_hotline", sub="aud.li",
                                                   roles=("auditor",)), "--json")
    assert code == 0, err
    pinned = federation.nodes["tip_hotline"].store.last_checkpoint()
    assert pinned is not None
    assert json.loads(out)["anchors"] == [f"the node's accepted checkpoint at size {pinned[0]}"]

    code, out, err = await accord("audit", "proof", "3", "--config", lakeside, "--token",
                                  auditor, "--json")
    assert code == 0, err
    proved = json.loads(out)
    assert (proved["verified"], proved["entry"]["seq"]) == (True, 3)
    code, _, err = await accord("audit", "proof", "100000", "--config", lakeside, "--token",
                                auditor)
    assert code == 2 and "seq: 100000, the log's latest signed checkpoint covers" in err

    export = tmp_path / "audit.jsonl"
    code, out, err = await accord("audit", "export", "--config", lakeside, "--token", auditor,
                                  "--out", str(export))
    assert code == 0, err
    code, out, err = await accord("audit", "verify", "--entries", str(export), "--hub-key",
                                  str(federation.fed.root / "hub" / "public_key.pem"),
                                  "--expect-checkpoint", str(saved))
    assert code == 0, out + err
    assert "log verified" in out and f"pinned: {saved} (size " in out
    csv_out = tmp_path / "audit.csv"
    code, _, err = await accord("audit", "export", "--config", lakeside, "--token", auditor,
                                "--format", "csv", "--out", str(csv_out), "--case", "LS-1")
    assert code == 0, err
    rows = csv_out.read_text().splitlines()
    assert rows[0].startswith("seq,time,event") and len(rows) == 1 + 8


async def test_fetching_a_release_says_whether_anything_will_come(
    federation: LiveFederation,
) -> None:
    federation.ingest("tip_hotline", [tip()])
    lakeside = str(federation.fed.node_config("lakeside_so"))
    hotline = str(federation.fed.node_config("tip_hotline"))
    investigator = federation.token("lakeside_so", sub="det.morales")
    custodian = federation.token("tip_hotline", sub="cust.ng", roles=("custodian",))
    code, out, err = await accord("search", "--config", lakeside, "--token", investigator,
                                  "--case", "LS-1", "--purpose", "human_trafficking",
                                  "--phone", "503-555-0142", "--json")
    assert code == 0, err
    [pointer] = [p["handle"] for p in json.loads(out)["pointers"]]
    code, out, err = await accord("release", "request", "--config", lakeside, "--token",
                                  investigator, "--pointer", pointer, "--case", "LS-1",
                                  "--purpose", "human_trafficking", "--justification",
                                  "identify the caller", "--json")
    assert code == 0, err
    release_id = json.loads(out)["release_id"]
    fetch = ("release", "fetch", release_id, "--config", lakeside, "--token", investigator)

    code, out, err = await accord(*fetch)
    assert code == 0, err
    assert "nothing to collect yet: the owning agency's custodian has not decided" in out

    code, _, err = await accord("release", "deny", release_id, "--config", hotline,
                                "--token", custodian, "--reason", "ongoing operation")
    assert code == 0, err
    code, out, err = await accord(*fetch)
    assert code == 1
    assert "denied" in out and "decided by cust.ng: ongoing operation" in out
    assert err.strip() == f"error: release {release_id} was denied: there is nothing to collect"
    code, out, _ = await accord(*fetch, "--json")
    assert code == 1
    assert (json.loads(out)["release"]["state"], json.loads(out)["record"]) == ("denied", None)
