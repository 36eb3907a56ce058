"""A full hub compromise plus a dictionary recovers nothing; unkeyed hashes fall.

The attacker holds everything the hub has: its database (with the WAL), its
configuration and keys, its logs and a dump of its memory after a run (every
string and bytes object reachable in the hub process), plus a dictionary of
the people in the synthetic population: their names, dates of birth and phone
numbers. The attack looks for plaintext (a given and family name side by side,
a phone number's digits) and for SHA-256 digests of every normalised
identifier, alone and combined the way the hub's audit digests combine tokens.

* Keyed tokens (the real federation): the attack recovers no one it could not
  already "recover" in the hub's artefacts before any record or search existed.
* The control: the same searches with unkeyed SHA-256 tokens, sent to the same
  hub, and the same attack recovers every person searched for.
* Tokens of one identifier under two federation secrets (or two agreements)
  share nothing.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import itertools
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from accord.cli.federation import Federation as FederationFiles
from accord.cli.federation import default_template, init_federation
from accord.identity import DevIdentityProvider
from accord.rpc import channel_options
from accord.synthetic.generate import population
from accord.synthetic.people import Entity
from accord.tokens import tokens_digest
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from node import normalize
from node.config import NodeConfig
from node.ingest.mapping import Mapping
from node.loader import ingest_file
from node.server import start_node
from node.store import NodeStore
from node.tokens import Kind, TokenKeys
from tests.adversarial.conftest import BackgroundLoop
from tests.adversarial.hub_process import read_dump
from tests.integration.conftest import AGENCIES

REPO = Path(__file__).resolve().parents[2]
PEOPLE = 300          # the attacker's dictionary
HELD = 150            # of whom rivertown holds a record
SEARCHED = 12         # searched by name and birth date, and as many again by phone
NAME, NAME_DOB, PHONE = (common_pb2.IDENTIFIER_KIND_NAME, common_pb2.IDENTIFIER_KIND_NAME_DOB,
                         common_pb2.IDENTIFIER_KIND_PHONE)


def name_key(person: Entity) -> str:
    return normalize.parse_name(f"{person.given} {person.family}").key


def e164(digits: str) -> str:
    return normalize.normalize_phone(digits, "US")


def sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def unkeyed_name_tokens(person: Entity) -> list[tuple[int, bytes]]:
    key = name_key(person)
    return [(NAME, sha(key)), (NAME_DOB, sha(f"{key}|{person.dob.isoformat()}"))]


def unkeyed_phone_tokens(phone: str) -> list[tuple[int, bytes]]:
    return [(PHONE, sha(e164(phone)))]


# --- the attack -------------------------------------------------------------------------------


@dataclass
class Artefacts:
    """Everything a hub compromise yields at one moment."""

    files: dict[str, bytes]
    memory: list[bytes]


def fold(text: str) -> str:
    return normalize.fold_text(text) if hasattr(normalize, "fold_text") else text.lower()


def candidate_digests(people: Iterable[Entity]) -> dict[bytes, str]:
    """Every digest the attacker can compute from the dictionary, mapped to its person."""
    found: dict[bytes, str] = {}
    for person in people:
        name_tokens = unkeyed_name_tokens(person)
        shapes = [name_tokens, name_tokens[:1]]
        for phone in person.phones:
            shapes += [unkeyed_phone_tokens(phone), name_tokens + unkeyed_phone_tokens(phone)]
        for tokens in shapes:
            found[bytes.fromhex(tokens_digest(tokens))] = person.entity_id
            for _, value in tokens:
                found[value] = person.entity_id
    return found


HEX64 = re.compile(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
WORD = re.compile(rb"[a-z]+")
DIGITS = re.compile(rb"(?<!\d)1?(\d{10})(?!\d)")


def recover(artefacts: Artefacts, people: list[Entity]) -> set[str]:
    """The people of the dictionary the artefacts give away, by any means we know."""
    digests = candidate_digests(people)
    by_name = {(fold(p.given).encode(), fold(p.family).encode()): p.entity_id for p in people}
    by_phone = {phone.encode(): p.entity_id for p in people for phone in p.phones}
    recovered: set[str] = set()

    blobs = [*artefacts.files.values(), *artefacts.memory]
    for blob in blobs:
        lower = blob.lower()
        # Digests as raw bytes (whole objects, or anywhere in a file) and as hex.
        if len(blob) == 32 and blob in digests:
            recovered.add(digests[blob])
        for match in HEX64.findall(lower):
            if (value := bytes.fromhex(match.decode())) in digests:
                recovered.add(digests[value])
        # Plaintext: a given and a family name side by side, or a phone's ten digits.
        words = WORD.findall(lower)
        for pair in itertools.pairwise(words):
            if pair in by_name:
                recovered.add(by_name[pair])
            if (pair[1], pair[0]) in by_name:
                recovered.add(by_name[(pair[1], pair[0])])
        for match in DIGITS.findall(re.sub(rb"[-. ()]", b"", lower) if len(lower) < 10**6
                                       else lower):
            if match in by_phone:
                recovered.add(by_phone[match])
    for blob in artefacts.files.values():
        for i in range(len(blob) - 31):
            if blob[i:i + 32] in digests:
                recovered.add(digests[blob[i:i + 32]])
    return recovered


# --- the run ----------------------------------------------------------------------------------


class HubProcess:
    """The hub in a process of its own, as `accord hub serve` runs it."""

    def __init__(self, files: FederationFiles, dump: Path) -> None:
        self.files = files
        self.dump = dump
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.adversarial.hub_process", str(files.hub_config),
             str(dump)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == b"ready", line

    def compromise(self) -> Artefacts:
        """Dump the memory, then take every file of the hub's directory and config."""
        done = Path(f"{self.dump}.done")
        done.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not done.exists():
            assert time.monotonic() < deadline, "the hub did not dump its memory"
            time.sleep(0.05)
        files = {}
        for folder in (self.files.root / "hub", self.files.root / "agreements"):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                if path != self.dump and path.name != done.name:
                    files[str(path.relative_to(self.files.root))] = path.read_bytes()
        return Artefacts(files, read_dump(self.dump))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def write_cad_csv(path: Path, people: list[Entity]) -> None:
    mapping = Mapping.load(REPO / "deploy" / "examples" / "rivertown_cad.toml")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(mapping.columns))
        writer.writeheader()
        for i, person in enumerate(people):
            row = dict.fromkeys(mapping.columns, "")
            row.update(CallNumber=f"CAD-{i:05d}", ReceivedAt="09/14/2026 14:03",
                       CallerName=f"{person.family.upper()}, {person.given.upper()}",
                       CallerDOB=person.dob.strftime("%m/%d/%Y"),
                       CallbackNumber=person.phones[0] if person.phones else "")
            writer.writerow(row)


@dataclass
class Run:
    people: list[Entity]
    searched: set[str]
    before: Artefacts
    keyed: Artefacts
    unkeyed: Artefacts


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("compromise")
    now = dt.datetime.now(dt.UTC)
    files = init_federation(root / "fed", AGENCIES, now, base_port=None,
                            template=default_template())
    pool = population(20261123, PEOPLE)
    people = [pool.entity(i) for i in range(PEOPLE)]
    held = people[:HELD]
    by_name = held[:SEARCHED]
    by_phone = [p for p in held[SEARCHED:] if p.phones][:SEARCHED]

    owner = NodeConfig.load(files.node_config("rivertown_pd"))
    write_cad_csv(root / "cad.csv", held)
    store = NodeStore.open(owner.database_url)
    report = ingest_file(store, Mapping.load(REPO / "deploy" / "examples" / "rivertown_cad.toml"),
                         root / "cad.csv", owner.keyring().all(), now)
    store.close()
    assert report.to_dict()["rejected"] == 0, report.to_dict()

    hub = HubProcess(files, root / "hub-memory.dump")
    loop = BackgroundLoop()
    nodes = []
    try:
        for agency in AGENCIES:
            nodes.append(loop.run(start_node(NodeConfig.load(files.node_config(agency)))))
        before = hub.compromise()
        lakeside = NodeConfig.load(files.node_config("lakeside_so"))
        token = DevIdentityProvider.load(files.idp_dir("lakeside_so"), "lakeside_so").issue(
            "det.morales", ("investigator",), dt.datetime.now(dt.UTC))
        metadata = [("authorization", f"Bearer {token}")]
        creds = lakeside.tls.channel_credentials()

        # The real federation: searches through lakeside's gateway, keyed tokens.
        with grpc.secure_channel(lakeside.listen, creds, options=channel_options()) as channel:
            gateway = node_pb2_grpc.GatewayServiceStub(channel)
            hits = 0
            for person in by_name:
                response = gateway.LocalSearch(node_pb2.LocalSearchRequest(
                    case_number="LS-1", purpose="human_trafficking",
                    name=f"{person.given} {person.family}", dob=person.dob.isoformat()),
                    metadata=metadata, timeout=30)
                hits += any(p.agency == "rivertown_pd" for p in response.result.pointers)
            for person in by_phone:
                response = gateway.LocalSearch(node_pb2.LocalSearchRequest(
                    case_number="LS-1", purpose="human_trafficking", phone=person.phones[0]),
                    metadata=metadata, timeout=30)
                hits += any(p.agency == "rivertown_pd" for p in response.result.pointers)
        assert hits == len(by_name) + len(by_phone)  # the searches really found them
        keyed = hub.compromise()

        # The control: the same searches, with unkeyed SHA-256 "tokens", to the same hub.
        with grpc.secure_channel(lakeside.hub, creds, options=channel_options()) as channel:
            stub = hub_pb2_grpc.HubServiceStub(channel)
            for tokens in ([unkeyed_name_tokens(p) for p in by_name]
                           + [unkeyed_phone_tokens(p.phones[0]) for p in by_phone]):
                stub.Search(hub_pb2.SearchRequest(
                    case_number="LS-1", purpose="human_trafficking", agreement="local-pilot",
                    tokens=[common_pb2.Token(kind=k, value=v) for k, v in tokens]),
                    metadata=metadata, timeout=30)
        unkeyed = hub.compromise()
        yield Run(people, {p.entity_id for p in by_name + by_phone}, before, keyed, unkeyed)
    finally:
        async def stop_nodes() -> None:
            await asyncio.gather(*(node.stop(0) for node in nodes))

        loop.run(stop_nodes())
        loop.close()
        hub.stop()


def test_a_full_hub_compromise_with_a_dictionary_recovers_nobody(run: Run) -> None:
    assert len(run.keyed.memory) > 10_000 and "hub/hub.db" in run.keyed.files  # a real dump
    baseline = recover(run.before, run.people)  # coincidences in code and docs, before any data
    assert len(baseline) <= PEOPLE // 50
    assert recover(run.keyed, run.people) <= baseline


def test_the_same_attack_recovers_everyone_from_unkeyed_hashes(run: Run) -> None:
    recovered = recover(run.unkeyed, run.people)
    assert run.searched <= recovered
    # The hub's own audit log alone (its token digests) gives them away.
    db_only = Artefacts({k: v for k, v in run.unkeyed.files.items() if k.startswith("hub/hub.db")},
                        [])
    assert run.searched <= recover(db_only, run.people)


def test_tokens_under_two_federation_secrets_share_nothing() -> None:
    pool = population(7, 200)
    people = [pool.entity(i) for i in range(200)]
    values = [(Kind.NAME, normalize.parse_name(f"{p.given} {p.family}").key) for p in people]
    values += [(Kind.PHONE, e164(phone)) for p in people for phone in p.phones]
    first = TokenKeys(b"\x01" * 32, "local-pilot")
    second = TokenKeys(b"\x02" * 32, "local-pilot")
    other_agreement = TokenKeys(b"\x01" * 32, "coastal-task-force")

    def tokens(keys: TokenKeys) -> set[bytes]:
        return {keys.token(kind, value).value for kind, value in values}

    a, b, c = tokens(first), tokens(second), tokens(other_agreement)
    assert len(a) == len(values)  # distinct identifiers, distinct tokens
    assert a.isdisjoint(b) and a.isdisjoint(c) and b.isdisjoint(c)
    assert tokens(TokenKeys(b"\x01" * 32, "local-pilot")) == a  # control: same key, same tokens
    # Nor do they share structure: each bit differs about half the time.
    differing = sum(bin(int.from_bytes(first.token(k, v).value, "big")
                        ^ int.from_bytes(second.token(k, v).value, "big")).count("1")
                    for k, v in values)
    assert 0.45 < differing / (256 * len(values)) < 0.55
    # And none of them is the unkeyed hash.
    assert a.isdisjoint({sha(value) for _, value in values})
