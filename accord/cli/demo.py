"""``accord demo``: the end-to-end story on real servers over loopback.

It builds a federation of three fictional agencies and a tip hotline, starts
the hub and every node as separate processes (real gRPC with mutual TLS),
ingests generated data through the agencies' own mappings, and walks an
investigator's search step by step.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
from rich.console import Console

from accord.cli.federation import Federation, default_template, init_federation
from accord.cli.procs import DemoFailed, spawn, stop_all, wait_serving
from accord.errors import AccordError, RemoteError
from accord.identity import DevIdentityProvider
from accord.synthetic import DEMO_AGENCIES, STORY, generate
from accord.synthetic.story import JUVENILE_PERSON, SEALED_PERSON
from accord.tls import TlsFiles
from accord.v1 import common_pb2, hub_pb2, node_pb2
from hub.config import HubConfig
from node.config import NodeConfig

INVESTIGATOR_AGENCY = "lakeside_so"
INVESTIGATOR = "det.morales"
#: How the investigator's informant spelled her: not as rivertown_pd wrote it.
SEARCHED_NAME = "Jasmine Ramirez"
SEARCHED_DOB = "1999-04-03"
CASE = "LS-2026-0117"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_demo(directory: Path | None, *, keep: bool, records: int, console: Console) -> int:
    """Run the story; returns the process exit code."""
    from accord.auditlog import signed_prefix, verify_log
    from accord.checkpoint import SignedCheckpoint
    from accord.cli.main import (
        _all_checkpoints,
        _all_entries,
        gateway_call,
        hub_call,
        local_search,
        print_search,
    )
    from accord.views import search_to_dict
    from node.ingest.mapping import Mapping
    from node.loader import ingest_file
    from node.server import load_ed25519_public_key
    from node.store import NodeStore

    temporary = directory is None
    root = Path(tempfile.mkdtemp(prefix="accord-demo-")) if directory is None else directory
    procs: list[subprocess.Popen[bytes]] = []
    step = 0

    def say(title: str) -> None:
        nonlocal step
        step += 1
        console.print(f"\n[bold cyan]{step}. {title}[/]")

    try:
        say("A federation of three agencies and a tip hotline")
        fed = init_federation(root / "federation", DEMO_AGENCIES, _now(), base_port=None,
                              force=True, template=default_template())
        console.print(f"   written to {fed.root}: CA and mTLS certificates, the federation "
                      "secret (nodes only), identity providers, agreement, configs")

        say("Each agency's node starts beside its own records; the hub starts in the middle")
        hub_config = HubConfig.load(fed.hub_config)
        node_configs = {a: NodeConfig.load(fed.node_config(a)) for a in fed.agencies}
        logs = root / "logs"
        logs.mkdir(exist_ok=True)
        # Watches are checked every second here, so the demo need not wait a minute.
        procs.append(spawn(["hub", "serve", "--config", str(fed.hub_config)], logs / "hub.out",
                           env={"ACCORD_HUB_HUB_WATCH_INTERVAL_SECONDS": "1"}))
        for agency in fed.agencies:
            procs.append(spawn(["node", "serve", "--config", str(fed.node_config(agency))],
                                logs / f"{agency}.out"))
        checker = node_configs[INVESTIGATOR_AGENCY].tls
        asyncio.run(_wait_all(hub_config, node_configs, procs, checker))
        console.print(f"   hub on {hub_config.listen}; nodes: " + ", ".join(
            f"{a} on {c.listen}" for a, c in node_configs.items()))

        say("Each agency ingests its own data through its own mapping (nothing is copied)")
        dataset = generate(root / "data", records_per_source=records, bad_rows=2)
        for agency in fed.agencies:
            config = node_configs[agency]
            keys = config.keyring().all()
            store = NodeStore.open(config.database_url)
            try:
                for source in dataset.for_agency(agency):
                    report = ingest_file(store, Mapping.load(source.mapping), source.path,
                                         keys, _now())
                    c = report.counts
                    console.print(f"   {agency:<13} {source.path.name:<26} {report.rows:>5} rows: "
                                  f"{c.loaded} loaded, {c.updated} updated, "
                                  f"{report.rejected} rejected")
                    for rejection in report.rejections[:3]:
                        console.print(f"      rejected {rejection.reason}", markup=False,
                                      highlight=False)
                if agency == "rivertown_pd" and any(
                        store.get_record("rivertown_rms", rid) is None
                        for rid in (STORY.sealed_record_id, STORY.juvenile_record_id)):
                    raise DemoFailed("the sealed and juvenile demo records did not load")
                console.print(f"   {agency:<13} index: {store.count_records()} records under "
                              f"{store.count_tokens()} keyed tokens, no plaintext identifiers")
            finally:
                store.close()

        say(f"An investigator at {INVESTIGATOR_AGENCY} searches by name and date of birth")
        idp = DevIdentityProvider.load(fed.idp_dir(INVESTIGATOR_AGENCY), INVESTIGATOR_AGENCY)
        jwt_text = idp.issue(INVESTIGATOR, ("investigator",), _now())
        console.print(f"   {INVESTIGATOR} (token from {idp.issuer}) asks for "
                      f"name={SEARCHED_NAME!r} dob={SEARCHED_DOB} (as her informant spelled it, "
                      f"day and month swapped), case {CASE}, "
                      "purpose human_trafficking")
        console.print("   her node turns these into keyed tokens; only the tokens reach the hub")
        response = asyncio.run(local_search(
            fed.node_config(INVESTIGATOR_AGENCY), jwt_text,
            node_pb2.LocalSearchRequest(case_number=CASE, purpose="human_trafficking",
                                        name=SEARCHED_NAME, dob=SEARCHED_DOB),
        ))
        data = search_to_dict(response)
        print_search(data)
        hits = [p for p in data["pointers"]
                if p["agency"] == "rivertown_pd" and p["record_type"] == "cad_call"]
        if not hits:
            raise DemoFailed("expected rivertown_pd to hold a call for service about her")
        console.print(f"   [bold green]rivertown_pd holds a {hits[0]['record_type']} from "
                      f"{hits[0]['month']} about her[/] ({hits[0]['strength']} match: "
                      f"{hits[0]['why'] or ', '.join(hits[0]['matched'])}); the pointer "
                      "carries no content")

        say("The agreement decides who is asked, for what, and what a pointer may say")
        console.print("   local-pilot: sealed and juvenile records are never exposed; the hotline "
                      "shares only tips, and its pointers carry no date;")
        for label, person in (("sealed", SEALED_PERSON), ("juvenile", JUVENILE_PERSON)):
            hidden = search_to_dict(asyncio.run(local_search(
                fed.node_config(INVESTIGATOR_AGENCY), jwt_text,
                node_pb2.LocalSearchRequest(case_number=CASE, purpose="human_trafficking",
                                            name=f"{person.given} {person.family}",
                                            dob=person.dob.isoformat()))))
            console.print(f"   rivertown_pd holds a {label} record about {person.given} "
                          f"{person.family}; searching for him returns "
                          f"{len(hidden['pointers'])} pointers")
            if hidden["pointers"]:
                raise DemoFailed(f"a {label} record was exposed")
        console.print("   harbor_pd takes no part in victim services. The same search for "
                      "purpose victim_services:")
        response = asyncio.run(local_search(
            fed.node_config(INVESTIGATOR_AGENCY), jwt_text,
            node_pb2.LocalSearchRequest(case_number=CASE, purpose="victim_services",
                                        name=STORY.name, dob=STORY.dob.isoformat()),
        ))
        scoped = {n["agency"]: n for n in search_to_dict(response)["nodes"]}
        for agency, node in scoped.items():
            console.print(f"   {agency:<13} {node['status']:<8} {node['detail']}")
        if scoped["harbor_pd"]["status"] != "denied":
            raise DemoFailed("expected harbor_pd out of scope for victim_services")
        harbor_jwt = DevIdentityProvider.load(fed.idp_dir("harbor_pd"), "harbor_pd").issue(
            "det.kane", ("investigator",), _now())
        try:
            asyncio.run(local_search(
                fed.node_config("harbor_pd"), harbor_jwt,
                node_pb2.LocalSearchRequest(case_number="HB-7", purpose="victim_services",
                                            phone=STORY.phone)))
            raise DemoFailed("expected harbor_pd's victim_services search to be denied")
        except RemoteError as exc:
            console.print(f"   and a harbor_pd investigator asking for victim_services is "
                          f"refused: {exc.message}")

        say("She asks for the call's full record; the hub logs it before anything moves")
        investigator = fed.node_config(INVESTIGATOR_AGENCY)
        cad = _request_release(investigator, jwt_text, hits[0]["handle"],
                               "identify the woman in the CAD call", console)
        record = _fetch_release(investigator, jwt_text, cad, console)
        person = next(p for p in record["people"] if STORY.nickname in p["nicknames"])
        phones = sorted({ph for p in record["people"] for ph in p["phones"]})
        if not phones:
            raise DemoFailed("expected a phone number in the released call")
        console.print(f"   [bold green]the record names her as {person['name']!r}, aka "
                      f"{', '.join(person['nicknames'])}; the call came from {phones[0]}[/]")

        say("A sweep follows the call's identifiers to records nobody knew to search for")
        console.print("   the same search with --depth 2: rivertown_pd's node derives keyed tokens "
                      "of the other identifiers in the call it matched (as the agreement lets "
                      "it pivot), and the hub looks those up at every agency")
        response = asyncio.run(local_search(
            investigator, jwt_text,
            node_pb2.LocalSearchRequest(case_number=CASE, purpose="human_trafficking",
                                        name=SEARCHED_NAME, dob=SEARCHED_DOB, depth=2),
        ))
        swept = search_to_dict(response)
        print_search(swept)
        linked = {(p["agency"], p["record_type"]): p for p in swept["linked"]}
        interview = linked.get(("harbor_pd", "field_interview"))
        tip_hit = linked.get(("tip_hotline", "hotline_tip"))
        if interview is None or tip_hit is None:
            raise DemoFailed("expected the sweep to reach harbor_pd's field interview and the "
                             "hotline's tip through her phone")
        console.print(f"   [bold green]through the {phones[0]} in the call (named only as "
                      f"'{interview['via'][0]['kind']}'): a field interview at harbor_pd and a "
                      "hotline tip[/]; the hub relayed tokens, never the number")

        say("The tip's release waits for the hotline's custodian")
        tip = _request_release(investigator, jwt_text, tip_hit["handle"],
                               "locate a possible trafficking victim", console)
        custodian_config = fed.node_config("tip_hotline")
        custodian = DevIdentityProvider.load(fed.idp_dir("tip_hotline"), "tip_hotline").issue(
            "cust.ng", ("custodian",), _now())
        pending = asyncio.run(hub_call(custodian_config, custodian, "HubService", "ListReleases",
                                       hub_pb2.ListReleasesRequest(
                                           state=common_pb2.RELEASE_STATE_PENDING_APPROVAL)))
        console.print(f"   the hotline's custodian sees {len(pending.releases)} pending "
                      f"release(s) and approves {tip}")
        asyncio.run(hub_call(custodian_config, custodian, "HubService", "DecideRelease",
                             hub_pb2.DecideReleaseRequest(release_id=tip, approve=True,
                                                          reason="active trafficking case")))
        _fetch_release(investigator, jwt_text, tip, console)
        interview_id = _request_release(investigator, jwt_text, interview["handle"],
                                        "the man seen with her phone", console)
        seen = _fetch_release(investigator, jwt_text, interview_id, console)
        console.print(f"   [bold green]harbor_pd's card: {seen['people'][0]['name'] or 'Marcus Dell'}"
                      f" at {seen['extra'].get('location', 'a motel')}, with her phone[/]")

        say("Deconfliction: another agency starts working the same phone")
        response = asyncio.run(local_search(
            investigator, jwt_text,
            node_pb2.LocalSearchRequest(case_number=CASE, purpose="human_trafficking",
                                        phone=phones[0])))
        holders = sorted({p["agency"] for p in search_to_dict(response)["pointers"]})
        console.print(f"   {INVESTIGATOR} now searches the phone itself: held at "
                      f"{', '.join(holders)}")
        harbor_config = fed.node_config("harbor_pd")
        kane = DevIdentityProvider.load(fed.idp_dir("harbor_pd"), "harbor_pd").issue(
            "det.kane", ("investigator",), _now())
        response = asyncio.run(local_search(
            harbor_config, kane,
            node_pb2.LocalSearchRequest(case_number="HB-2026-0311", purpose="human_trafficking",
                                        phone=phones[0])))
        notices = search_to_dict(response)["notices"]
        if not notices or notices[0]["agency"] != INVESTIGATOR_AGENCY:
            raise DemoFailed("expected harbor_pd to be told lakeside_so searched that phone")
        console.print(f"   det.kane at harbor_pd is told: {notices[0]['agency_name']} searched the "
                      f"same subject ({', '.join(notices[0]['kinds'])}); contact "
                      f"{notices[0]['contact']}")
        mine = asyncio.run(hub_call(investigator, jwt_text, "HubService", "ListNotifications",
                                    hub_pb2.ListNotificationsRequest()))
        told = [n for n in mine.notifications
                if n.kind == hub_pb2.NOTIFICATION_KIND_DECONFLICTION]
        if not told:
            raise DemoFailed("expected det.morales to be told that harbor_pd searched it too")
        console.print(f"   and {INVESTIGATOR} is told in turn: {told[0].deconfliction.agency_name}, "
                      f"contact {told[0].deconfliction.contact}. Neither learns the other's "
                      "case, and the hub compared only keyed tokens")

        say("A watch on her phone catches a record ingested later")
        watch = asyncio.run(gateway_call(investigator, jwt_text, "LocalAddWatch",
                                         node_pb2.LocalAddWatchRequest(
                                             case_number=CASE, purpose="human_trafficking",
                                             phone=phones[0], days=30, label="Jazzy's phone")))
        console.print(f"   {INVESTIGATOR} watches the phone: {watch.watch.watch_id}, until "
                      f"{watch.watch.expires_at[:10]}")
        new_tip = _late_tip(phones[0])
        tip_config = node_configs["tip_hotline"]
        store = NodeStore.open(tip_config.database_url)
        try:
            from node.store import Prepared
            from node.tokens import record_tokens

            store.upsert([Prepared(new_tip, record_tokens(new_tip, tip_config.keyring().all(),
                                                          tip_config.default_region))], _now())
        finally:
            store.close()
        console.print(f"   the hotline ingests a new tip ({new_tip.source_id}) with that phone; "
                      "the hub checks watches every second in the demo")
        found = _wait_for_watch(investigator, jwt_text, watch.watch.watch_id)
        console.print(f"   [bold green]notification:[/] {found.pointer.agency} holds a "
                      f"{found.pointer.record_type} -> pointer {found.pointer.handle}")

        say("A node goes down; searches still answer, within the deadline")
        down = fed.agencies.index("tip_hotline") + 1  # procs[0] is the hub
        stop_all([procs[down]])
        started = time.monotonic()
        response = asyncio.run(local_search(
            investigator, jwt_text,
            node_pb2.LocalSearchRequest(case_number=CASE, purpose="human_trafficking",
                                        name=STORY.name, dob=STORY.dob.isoformat()),
        ))
        data = search_to_dict(response)
        states = {n["agency"]: n["status"] for n in data["nodes"]}
        console.print(f"   tip_hotline stopped; the same search took "
                      f"{time.monotonic() - started:.2f}s: " +
                      ", ".join(f"{a} {s}" for a, s in states.items()))
        if states.get("tip_hotline") != "unavailable" or not data["pointers"]:
            raise DemoFailed("expected partial results with tip_hotline unavailable")

        say("A token leaks; the steward revokes it and the hub refuses it within seconds")
        leaked = idp.issue(INVESTIGATOR, ("investigator",), _now())
        jti = str(jwt.decode(leaked, options={"verify_signature": False})["jti"])
        assert hub_config.revocations is not None  # `federation init` configures one
        with hub_config.revocations.open("a") as f:
            f.write(f'\n[[revoke]]\nagency = "{INVESTIGATOR_AGENCY}"\ntoken_id = "{jti}"\n'
                    'reason = "pasted into a chat"\n')
        console.print(f"   token {jti[:8]}... listed in {hub_config.revocations.name}; "
                      "the hub reloads it every 2 s")
        refused = _wait_refused(investigator, leaked)
        console.print(f"   the leaked token, still unexpired: [bold red]refused[/] ({refused})")
        asyncio.run(local_search(investigator, jwt_text, node_pb2.LocalSearchRequest(
            case_number=CASE, purpose="human_trafficking", phone=STORY.phone)))
        console.print(f"   {INVESTIGATOR}'s own session token still works; the refusal "
                      "and the list's change are audit entries (auth_failed, "
                      "revocations_changed)")

        say("An auditor reviews the case's trail and verifies the whole log")
        auditor = idp.issue("aud.price", ("auditor",), _now())
        entries, _ = asyncio.run(_all_entries(investigator, auditor, {"case_number": CASE}))
        for raw in entries:
            doc = json.loads(raw)
            console.print(f"   #{doc['seq']:<3} {doc['event']:<18} {doc['outcome']:<7} "
                          f"{doc['actor']:<12} {', '.join(doc['reasons'])}", markup=False)
        notes = asyncio.run(_all_checkpoints(investigator, auditor))
        everything = signed_prefix(asyncio.run(_all_entries(investigator, auditor, {}))[0],
                                   notes)
        verified = verify_log(enumerate(everything, start=1),
                            [SignedCheckpoint.from_text(n) for n in notes],
                            load_ed25519_public_key(hub_config.signing_key.with_name(
                                "public_key.pem")), "accord-hub", hub_config.log_origin)
        if not verified.ok:
            raise DemoFailed(f"the audit log does not verify: {verified.problem}")
        console.print(f"   [bold green]log verified[/]: {verified.entries} entries, "
                      f"{verified.checkpoints} signed checkpoints, "
                      f"root {verified.root.hex()[:16]}..."
                      " (accord audit verify does the same)")
        console.print(f"   hub database: {hub_config.data_dir / 'hub.db'}; "
                      f"hub log: {hub_config.log_file}")

        if keep:
            _keep(fed, procs, console)
            procs = []
        console.print("\n[bold green]Demo complete.[/]")
        return 0
    except AccordError as exc:
        console.print(f"[bold red]demo failed:[/] {exc.message}")
        console.print(f"   server output is in {root / 'logs'}")
        temporary = False
        return 1
    finally:
        stop_all(procs)
        if temporary and not keep:
            shutil.rmtree(root, ignore_errors=True)


async def _wait_all(hub_config: HubConfig, node_configs: dict[str, NodeConfig],
                    procs: list[subprocess.Popen[bytes]], checker: TlsFiles) -> None:
    targets = [hub_config.listen] + [c.listen for c in node_configs.values()]
    await asyncio.gather(*(wait_serving(t, checker, p)
                           for t, p in zip(targets, procs, strict=True)))


def _request_release(config: Path, jwt_text: str, pointer: str, justification: str,
                     console: Console) -> str:
    from accord.cli.main import gateway_call, print_release
    from accord.views import release_to_dict

    response = asyncio.run(gateway_call(config, jwt_text, "LocalRequestRelease",
                                        node_pb2.LocalRequestReleaseRequest(
                                            pointer=pointer, case_number=CASE,
                                            purpose="human_trafficking",
                                            justification=justification)))
    print_release(release_to_dict(response.release))
    return str(response.release.release_id)


def _fetch_release(config: Path, jwt_text: str, release_id: str,
                   console: Console) -> dict[str, Any]:
    from accord.cli.main import gateway_call

    response = asyncio.run(gateway_call(config, jwt_text, "LocalFetchRelease",
                                        hub_pb2.FetchReleaseRequest(release_id=release_id)))
    if not response.record_json:
        raise DemoFailed(f"release {release_id} delivered nothing")
    record: dict[str, Any] = json.loads(response.record_json)
    console.print(f"   delivered: {record['record_type']} {record['source_id']} from "
                  f"{record['source']}, decrypted by her own node (the hub relayed ciphertext)")
    if response.withheld:
        console.print(f"   withheld by the agreement: {', '.join(response.withheld)}")
    return record


def _wait_refused(config: Path, jwt_text: str, timeout: float = 20.0) -> str:
    """Search with ``jwt_text`` until the hub refuses it; returns what the caller heard."""
    from accord.cli.main import local_search

    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(local_search(config, jwt_text, node_pb2.LocalSearchRequest(
                case_number=CASE, purpose="human_trafficking", phone=STORY.phone)))
        except RemoteError as exc:
            if exc.status.name == "UNAUTHENTICATED":
                return f"{exc.status.name.lower()}: {exc.message}"
            raise
        if time.monotonic() > deadline:
            raise DemoFailed("the hub did not refuse the revoked token")
        time.sleep(0.5)


def _late_tip(phone: str) -> Any:
    """A tip that arrives after the watch is set."""
    from node.records import Person, Record, RecordType, Role

    return Record(source="tip_hotline_tips", source_id="TIP-90017",
                  record_type=RecordType.HOTLINE_TIP, occurred_on=_now().date(),
                  summary="Caller saw a young woman called Jazzy get into a silver sedan",
                  people=(Person(role=Role.VICTIM, nicknames=("Jazzy",), phones=(phone,)),))


def _wait_for_watch(config: Path, jwt_text: str, watch_id: str, timeout: float = 20.0) -> Any:
    from accord.cli.main import hub_call

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = asyncio.run(hub_call(config, jwt_text, "HubService", "ListNotifications",
                                      hub_pb2.ListNotificationsRequest()))
        hits = [n for n in listed.notifications if n.watch_id == watch_id]
        if hits:
            return hits[0]
        time.sleep(0.5)
    raise DemoFailed(f"watch {watch_id} reported nothing within {timeout:.0f}s")


def _keep(fed: Federation, procs: list[subprocess.Popen[bytes]], console: Console) -> None:
    # Only the processes still running: one the story stopped (tip_hotline's
    # node) is gone, and its pid may since belong to something else.
    pids = " ".join(str(p.pid) for p in procs if p.poll() is None)
    (fed.root / "pids").write_text(pids + "\n")
    console.print("\n[bold]The federation keeps running.[/] Try:")
    console.print(f"   export ACCORD_TOKEN=$(accord token issue --idp {fed.idp_dir(INVESTIGATOR_AGENCY)}"
                  f" --sub {INVESTIGATOR})")
    console.print(f"   accord search --config {fed.node_config(INVESTIGATOR_AGENCY)} "
                  f"--case {CASE} --purpose human_trafficking --phone '{STORY.phone}'")
    console.print(f"   accord search --config {fed.node_config(INVESTIGATOR_AGENCY)} "
                  f"--case {CASE} --purpose human_trafficking --name '{SEARCHED_NAME}' "
                  f"--dob {SEARCHED_DOB} --depth 2")
    console.print(f"   accord watch notifications --config {fed.node_config(INVESTIGATOR_AGENCY)}")
    # procs: the hub, then the nodes in fed.agencies' order.
    running = {a: p.poll() is None for a, p in zip(fed.agencies, procs[1:], strict=False)}
    for agency in fed.agencies:
        web = NodeConfig.load(fed.node_config(agency)).console
        if web.enabled and running.get(agency, False):
            console.print(f"   web console for {agency}: http{'s' if web.tls else ''}://{web.listen}/")
        elif web.enabled:
            console.print(f"   web console for {agency}: stopped with its node; restart it with "
                          f"accord node serve --config {fed.node_config(agency)} &")
    console.print(f"   (sign in on {INVESTIGATOR_AGENCY}'s as {INVESTIGATOR} (investigator) or "
                  "aud.price (auditor), on tip_hotline's as cust.ng (custodian))")
    console.print(f"   stop it with: kill {pids}")
    with contextlib.suppress(OSError):
        os.chmod(fed.root / "pids", 0o600)
