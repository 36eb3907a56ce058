"""The ``accord`` command line.

This module (with its siblings in ``accord.cli``) is the composition root: the
only place in the ``accord`` package that imports ``hub`` and ``node``. Every
command prints one clear line and exits non-zero on error, never a traceback;
data-producing commands take ``--json``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
import grpc
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from accord.errors import AccordError, InvalidArgument, RemoteError
from accord.v1 import common_pb2, hub_pb2, node_pb2

# soft_wrap: long lines stay whole (pipes and logs read them as written).
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

EXIT_ERROR = 1
EXIT_USAGE = 2


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    # Plain click.echo: one line, never wrapped, whatever the terminal width.
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class AccordGroup(click.Group):
    """A click group that turns our errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RemoteError as exc:
            fail(f"{exc.status.name.lower()}: {exc.message}")
        except AccordError as exc:
            fail(exc.message, EXIT_USAGE if isinstance(exc, InvalidArgument) else EXIT_ERROR)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:
            fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
        except Exception as exc:
            fail(f"internal error ({type(exc).__name__}): {exc}")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


@click.group(cls=AccordGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accord")
def cli() -> None:
    """Accord: find other agencies' records about the same person, phone or
    vehicle, without anyone copying their data.

    \b
    Quick start:
      accord demo                                  # the whole story, end to end
      accord federation init fed --agencies a_pd,b_so,c_pd
      accord hub serve --config fed/hub/hub.toml
    """


# --- federation ---------------------------------------------------------------


@cli.group()
def federation() -> None:
    """Create and inspect local federations."""


@federation.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--agencies", required=True, help="Comma-separated agency ids, e.g. a_pd,b_so.")
@click.option("--base-port", type=int, default=7400, show_default=True,
              help="Hub port; nodes get the following ports. 0 picks free ports.")
@click.option("--force", is_flag=True, help="Overwrite a non-empty directory.")
@click.option("--agreement", "template", type=click.Path(exists=True, dir_okay=False,
              path_type=Path),
              help="Agreement to use as a template: its rules are kept, endpoints and keys "
                   "filled in. Default: a generic agreement.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def federation_init(directory: Path, agencies: str, base_port: int, force: bool,
                    template: Path | None, as_json: bool) -> None:
    """Write a ready local federation into DIRECTORY: CA and certificates, the
    federation secret, hub signing key, development identity providers, an
    agreement, and hub and node configs.

    \b
    Example:
      accord federation init fed --agencies rivertown_pd,lakeside_so,harbor_pd,tip_hotline \\
          --agreement deploy/agreements/local-pilot.yaml
    """
    from accord.cli.federation import init_federation, parse_agencies

    fed = init_federation(directory, parse_agencies(agencies), now(),
                          base_port=base_port or None, force=force, template=template)
    summary = {
        "directory": str(fed.root),
        "agreement": str(fed.agreement),
        "hub_config": str(fed.hub_config),
        "node_configs": {a: str(fed.node_config(a)) for a in fed.agencies},
        "identity_providers": {a: str(fed.idp_dir(a)) for a in fed.agencies},
    }
    if as_json:
        emit_json(summary)
        return
    console.print(f"Federation written to [bold]{fed.root}[/]")
    console.print(f"  hub:   accord hub serve --config {fed.hub_config}")
    for agency in fed.agencies:
        console.print(f"  node:  accord node serve --config {fed.node_config(agency)}")
    console.print("The federation secret (secrets/federation.key) goes to nodes only, "
                  "never to the hub.")


# --- hub ------------------------------------------------------------------------


@cli.group()
def hub() -> None:
    """Run the central hub."""


def _serve(start: Callable[[], Any], log_file: Path, json_logs: bool) -> None:
    from accord.logging import configure

    configure(json=json_logs, file=log_file)

    async def main() -> None:
        running = await start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        err_console.print(f"listening on port {running.port}; Ctrl-C to stop "
                          f"(logs: {log_file})")
        await stop.wait()
        err_console.print("stopping: finishing in-flight requests")
        await running.stop()

    asyncio.run(main())


@hub.command("serve")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="hub.toml")
def hub_serve(config_path: Path) -> None:
    """Serve the hub until interrupted.

    \b
    Example:
      accord hub serve --config fed/hub/hub.toml
    """
    from hub.config import HubConfig
    from hub.server import start_hub

    config = HubConfig.load(config_path)
    _serve(lambda: start_hub(config), config.log_file, config.log_json)


# --- node -----------------------------------------------------------------------


@cli.group()
def node() -> None:
    """Run an agency node and load its records."""


@node.command("serve")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="node.toml")
def node_serve(config_path: Path) -> None:
    """Serve a node until interrupted.

    \b
    Example:
      accord node serve --config fed/nodes/rivertown_pd/node.toml
    """
    from node.config import NodeConfig
    from node.server import start_node

    config = NodeConfig.load(config_path)
    _serve(lambda: start_node(config), config.log_file, config.log_json)


@node.command("ingest")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="node.toml")
@click.option("--mapping", "mapping_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Mapping file (TOML) from the source's columns to the canonical schema.")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--show-rejected", type=int, default=20, show_default=True,
              help="How many rejected rows to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def node_ingest(config_path: Path, mapping_path: Path, files: tuple[Path, ...],
                batch_size: int, show_rejected: int, as_json: bool) -> None:
    """Load CSV or JSON Lines FILES into the node's store and token index.

    Bad rows are reported with their line number and reason, counted and
    skipped. Loading a source record again updates it, never duplicates it.

    \b
    Example:
      accord node ingest --config fed/nodes/rivertown_pd/node.toml \\
          --mapping deploy/examples/rivertown_cad.toml rivertown_cad.csv
    """
    from node.config import NodeConfig
    from node.ingest.mapping import Mapping
    from node.ingest.reader import count_rows
    from node.loader import ingest_file
    from node.store import NodeStore

    config = NodeConfig.load(config_path)
    mapping = Mapping.load(mapping_path)
    keys = config.keyring().all()
    store = NodeStore.open(config.database_url)
    reports = []
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err_console, disable=as_json,
                      transient=False) as progress:
            for path in files:
                task = progress.add_task(path.name, total=count_rows(path))
                def advance(n: int, task: TaskID = task) -> None:
                    progress.advance(task, n)

                reports.append(ingest_file(store, mapping, path, keys, now(),
                                           batch_size=batch_size, progress=advance))
    finally:
        store.close()
    if as_json:
        emit_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            c = report.counts
            console.print(f"{report.path.name}: {report.rows} rows: {c.loaded} loaded, "
                          f"{c.updated} updated, {c.unchanged} unchanged, "
                          f"{report.rejected} rejected")
            for rejection in report.rejections[:show_rejected]:
                console.print(f"  rejected {rejection.reason}", highlight=False, markup=False)
            if report.rejected > show_rejected:
                console.print(f"  ... and {report.rejected - show_rejected} more "
                              "(--show-rejected N or --json for all)")
    if any(r.rejected for r in reports):
        sys.exit(3)


# --- tokens -----------------------------------------------------------------------


@cli.group()
def token() -> None:
    """Mint investigator tokens with a development identity provider."""


@token.command("issue")
@click.option("--idp", "idp_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The agency's identity provider directory, e.g. fed/idp/lakeside_so.")
@click.option("--sub", "subject", required=True, help="The investigator's user id.")
@click.option("--role", "roles", multiple=True, default=("investigator",), show_default=True,
              help="Role(s): investigator, custodian, auditor, steward.")
@click.option("--ttl", type=click.IntRange(1, 60), default=15, show_default=True,
              help="Lifetime in minutes (at most 60).")
@click.option("--json", "as_json", is_flag=True, help="Print token and claims as JSON.")
def token_issue(idp_dir: Path, subject: str, roles: tuple[str, ...], ttl: int,
                as_json: bool) -> None:
    """Print a signed JWT for SUB from a development identity provider.

    \b
    Example:
      TOKEN=$(accord token issue --idp fed/idp/lakeside_so --sub det.morales)
    """
    import tomllib

    from accord.identity import DevIdentityProvider

    try:
        meta = tomllib.loads((idp_dir / "idp.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidArgument(f"{idp_dir}: not an identity provider directory ({exc})") from exc
    idp = DevIdentityProvider.load(idp_dir, meta["agency"])
    issued = now()
    jwt_text = idp.issue(subject, roles, issued, dt.timedelta(minutes=ttl))
    if as_json:
        emit_json({"token": jwt_text, "agency": idp.agency, "sub": subject,
                   "roles": list(roles),
                   "expires_at": (issued + dt.timedelta(minutes=ttl)).isoformat()})
    else:
        click.echo(jwt_text)


# --- search -------------------------------------------------------------------------

STRENGTH_NAMES = {
    common_pb2.MATCH_STRENGTH_STRONG: "strong",
    common_pb2.MATCH_STRENGTH_PROBABLE: "probable",
    common_pb2.MATCH_STRENGTH_POSSIBLE: "possible",
}


def kind_name(kind: int) -> str:
    name = str(common_pb2.IdentifierKind.Name(kind))
    return name.removeprefix("IDENTIFIER_KIND_").lower()


def status_name(code: int) -> str:
    name = str(hub_pb2.NodeStatusCode.Name(code))
    return name.removeprefix("NODE_STATUS_CODE_").lower()


def search_to_dict(resp: node_pb2.LocalSearchResponse) -> dict[str, Any]:
    r = resp.result
    return {
        "search_id": r.search_id,
        "audit_seq": r.audit_seq,
        "sent_kinds": [kind_name(k) for k in resp.sent_kinds],
        "pointers": [
            {
                "handle": p.handle,
                "agency": p.agency,
                "record_type": p.record_type,
                "month": p.coarse_date,
                "strength": STRENGTH_NAMES.get(p.strength, "unknown"),
                "matched": [kind_name(k) for k in p.matched],
            }
            for p in r.pointers
        ],
        "nodes": [
            {"agency": n.agency, "status": status_name(n.code), "pointers": n.pointers,
             "latency_ms": n.latency_ms, "detail": n.detail}
            for n in r.nodes
        ],
    }


async def local_search(config_path: Path, jwt_text: str, request: node_pb2.LocalSearchRequest,
                       timeout: float = 60.0) -> node_pb2.LocalSearchResponse:
    """Send a search to our own node's gateway (what `accord search` does)."""
    from accord.rpc import call, channel_options
    from node.config import NodeConfig

    config = NodeConfig.load(config_path)
    async with grpc.aio.secure_channel(config.listen, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        from accord.v1 import node_pb2_grpc

        stub = node_pb2_grpc.GatewayServiceStub(channel)
        result: node_pb2.LocalSearchResponse = await call(
            stub.LocalSearch, request, timeout=timeout,
            metadata=[("authorization", f"Bearer {jwt_text}")],
        )
        return result


def print_search(data: dict[str, Any]) -> None:
    pointers = data["pointers"]
    if pointers:
        table = Table(title=f"{len(pointers)} pointer(s)", title_justify="left")
        for col in ("agency", "record type", "month", "strength", "matched on", "pointer"):
            table.add_column(col)
        for p in pointers:
            table.add_row(p["agency"], p["record_type"], p["month"], p["strength"],
                          ", ".join(p["matched"]), p["handle"])
        console.print(table)
    else:
        console.print("No other agency holds a matching record.")
    nodes = Table(title="nodes asked", title_justify="left")
    for col in ("agency", "status", "pointers", "latency ms", "detail"):
        nodes.add_column(col)
    for n in data["nodes"]:
        nodes.add_row(n["agency"], n["status"], str(n["pointers"]), str(n["latency_ms"]),
                      n["detail"])
    console.print(nodes)
    console.print(f"search {data['search_id']} recorded as audit entry #{data['audit_seq']}")


@cli.command("search")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your agency's node.toml.")
@click.option("--token", "jwt_text", envvar="ACCORD_TOKEN",
              help="Your JWT (or set ACCORD_TOKEN).")
@click.option("--case", "case_number", required=True, help="Case number.")
@click.option("--purpose", required=True, help="Purpose, e.g. human_trafficking.")
@click.option("--name", default="", help="Given and family name.")
@click.option("--dob", default="", help="Date of birth (with --name), any common format.")
@click.option("--phone", default="")
@click.option("--email", default="")
@click.option("--plate", default="", help="Plate with its state, e.g. OR:7KDX214.")
@click.option("--vin", default="")
@click.option("--address", default="")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def search(config_path: Path, jwt_text: str | None, case_number: str, purpose: str,
           as_json: bool, **fields: str) -> None:
    """Search the federation through your own agency's node.

    The node turns what you type into keyed tokens; only tokens go to the hub,
    and other agencies answer with pointers, never with records.

    \b
    Example:
      accord search --config fed/nodes/lakeside_so/node.toml --token "$TOKEN" \\
          --case LS-2026-0117 --purpose human_trafficking \\
          --name "Jazmin Ramirez" --dob 1999-03-04
    """
    if not jwt_text:
        raise InvalidArgument("--token: missing (or set ACCORD_TOKEN)")
    request = node_pb2.LocalSearchRequest(case_number=case_number, purpose=purpose, **fields)
    response = asyncio.run(local_search(config_path, jwt_text.strip(), request))
    data = search_to_dict(response)
    if as_json:
        emit_json(data)
    else:
        print_search(data)


# --- policy -------------------------------------------------------------------------------


@cli.group()
def policy() -> None:
    """Check agreements and policies, and explain decisions (for the trust steward)."""


def _policy_source(config_path: Path | None, policies: Path | None,
                   agreements: tuple[Path, ...]) -> Any:
    """A PolicySource from a hub/node config, or from --policies/--agreement."""
    from accord.config import default_policy_dir
    from accord.policy.source import PolicySource

    if config_path is not None:
        import tomllib

        kind = "node" if "node" in tomllib.loads(config_path.read_text()) else "hub"
        if kind == "node":
            from node.config import NodeConfig

            return NodeConfig.load(config_path).policy
        from hub.config import HubConfig

        return HubConfig.load(config_path).policy
    if not agreements:
        raise InvalidArgument("give --config, or --agreement FILE (and optionally --policies DIR)")
    return PolicySource(policies or default_policy_dir(), agreements)


_policy_options = [
    click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False,
                 path_type=Path), help="A hub.toml or node.toml: use its policies and agreements."),
    click.option("--policies", type=click.Path(exists=True, file_okay=False, path_type=Path),
                 help="Rego policy directory (default: the policies shipped with Accord)."),
    click.option("--agreement", "agreements", multiple=True,
                 type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Agreement file (YAML or JSON); repeat for several."),
]


def policy_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_policy_options):
        f = option(f)
    return f


@policy.command("check")
@policy_options
@click.option("--json", "as_json", is_flag=True)
def policy_check(config_path: Path | None, policies: Path | None, agreements: tuple[Path, ...],
                 as_json: bool) -> None:
    """Validate the agreements and compile the policies; errors name file and field.

    \b
    Example:
      accord policy check --agreement deploy/agreements/local-pilot.yaml
      accord policy check --config fed/hub/hub.toml
    """
    source = _policy_source(config_path, policies, agreements)
    agreement_set, engine = asyncio.run(source.build())
    asyncio.run(engine.close())
    summary = {
        "policies": str(source.policy_dir),
        "engine": source.engine.kind,
        "agreements": [
            {"id": a.id, "version": a.version, "file": str(a.source),
             "valid_from": a.valid_from.isoformat(), "valid_until": a.valid_until.isoformat(),
             "valid_today": a.is_valid_on(now().date()), "members": list(a.members),
             "purposes": list(a.purposes)}
            for a in agreement_set.agreements.values()
        ],
    }
    if as_json:
        emit_json(summary)
        return
    console.print(f"policies in {source.policy_dir} compile ({source.engine.kind})")
    for a in summary["agreements"]:
        state = "in force" if a["valid_today"] else "NOT in force today"
        console.print(f"agreement {a['id']} v{a['version']} ({a['valid_from']} to "
                      f"{a['valid_until']}, {state}): {len(a['members'])} members, "
                      f"purposes {', '.join(a['purposes'])}")


DECISION_NAMES = ("search", "scope", "pointer", "release")


@policy.command("explain")
@click.option("--input", "input_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSON file: {"decision": "search|scope|pointer|release", "input": {...}}')
@policy_options
@click.option("--json", "as_json", is_flag=True)
def policy_explain(input_path: Path, config_path: Path | None, policies: Path | None,
                   agreements: tuple[Path, ...], as_json: bool) -> None:
    """Print the decision, and its reasons, for one request.

    \b
    Example input (search.json):
      {"decision": "search",
       "input": {"agreement": "local-pilot", "purpose": "victim_services",
                 "case_number": "HB-7", "now": "2026-11-23",
                 "principal": {"subject": "det.k", "agency": "harbor_pd",
                               "roles": ["investigator"]}}}
    \b
    Example:
      accord policy explain --input search.json --agreement deploy/agreements/local-pilot.yaml
    """
    from accord.policy.engine import PolicyPoint

    try:
        request = json.loads(input_path.read_text())
    except ValueError as exc:
        raise InvalidArgument(f"{input_path}: not valid JSON: {exc}") from exc
    name = request.get("decision") if isinstance(request, dict) else None
    if name not in DECISION_NAMES:
        raise InvalidArgument(f"{input_path}: decision: got {name!r}, want one of "
                              f"[{', '.join(DECISION_NAMES)}]")
    if not isinstance(request.get("input"), dict):
        raise InvalidArgument(f"{input_path}: input: want a JSON object")
    source = _policy_source(config_path, policies, agreements)

    async def decide() -> Any:
        _, engine = await source.build()
        point = PolicyPoint(engine, timeout=max(source.engine.timeout, 5.0))
        try:
            return await point.decide(f"accord/{name}/decision", request["input"])
        finally:
            await point.close()

    decision = asyncio.run(decide())
    if as_json:
        emit_json({"decision": name, "allow": decision.allow, "reasons": list(decision.reasons),
                   "result": dict(decision.result)})
        return
    console.print(f"{name}: {decision.explain()}")
    extra = {k: v for k, v in decision.result.items() if k not in {"allow", "reasons"}}
    if extra:
        console.print_json(json.dumps(extra))


# --- synthetic data and the demo -------------------------------------------------------


@cli.group()
def synth() -> None:
    """Generate synthetic agency data with ground truth."""


@synth.command("generate")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--people", type=click.IntRange(10), default=400, show_default=True)
@click.option("--records", "records_per_source", type=click.IntRange(1), default=300,
              show_default=True, help="Records per source file.")
@click.option("--bad-rows", type=click.IntRange(0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def synth_generate(out: Path, seed: int, people: int, records_per_source: int, bad_rows: int,
                   as_json: bool) -> None:
    """Write seeded, deterministic source files, mappings and ground truth.

    \b
    Example:
      accord synth generate --out data --seed 7 --records 1000
    """
    from accord.synthetic import generate

    dataset = generate(out, seed=seed, people=people, records_per_source=records_per_source,
                       bad_rows=bad_rows)
    files = [{"agency": s.agency, "file": str(s.path), "mapping": str(s.mapping),
              "record_type": s.record_type, "rows": s.rows} for s in dataset.sources]
    if as_json:
        emit_json({"root": str(dataset.root), "ground_truth": str(dataset.ground_truth),
                   "sources": files})
        return
    for f in files:
        console.print(f"{f['agency']:<14} {f['rows']:>8} rows  {f['file']}")
    console.print(f"ground truth: {dataset.ground_truth}")


@cli.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to build the federation (default: a temporary directory).")
@click.option("--keep", is_flag=True,
              help="Leave the federation running afterwards, for exploring.")
@click.option("--records", type=click.IntRange(10), default=300, show_default=True,
              help="Generated records per source.")
def demo(directory: Path | None, keep: bool, records: int) -> None:
    """Run the end-to-end story on a local federation of real servers.

    Three fictional agencies and a tip hotline; an investigator at one agency
    finds that another holds a call for service about the person she is
    looking for, without any records being copied.
    """
    from accord.cli.demo import run_demo

    sys.exit(run_demo(directory, keep=keep, records=records, console=console))


def main() -> None:
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    cli(prog_name="accord")


if __name__ == "__main__":
    main()
