"""A benchmark federation: a hub and nine nodes, each its own process, on loopback.

``gw_pd`` is the investigator's agency (its node is the gateway); ``node_1``
to ``node_8`` answer searches. Three agreements over the same processes set
the fan-out of a search: ``fan-1`` (node_1), ``fan-4`` (node_1..4) and
``fan-8`` (node_1..8); the gateway names one in each request. Every searched
node holds ``records`` synthetic records, among them one person the query
finds, so each search does real index lookups, scoring, pointer issuing, a
policy decision per node and at the hub, a durable audit append and a merge.

The servers run as ``accord hub serve`` / ``accord node serve`` processes with
mutual TLS, exactly as deployed (and as ``make demo`` runs them), with the
anti-fishing rate limits lifted (one benchmark investigator searches
thousands of times) and policy-file polling off.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w
import yaml

from accord.cli.federation import Federation, init_federation
from accord.cli.procs import spawn, stop_all, wait_serving
from accord.identity import DevIdentityProvider
from accord.synthetic.names import FAMILY_NAMES, GIVEN_NAMES
from accord.tls import TlsFiles
from hub.config import HubConfig
from node.config import NodeConfig
from node.encodings import prepare_record
from node.records import Person, Record, RecordType, Role
from node.store import NodeStore

GATEWAY = "gw_pd"
NODES = tuple(f"node_{i}" for i in range(1, 9))
WIDTHS = (1, 4, 8)
#: The person every searched node holds (and the query asks for).
TARGET = Person(role=Role.SUSPECT, given="Jazmin", family="Ramirez",
                dobs=(dt.date(1999, 3, 4),), phones=("+15035550142",))
QUERY = {"name": "Jasmine Ramirez", "dob": "1999-03-04"}


def agreement_id(width: int) -> str:
    return f"fan-{width}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _edit_toml(path: Path, edit: dict[str, dict[str, object]]) -> None:
    doc = tomllib.loads(path.read_text())
    for table, values in edit.items():
        doc.setdefault(table, {}).update(values)
    path.write_text(tomli_w.dumps(doc))


def build(root: Path, records: int, seed: int = 7) -> Federation:
    """Write the federation and fill every searched node's store."""
    fed = init_federation(root / "fed", (GATEWAY, *NODES), now(), base_port=None)
    base = yaml.safe_load(fed.agreement.read_text())
    agreements = {}
    for width in WIDTHS:
        doc = dict(base)
        doc["agreement"] = agreement_id(width)
        doc["members"] = {a: base["members"][a] for a in (GATEWAY, *NODES[:width])}
        path = fed.root / "agreements" / f"{agreement_id(width)}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        agreements[width] = path
    fed.agreement.unlink()
    _edit_toml(fed.hub_config, {
        "hub": {"agreements": [f"../agreements/{p.name}" for p in agreements.values()]},
        "limits": {"search_burst": 10**9, "agency_search_burst": 10**9,
                   "search_per_minute": 10**9, "agency_search_per_minute": 10**9,
                   "max_concurrent_rpcs": 4096},
        "policy": {"reload_seconds": 0},
    })
    for agency in (GATEWAY, *NODES):
        mine = [p for w, p in agreements.items() if agency == GATEWAY or agency in NODES[:w]]
        _edit_toml(fed.node_config(agency), {
            "node": {"agreements": [f"../../agreements/{p.name}" for p in mine]},
            "limits": {"max_concurrent_rpcs": 4096},
            "policy": {"reload_seconds": 0},
        })
    rng = random.Random(seed)
    for agency in NODES:
        config = NodeConfig.load(fed.node_config(agency))
        keys = config.keyring().all()
        store = NodeStore.open(config.database_url)
        try:
            batch = [prepare_record(_record(agency, 0, TARGET), keys, "US")]
            for i in range(1, records):
                batch.append(prepare_record(_record(agency, i, _person(rng, i)), keys, "US"))
                if len(batch) >= 1000:
                    store.upsert(batch, now())
                    batch = []
            store.upsert(batch, now())
        finally:
            store.close()
    return fed


def _person(rng: random.Random, i: int) -> Person:
    return Person(role=Role.OTHER, given=rng.choice(GIVEN_NAMES), family=rng.choice(FAMILY_NAMES),
                  dobs=(dt.date(1950 + rng.randrange(55), 1 + rng.randrange(12),
                                1 + rng.randrange(28)),),
                  phones=(f"+1503{2000000 + i:07d}",))


def _record(agency: str, i: int, person: Person) -> Record:
    return Record(source=f"{agency}_rms", source_id=f"R-{i}", record_type=RecordType.RMS_INCIDENT,
                  occurred_on=dt.date(2020 + i % 6, 1 + i % 12, 1 + i % 28), people=(person,))


@dataclass
class Running:
    """The federation's processes, and what a client needs to use it."""

    fed: Federation
    hub: subprocess.Popen[bytes]
    nodes: dict[str, subprocess.Popen[bytes]]
    gateway: str
    tls: TlsFiles
    token: str
    hub_listen: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        stop_all(self.procs)


async def start(fed: Federation, logs: Path) -> Running:
    """Start the hub and every node, each its own process; wait until all serve."""
    import asyncio

    hub_config = HubConfig.load(fed.hub_config)
    configs = {a: NodeConfig.load(fed.node_config(a)) for a in (GATEWAY, *NODES)}
    hub = spawn(["hub", "serve", "--config", str(fed.hub_config)], logs / "hub.out")
    nodes = {a: spawn(["node", "serve", "--config", str(fed.node_config(a))], logs / f"{a}.out")
             for a in configs}
    procs = [hub, *nodes.values()]
    gw = configs[GATEWAY]
    try:
        await asyncio.gather(wait_serving(hub_config.listen, gw.tls, hub),
                             *(wait_serving(c.listen, gw.tls, nodes[a])
                               for a, c in configs.items()))
    except Exception:
        stop_all(procs)
        raise
    idp = DevIdentityProvider.load(fed.idp_dir(GATEWAY), GATEWAY)
    token = idp.issue("bench", ("investigator",), now(), dt.timedelta(minutes=60))
    return Running(fed, hub, nodes, gw.listen, gw.tls, token, hub_config.listen, procs)


def node_tls(fed: Federation, agencies: Sequence[str]) -> list[TlsFiles]:
    return [NodeConfig.load(fed.node_config(a)).tls for a in agencies]
