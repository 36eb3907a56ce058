"""The ``accord`` command line.

This module (with its siblings in ``accord.cli``) is the composition root: the
only place in the ``accord`` package that imports ``hub`` and ``node``. Every
command prints one clear line and exits non-zero on error, never a traceback;
data-producing commands take ``--json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
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

from accord.errors import AccordError, ConfigError, CryptoError, InvalidArgument, RemoteError
from accord.v1 import common_pb2, hub_pb2, node_pb2
from accord.views import (
    notification_to_dict,
    release_to_dict,
    search_to_dict,
    watch_to_dict,
)

# soft_wrap: long lines stay whole (pipes and logs read them as written).
# Piped output (CI logs, `| less`) gets a wide page instead of rich's 80 columns.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(soft_wrap=True, width=_WIDTH)
err_console = Console(stderr=True, soft_wrap=True, width=_WIDTH)

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
            # The server's verdict on what was typed (a name without a family
            # name, a plate without its state) is bad input too.
            bad = exc.status is grpc.StatusCode.INVALID_ARGUMENT
            fail(f"{exc.status.name.lower()}: {exc.message}", EXIT_USAGE if bad else EXIT_ERROR)
        except AccordError as exc:
            # Bad input: an argument, or a file the command was given (a
            # mapping, an agreement, a config) that does not parse or validate.
            bad = isinstance(exc, InvalidArgument | ConfigError)
            fail(exc.message, EXIT_USAGE if bad else EXIT_ERROR)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:
            fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                from accord.db import operational_message

                fail(operational_message(exc))
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
    """Create a local federation (keys, certificates, configs)."""


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


@node.command("reindex")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="node.toml")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def node_reindex(config_path: Path, as_json: bool) -> None:
    """Re-tokenise every stored record under the node's current keys.

    Run it after adding or removing `federation_secret_rotation`, so the index
    holds exactly the tokens of the secrets the node is configured with.
    A record that cannot be re-tokenised is reported and left as it was, and
    the command exits with status 3.

    \b
    Example:
      accord node reindex --config fed/nodes/rivertown_pd/node.toml
    """
    from node.config import NodeConfig
    from node.reindex import MAX_KEPT_FAILURES, reindex

    config = NodeConfig.load(config_path)
    with Progress(TextColumn("reindex"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, disable=as_json) as progress:
        task = progress.add_task("reindex", total=None)
        report = reindex(config, now(), progress=lambda n: progress.advance(task, n))
    if as_json:
        emit_json(report.to_dict())
    else:
        total = report.updated + report.unchanged + report.failed
        console.print(f"{total} records: {report.updated} re-indexed, "
                      f"{report.unchanged} already current, {report.failed} failed")
        shown = report.failures[:20]
        for failure in shown:
            console.print(f"  failed {failure.source} {failure.source_id}: {failure.reason}",
                          highlight=False, markup=False)
        if report.failed > len(shown):
            console.print(f"  ... and {report.failed - len(shown)} more "
                          f"(--json lists the first {MAX_KEPT_FAILURES})")
    if report.failed:
        # Their index is left as it was: under a secret being dropped, they
        # would no longer be found. Say so in the exit status, as ingest does.
        sys.exit(3)


@node.command("ingest")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="node.toml")
@click.option("--mapping", "mapping_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Mapping file (TOML) from the source's columns to the canonical schema.")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Records written per transaction.")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Map and encode rows in this many worker processes (1: in this process). "
                   "One per CPU core loads large files fastest.")
@click.option("--show-rejected", type=click.IntRange(0), default=20, show_default=True,
              help="How many rejected rows to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def node_ingest(config_path: Path, mapping_path: Path, files: tuple[Path, ...],
                batch_size: int, workers: int, show_rejected: int, as_json: bool) -> None:
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
    from node.ingest.reader import count_rows, open_rows
    from node.loader import MAX_KEPT_REJECTIONS, Workers, ingest_file
    from node.store import NodeStore

    config = NodeConfig.load(config_path)
    mapping = Mapping.load(mapping_path)
    for path in files:
        # Every file's format and header first: a bad one among several stops
        # the run before anything is loaded, not after the files before it.
        open_rows(mapping, path)
    keys = config.keyring().all()
    store = NodeStore.open(config.database_url, auto_migrate=config.auto_migrate)
    reports = []
    with contextlib.ExitStack() as stack:
        stack.callback(store.close)
        pool = stack.enter_context(Workers(workers, keys)) if workers > 1 else None
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err_console, disable=as_json,
                      transient=False) as progress:
            for path in files:
                task = progress.add_task(path.name, total=count_rows(path))
                def advance(n: int, task: TaskID = task) -> None:
                    progress.advance(task, n)

                reports.append(ingest_file(store, mapping, path, keys, now(),
                                           batch_size=batch_size, progress=advance,
                                           workers=pool))
    if as_json:
        emit_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            c = report.counts
            console.print(f"{report.path.name}: {report.rows} rows: {c.loaded} loaded, "
                          f"{c.updated} updated, {c.unchanged} unchanged, "
                          f"{report.rejected} rejected")
            shown = report.rejections[:show_rejected]
            for rejection in shown:
                console.print(f"  rejected {rejection.reason}", highlight=False, markup=False)
            if report.rejected > len(shown):
                # A report keeps the first MAX_KEPT_REJECTIONS rejections (all are counted).
                hint = (f"--show-rejected N or --json lists the first {len(report.rejections)}"
                        if len(report.rejections) > len(shown)
                        else f"a report keeps the first {MAX_KEPT_REJECTIONS}")
                console.print(f"  ... and {report.rejected - len(shown)} more ({hint})")
    if any(r.rejected for r in reports):
        sys.exit(3)


# --- database ---------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database schema migrations (SQLite or PostgreSQL, from the config's database_url)."""


def _store_target(config_path: Path) -> tuple[str, Path, str]:
    """(component, migrations directory, database url) of a hub.toml or node.toml."""
    import tomllib

    try:
        kind = "node" if "node" in tomllib.loads(config_path.read_text()) else "hub"
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{config_path}: not valid TOML: {exc}") from exc
    if kind == "node":
        from node.config import NodeConfig
        from node.migrations import MIGRATIONS as NODE_MIGRATIONS

        return "node", NODE_MIGRATIONS, NodeConfig.load(config_path).database_url
    from hub.audit import MIGRATIONS as HUB_MIGRATIONS
    from hub.config import HubConfig

    return "hub", HUB_MIGRATIONS, HubConfig.load(config_path).database_url


@db.command("upgrade")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="hub.toml or node.toml")
@click.option("--json", "as_json", is_flag=True, help="Print the revisions as JSON.")
def db_upgrade(config_path: Path, as_json: bool) -> None:
    """Upgrade the store's schema to this version's.

    \b
    Example:
      accord db upgrade --config fed/hub/hub.toml
    """
    from accord import migrations
    from accord.db import make_engine

    component, scripts, url = _store_target(config_path)
    engine = make_engine(url)
    try:
        before, after = migrations.upgrade(scripts, engine)
    finally:
        engine.dispose()
    if as_json:
        emit_json({"component": component, "from": before, "to": after})
    else:
        console.print(f"{component} database upgraded from revision "
                      f"{migrations.describe(before)} to {after}")


@db.command("status")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="hub.toml or node.toml")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def db_status(config_path: Path, as_json: bool) -> None:
    """Show the store's schema revision and whether it is current.

    Exits 0 when the schema is current, 3 when it needs `accord db upgrade`,
    and 4 when a newer version of Accord migrated it (upgrade Accord instead).

    \b
    Example:
      accord db status --config fed/nodes/rivertown_pd/node.toml
    """
    from sqlalchemy.engine import make_url

    from accord import migrations
    from accord.db import make_engine

    component, scripts, url = _store_target(config_path)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        # Connecting would create an empty file, and advise upgrading it.
        head = migrations.head(scripts)
        if as_json:
            emit_json({"component": component, "current": None, "head": head,
                       "state": "no_database", "up_to_date": False,
                       "database": parsed.database})
        else:
            console.print(f"{component} database: none at {parsed.database} (the server "
                          "creates it at start, or run `accord db upgrade`)", markup=False)
        sys.exit(3)
    engine = make_engine(url)
    try:
        found = migrations.state(scripts, engine)
    finally:
        engine.dispose()
    if as_json:
        emit_json({"component": component, "current": found.current, "head": found.head,
                   "state": found.name, "up_to_date": found.name == "up_to_date"})
    else:
        said = {"up_to_date": "up to date",
                "upgrade_needed": "needs `accord db upgrade`",
                "unknown_revision": "unknown to this version (a newer Accord migrated it)"}
        console.print(f"{component} database at revision {migrations.describe(found.current)}, "
                      f"code wants {found.head}: {said[found.name]}")
    codes = {"up_to_date": 0, "upgrade_needed": 3, "unknown_revision": 4}
    if codes[found.name]:
        sys.exit(codes[found.name])


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
        import jwt

        # jti: what a revocation of this one token names (hub/revocations.py).
        claims = jwt.decode(jwt_text, options={"verify_signature": False})
        emit_json({"token": jwt_text, "agency": idp.agency, "sub": subject,
                   "roles": list(roles), "jti": claims["jti"],
                   "issued_at": dt.datetime.fromtimestamp(claims["iat"], dt.UTC).isoformat(),
                   "expires_at": (issued + dt.timedelta(minutes=ttl)).isoformat()})
    else:
        click.echo(jwt_text)


# --- search -------------------------------------------------------------------------

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


def describe_path(data: dict[str, Any], handles: dict[str, dict[str, Any]]) -> str:
    """"phone shared with a cad_call at rivertown_pd (ptr_ab12...)", for each route."""
    routes = []
    for via in data["via"]:
        origin = handles.get(via["pointer"], {})
        what = origin.get("record_type") or "record"
        routes.append(f"{via['kind']} shared with a {what} at {via['agency']} "
                      f"({via['pointer'][:12]}...)")
    return "; ".join(routes)


def print_search(data: dict[str, Any]) -> None:
    pointers = data["pointers"]
    if pointers:
        table = Table(title=f"{len(pointers)} pointer(s)", title_justify="left")
        for col in ("agency", "record type", "month", "strength", "why"):
            table.add_column(col)
        table.add_column("pointer", no_wrap=True, overflow="fold")
        for p in pointers:
            table.add_row(p["agency"], p["record_type"], p["month"], p["strength"],
                          p["why"] or ", ".join(p["matched"]), p["handle"])
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
    linked = data.get("linked", [])
    if linked:
        handles = {p["handle"]: p for p in [*pointers, *linked]}
        table = Table(title=f"{len(linked)} linked pointer(s) from the sweep: the shared "
                            "identifier stays hidden until a release", title_justify="left")
        for col in ("level", "agency", "record type", "month", "strength", "linked by"):
            table.add_column(col)
        table.add_column("pointer", no_wrap=True, overflow="fold")
        for p in linked:
            table.add_row(str(p["depth"]), p["agency"], p["record_type"], p["month"],
                          p["strength"], describe_path(p, handles), p["handle"])
        console.print(table)
    for n in data.get("notices", []):
        console.print(f"[bold yellow]deconfliction:[/] {n['agency_name']} ({n['agency']}) "
                      f"searched the same subject ({', '.join(n['kinds'])}) at "
                      f"{n['searched_at']}; contact: {n['contact']}", highlight=False)
    console.print(f"search {data['search_id']} recorded as audit entry #{data['audit_seq']}")


def identifier_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The identifiers a search (or a watch) can name, as options."""
    for option in reversed((
        click.option("--name", default="", help="Given and family name."),
        click.option("--dob", default="", help="Date of birth (with --name), any common format."),
        click.option("--phone", default="", help="Phone number, any common format."),
        click.option("--email", default="", help="Email address."),
        click.option("--plate", default="", help="Plate with its state, e.g. OR:7KDX214."),
        click.option("--vin", default="", help="Vehicle identification number."),
        click.option("--address", default="", help="Street address, e.g. '12 Oak St'."),
    )):
        command = option(command)
    return command


agreement_option = click.option(
    "--agreement", default="",
    help="The agreement to act under (needed when your agency belongs to more than one).")


@cli.command("search")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your agency's node.toml.")
@click.option("--token", "jwt_text", envvar="ACCORD_TOKEN",
              help="Your JWT (or set ACCORD_TOKEN).")
@click.option("--case", "case_number", required=True, help="Case number.")
@click.option("--purpose", required=True, help="Purpose, e.g. human_trafficking.")
@agreement_option
@identifier_options
@click.option("--depth", type=click.IntRange(1, 3), default=1, show_default=True,
              help="2: also sweep the other identifiers in the records found (phones, "
                   "plates, ...) for linked records, as far as the agreement allows.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def search(config_path: Path, jwt_text: str | None, case_number: str, purpose: str,
           agreement: str, depth: int, as_json: bool, **fields: str) -> None:
    """Search the federation through your own agency's node.

    The node turns what you type into keyed tokens; only tokens go to the hub,
    and other agencies answer with pointers, never with records.

    \b
    Example:
      accord search --config fed/nodes/lakeside_so/node.toml --token "$TOKEN" \\
          --case LS-2026-0117 --purpose human_trafficking \\
          --name "Jazmin Ramirez" --dob 1999-03-04 --depth 2
    """
    if not jwt_text:
        raise InvalidArgument("--token: missing (or set ACCORD_TOKEN)")
    request = node_pb2.LocalSearchRequest(case_number=case_number, purpose=purpose,
                                          agreement=agreement, depth=depth, **fields)
    response = asyncio.run(local_search(config_path, jwt_text.strip(), request))
    data = search_to_dict(response)
    if as_json:
        emit_json(data)
    else:
        print_search(data)


# --- release ------------------------------------------------------------------------------

def print_release(r: dict[str, Any]) -> None:
    console.print(f"release {r['release_id']}: [bold]{r['state']}[/] ({r['record_type']} held by "
                  f"{r['owner']}, case {r['case']}, purpose {r['purpose']}, audit entry "
                  f"#{r['audit_seq']})")
    if r["reasons"]:
        console.print(f"  reasons: {', '.join(r['reasons'])}")
    if r["decided_by"]:
        console.print(f"  decided by {r['decided_by']}: {r['decision_reason']}")


async def gateway_call(config_path: Path, jwt_text: str, method: str, request: Any,
                       timeout: float = 60.0) -> Any:
    """Call our own node's GatewayService (the node holds the keys)."""
    from accord.rpc import call, channel_options
    from accord.v1 import node_pb2_grpc
    from node.config import NodeConfig

    config = NodeConfig.load(config_path)
    async with grpc.aio.secure_channel(config.listen, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        stub = node_pb2_grpc.GatewayServiceStub(channel)
        return await call(getattr(stub, method), request, timeout=timeout,
                          metadata=[("authorization", f"Bearer {jwt_text}")])


async def hub_call(config_path: Path, jwt_text: str, service: str, method: str, request: Any,
                   timeout: float = 60.0) -> Any:
    """Call the hub directly with our agency's certificate (custodians, auditors)."""
    from accord.rpc import call, channel_options
    from accord.v1 import hub_pb2_grpc
    from node.config import NodeConfig

    config = NodeConfig.load(config_path)
    async with grpc.aio.secure_channel(config.hub, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        stub = getattr(hub_pb2_grpc, f"{service}Stub")(channel)
        return await call(getattr(stub, method), request, timeout=timeout,
                          metadata=[("authorization", f"Bearer {jwt_text}")])


def _require_token(jwt_text: str | None) -> str:
    if not jwt_text:
        raise InvalidArgument("--token: missing (or set ACCORD_TOKEN)")
    return jwt_text.strip()


config_option = click.option(
    "--config", "config_path", required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Your agency's node.toml.")
token_option = click.option("--token", "jwt_text", envvar="ACCORD_TOKEN",
                            help="Your JWT (or set ACCORD_TOKEN).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@cli.group()
def release() -> None:
    """Ask for the record behind a pointer, approve, and collect it."""


@release.command("request")
@config_option
@token_option
@click.option("--pointer", required=True, help="A pointer handle from your search (ptr_...).")
@click.option("--case", "case_number", required=True, help="Case number.")
@click.option("--purpose", required=True, help="Purpose, e.g. human_trafficking.")
@click.option("--justification", required=True, help="Why you need this record.")
@json_option
def release_request(config_path: Path, jwt_text: str | None, pointer: str, case_number: str,
                    purpose: str, justification: str, as_json: bool) -> None:
    """Ask for the record behind a pointer.

    Your node makes a key pair for this release; the record will be encrypted
    to it, so only your node can read it. Some agreements require the owning
    agency's custodian to approve first.

    \b
    Example:
      accord release request --config fed/nodes/lakeside_so/node.toml --pointer ptr_... \\
          --case LS-2026-0117 --purpose human_trafficking --justification "victim ID"
    """
    response = asyncio.run(gateway_call(
        config_path, _require_token(jwt_text), "LocalRequestRelease",
        node_pb2.LocalRequestReleaseRequest(pointer=pointer, case_number=case_number,
                                            purpose=purpose, justification=justification)))
    data = release_to_dict(response.release)
    if as_json:
        emit_json(data)
        return
    print_release(data)
    if data["state"] == "granted":
        console.print(f"  collect it with: accord release fetch {data['release_id']} "
                      f"--config {config_path}")


@release.command("fetch")
@click.argument("release_id")
@config_option
@token_option
@json_option
def release_fetch(release_id: str, config_path: Path, jwt_text: str | None,
                  as_json: bool) -> None:
    """Collect a granted release and show the record (decrypted by your node).

    \b
    Example:
      accord release fetch rel_... --config fed/nodes/lakeside_so/node.toml
    """
    response = asyncio.run(gateway_call(config_path, _require_token(jwt_text),
                                        "LocalFetchRelease",
                                        hub_pb2.FetchReleaseRequest(release_id=release_id)))
    data = release_to_dict(response.release)
    record = json.loads(response.record_json) if response.record_json else None
    # Denied or failed is final: nothing will ever be collected, which a
    # script must not take for success. Pending just means not yet.
    final = record is None and data["state"] in ("denied", "failed")
    if as_json:
        emit_json({"release": data, "record": record, "withheld": list(response.withheld)})
        if final:
            sys.exit(EXIT_ERROR)
        return
    print_release(data)
    if final:
        fail(f"release {release_id} was {data['state']}: there is nothing to collect")
    if record is None:
        waiting = data["state"] == "pending_approval"
        console.print("  nothing to collect yet"
                      + (": the owning agency's custodian has not decided" if waiting else ""))
        return
    console.print_json(json.dumps(record))
    if response.withheld:
        console.print(f"  withheld by the agreement: {', '.join(response.withheld)}")


def _list_releases(config_path: Path, jwt_text: str | None, state: int,
                   as_json: bool) -> None:
    response = asyncio.run(hub_call(config_path, _require_token(jwt_text), "HubService",
                                    "ListReleases",
                                    hub_pb2.ListReleasesRequest(state=state)))  # type: ignore[arg-type]
    rows = [release_to_dict(r) for r in response.releases]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("no releases")
    for r in rows:
        print_release(r)
        console.print(f"  requested by {r['requester']} ({r['requester_agency']}) at "
                      f"{r['requested_at']}: {r['justification']}", markup=False)
        if r["requester_revoked"]:
            console.print("  the requester is revoked at the hub: it cannot be approved "
                          "while the revocation stands")


@release.command("pending")
@config_option
@token_option
@json_option
def release_pending(config_path: Path, jwt_text: str | None, as_json: bool) -> None:
    """Custodians: releases of your agency's records waiting for approval.

    \b
    Example:
      accord release pending --config fed/nodes/tip_hotline/node.toml --token "$CUSTODIAN"
    """
    _list_releases(config_path, jwt_text, common_pb2.RELEASE_STATE_PENDING_APPROVAL, as_json)


@release.command("list")
@config_option
@token_option
@json_option
def release_list(config_path: Path, jwt_text: str | None, as_json: bool) -> None:
    """Your releases (custodians: every release of your agency's records).

    \b
    Example:
      accord release list --config fed/nodes/lakeside_so/node.toml
    """
    _list_releases(config_path, jwt_text, 0, as_json)


def _decide(release_id: str, config_path: Path, jwt_text: str | None, approve: bool,
            reason: str, as_json: bool) -> None:
    from accord.freetext import check_free_text
    from node.config import NodeConfig

    # The hub keeps the reason, in its audit log for good: no identifiers in it.
    check_free_text("--reason", reason, NodeConfig.load(config_path).default_region)
    response = asyncio.run(hub_call(
        config_path, _require_token(jwt_text), "HubService", "DecideRelease",
        hub_pb2.DecideReleaseRequest(release_id=release_id, approve=approve, reason=reason)))
    data = release_to_dict(response.release)
    if as_json:
        emit_json(data)
    else:
        print_release(data)


@release.command("approve")
@click.argument("release_id")
@config_option
@token_option
@click.option("--reason", required=True, help="Why; recorded in the audit log.")
@json_option
def release_approve(release_id: str, config_path: Path, jwt_text: str | None, reason: str,
                    as_json: bool) -> None:
    """Custodians: approve a pending release of your agency's record.

    \b
    Example:
      accord release approve rel_... --config fed/nodes/tip_hotline/node.toml \\
          --token "$CUSTODIAN" --reason "active trafficking case, victim safety"
    """
    _decide(release_id, config_path, jwt_text, True, reason, as_json)


@release.command("deny")
@click.argument("release_id")
@config_option
@token_option
@click.option("--reason", required=True, help="Why; recorded in the audit log.")
@json_option
def release_deny(release_id: str, config_path: Path, jwt_text: str | None, reason: str,
                 as_json: bool) -> None:
    """Custodians: deny a pending release of your agency's record.

    \b
    Example:
      accord release deny rel_... --config fed/nodes/tip_hotline/node.toml \\
          --token "$CUSTODIAN" --reason "source safety"
    """
    _decide(release_id, config_path, jwt_text, False, reason, as_json)


# --- watches ------------------------------------------------------------------------------


def print_watches(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("No watches.")
        return
    table = Table(title=f"{len(rows)} watch(es)", title_justify="left")
    for col in ("watch", "state", "case", "label", "watching for", "expires", "hits"):
        table.add_column(col, overflow="fold")
    for w in rows:
        state = w["state"]
        if w["ended_reasons"]:
            state += f" ({', '.join(w['ended_reasons'])})"
        table.add_row(w["watch_id"], state, w["case_number"], w["label"],
                      ", ".join(w["kinds"]), w["expires_at"][:10], str(w["notifications"]))
    console.print(table)


@cli.group()
def watch() -> None:
    """Watches: be told when another agency later ingests a matching record."""


@watch.command("add")
@config_option
@token_option
@click.option("--case", "case_number", required=True, help="Case number.")
@click.option("--purpose", required=True, help="Purpose, e.g. human_trafficking.")
@agreement_option
@identifier_options
@click.option("--days", type=click.IntRange(1, 90), default=30, show_default=True,
              help="How long the watch lasts.")
@click.option("--label", default="", help="A short note for yourself, e.g. \"Jazzy's phone\".")
@json_option
def watch_add(config_path: Path, jwt_text: str | None, case_number: str, purpose: str,
              agreement: str, days: int, label: str, as_json: bool, **fields: str) -> None:
    """Watch for records that match, ingested by any agency from now on.

    Your node turns the identifiers into keyed tokens, as for a search; the hub
    checks the watch against newly ingested records and keeps what it finds as
    notifications (`accord watch notifications`).

    \b
    Example:
      accord watch add --config fed/nodes/lakeside_so/node.toml --case LS-2026-0117 \\
          --purpose human_trafficking --phone "(503) 555-0142" --label "Jazzy's phone"
    """
    response = asyncio.run(gateway_call(
        config_path, _require_token(jwt_text), "LocalAddWatch",
        node_pb2.LocalAddWatchRequest(case_number=case_number, purpose=purpose,
                                      agreement=agreement, days=days, label=label,
                                      **fields)))
    data = watch_to_dict(response.watch)
    if as_json:
        emit_json(data)
    else:
        print_watches([data])


def _label_watches(config_path: Path, watches: Sequence[Any]) -> None:
    """Fill in the labels the node keeps for ``watches`` (the hub holds none).

    Labels are read from the node's database; where it cannot be read (the
    command run on another machine) the watches are shown without them.
    """
    from node.config import NodeConfig
    from node.server import label_watches

    store = _node_store(NodeConfig.load(config_path))
    if store is None:
        return
    try:
        label_watches(store, watches)
    finally:
        store.close()


def _node_store(config: Any) -> Any:
    """The node's store, opened as it is (no migration); None if it cannot be opened."""
    from sqlalchemy.engine import make_url

    from node.store import NodeStore

    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return None
    try:
        return NodeStore.open(config.database_url, auto_migrate=False)
    except Exception:  # an extra the command can do without
        return None


@watch.command("list")
@config_option
@token_option
@click.option("--all", "include_inactive", is_flag=True, help="Expired and removed ones too.")
@json_option
def watch_list(config_path: Path, jwt_text: str | None, include_inactive: bool,
               as_json: bool) -> None:
    """Your watches.

    \b
    Example:
      accord watch list --config fed/nodes/lakeside_so/node.toml --all
    """
    response = asyncio.run(hub_call(config_path, _require_token(jwt_text), "HubService",
                                    "ListWatches",
                                    hub_pb2.ListWatchesRequest(include_inactive=include_inactive)))
    _label_watches(config_path, response.watches)
    rows = [watch_to_dict(w) for w in response.watches]
    if as_json:
        emit_json(rows)
    else:
        print_watches(rows)


@watch.command("remove")
@click.argument("watch_id")
@config_option
@token_option
@json_option
def watch_remove(watch_id: str, config_path: Path, jwt_text: str | None, as_json: bool) -> None:
    """Stop a watch of yours (recorded in the audit log).

    \b
    Example:
      accord watch remove w_3f9c... --config fed/nodes/lakeside_so/node.toml
    """
    response = asyncio.run(hub_call(config_path, _require_token(jwt_text), "HubService",
                                    "RemoveWatch", hub_pb2.RemoveWatchRequest(watch_id=watch_id)))
    _label_watches(config_path, [response.watch])
    data = watch_to_dict(response.watch)
    if as_json:
        emit_json(data)
    else:
        print_watches([data])


@watch.command("notifications")
@config_option
@token_option
@click.option("--since", default="", help="Only newer than this RFC 3339 time.")
@json_option
def watch_notifications(config_path: Path, jwt_text: str | None, since: str,
                        as_json: bool) -> None:
    """What your watches found, and deconfliction notices about your searches.

    A watch match carries a pointer: ask for its release like any other.

    \b
    Example:
      accord watch notifications --config fed/nodes/lakeside_so/node.toml --json
    """
    response = asyncio.run(hub_call(config_path, _require_token(jwt_text), "HubService",
                                    "ListNotifications",
                                    hub_pb2.ListNotificationsRequest(since=since)))
    rows = [notification_to_dict(n) for n in response.notifications]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("No notifications.")
        return
    for n in rows:
        if n["kind"] == "watch_match":
            p = n["pointer"]
            console.print(f"{n['created_at'][:19]}  watch {n['watch_id']} ({n['case_number']}): "
                          f"{p['agency']} holds a {p['record_type'] or 'record'} "
                          f"({p['strength']}) -> pointer {p['handle']}", highlight=False)
        else:
            d = n["deconfliction"]
            console.print(f"{n['created_at'][:19]}  deconfliction ({n['case_number']}): "
                          f"{d['agency_name']} searched the same subject "
                          f"({', '.join(d['kinds'])}); contact: {d['contact']}",
                          highlight=False)


# --- audit --------------------------------------------------------------------------------


@cli.group()
def audit() -> None:
    """Review, export and verify the hub's audit log (auditor role)."""


audit_filters = [
    click.option("--actor", default="", help="Investigator (token subject)."),
    click.option("--agency", default="", help="The investigator's agency."),
    click.option("--case", "case_number", default="", help="Case number."),
    click.option("--purpose", default="", help="Purpose, e.g. human_trafficking."),
    click.option("--event", default="", help="e.g. search, search_denied, release_granted."),
    click.option("--outcome", default="", type=click.Choice(["", "ok", "denied", "error"]),
                 help="Only entries with this outcome."),
    click.option("--since", default="", help="ISO time, e.g. 2026-11-23T00:00:00Z."),
    click.option("--until", default="", help="ISO time: entries before it."),
]


def with_audit_filters(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(audit_filters):
        f = option(f)
    return f


async def _all_entries(config_path: Path, jwt_text: str, filters: dict[str, str]
                       ) -> tuple[list[bytes], str]:
    entries: list[bytes] = []
    start, checkpoint = 1, ""
    while True:
        response = await hub_call(config_path, jwt_text, "AuditService", "ListEntries",
                                  hub_pb2.ListEntriesRequest(start_seq=start, limit=5000,
                                                             **filters))
        entries.extend(response.entries)
        checkpoint = response.checkpoint
        if not response.next_seq:
            return entries, checkpoint
        start = response.next_seq


async def _all_checkpoints(config_path: Path, jwt_text: str) -> list[str]:
    notes: list[str] = []
    start = 1
    while True:
        response = await hub_call(config_path, jwt_text, "AuditService", "ListCheckpoints",
                                  hub_pb2.ListCheckpointsRequest(start_size=start, limit=10000))
        notes.extend(response.checkpoints)
        if not response.next_size:
            return notes
        start = response.next_size


def _filters(**kwargs: str) -> dict[str, str]:
    names = {"case_number": "case_number"}
    return {names.get(k, k): v for k, v in kwargs.items() if v}


@audit.command("list")
@config_option
@token_option
@with_audit_filters
@json_option
def audit_list(config_path: Path, jwt_text: str | None, as_json: bool, **filters: str) -> None:
    """List audit entries, filtered.

    \b
    Example:
      accord audit list --config fed/nodes/lakeside_so/node.toml --token "$AUDITOR" \\
          --case LS-2026-0117
    """
    entries, _ = asyncio.run(_all_entries(config_path, _require_token(jwt_text),
                                          _filters(**filters)))
    docs = [json.loads(e) for e in entries]
    if as_json:
        emit_json(docs)
        return
    table = Table(title=f"{len(docs)} entries", title_justify="left")
    for col in ("#", "time", "event", "outcome", "actor", "agency", "case", "purpose", "reasons"):
        table.add_column(col)
    for d in docs:
        table.add_row(str(d["seq"]), d["time"][:22], d["event"], d["outcome"], d["actor"],
                      d["agency"], d["case"], d["purpose"], ", ".join(d["reasons"]))
    console.print(table)


@audit.command("export")
@config_option
@token_option
@with_audit_filters
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="JSON Lines (verifiable offline) or CSV.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file; for JSON Lines, OUT.checkpoints gets the signed checkpoints.")
def audit_export(config_path: Path, jwt_text: str | None, fmt: str, out: Path,
                 **filters: str) -> None:
    """Export entries as JSON Lines (verifiable offline) or CSV.

    \b
    Example:
      accord audit export --config fed/nodes/lakeside_so/node.toml --token "$AUDITOR" \\
          --out audit.jsonl
      accord audit verify --entries audit.jsonl --hub-key fed/hub/public_key.pem
    """
    import csv

    token = _require_token(jwt_text)
    whole = fmt == "jsonl" and not any(filters.values())
    if whole:
        entries, notes = asyncio.run(_signed_log(config_path, token))
    else:
        entries, _ = asyncio.run(_all_entries(config_path, token, _filters(**filters)))
    if fmt == "jsonl":
        out.write_bytes(b"".join(e + b"\n" for e in entries))
        checkpoints = Path(f"{out}.checkpoints")
        if whole:
            checkpoints.write_text("".join(notes))
        else:
            # A filtered export is a selection, not the log: it cannot be
            # verified as a whole, and an older export's checkpoints must not
            # sit beside it as if they were its own.
            checkpoints.unlink(missing_ok=True)
            console.print("filtered: this export cannot be verified as a whole "
                          "(export without filters to verify)")
    else:
        with out.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["seq", "time", "event", "outcome", "actor", "agency", "roles",
                             "source", "purpose", "case", "reasons", "details"])
            for e in entries:
                d = json.loads(e)
                writer.writerow([_cell(v) for v in (
                    d["seq"], d["time"], d["event"], d["outcome"], d["actor"], d["agency"],
                    " ".join(d["roles"]), d["source"], d["purpose"], d["case"],
                    " ".join(d["reasons"]), json.dumps(d["details"], sort_keys=True))])
    console.print(f"{len(entries)} entries written to {out}")


def _cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _split_notes(text: str) -> list[str]:
    """Signed notes written one after another (each ends with its signature line).

    Raises InvalidArgument for text after the last signature line: a note cut
    short is not silently left out.
    """
    notes: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if not current and not line.strip():
            continue  # blank lines between notes
        current.append(line)
        if line.startswith("\u2014 "):
            notes.append("".join(current))
            current = []
    if current:
        raise InvalidArgument(f"checkpoint {len(notes) + 1}: has no signature line "
                              "(the file is cut short)")
    return notes


async def _signed_log(config_path: Path, jwt_text: str) -> tuple[list[bytes], list[str]]:
    """The log's entries up to its latest signed checkpoint, and its checkpoints."""
    from accord.auditlog import signed_prefix

    notes = await _all_checkpoints(config_path, jwt_text)
    entries, _ = await _all_entries(config_path, jwt_text, {})
    return signed_prefix(entries, notes), notes


def _pinned_by_node(config: Any) -> tuple[tuple[int, bytes] | None, str]:
    """The checkpoint this node accepted (releases pin it), and where it came from."""
    store = _node_store(config)
    if store is None:
        return None, "the node's database could not be read"
    try:
        pinned = store.last_checkpoint()
    except Exception as exc:  # an extra anchor: its absence is reported, never fatal
        return None, f"the node's database could not be read ({type(exc).__name__})"
    finally:
        store.close()
    if pinned is None:
        return None, "the node has accepted no checkpoint yet"
    return pinned, f"the node's accepted checkpoint at size {pinned[0]}"


@audit.command("verify")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Verify the live log, through your agency's node.toml.")
@token_option
@click.option("--entries", "entries_path", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Or verify an export (JSON Lines, with its .checkpoints).")
@click.option("--hub-key", "hub_keys", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The hub's public key; repeat for keys it used before a rotation "
                   "(default with --config: the node's hub keys).")
@click.option("--origin", default=None,
              help="The log's name in its checkpoints (default: the node's log_origin "
                   "with --config, else accord-hub).")
@click.option("--expect-checkpoint", "expected_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint accepted before (see --save-checkpoint): the log must "
                   "contain it, or it was rolled back or forked.")
@click.option("--save-checkpoint", "save_path", type=click.Path(dir_okay=False, path_type=Path),
              help="On success, write the latest verified checkpoint here, for the next "
                   "run's --expect-checkpoint.")
@json_option
def audit_verify(config_path: Path | None, jwt_text: str | None, entries_path: Path | None,
                 hub_keys: tuple[Path, ...], origin: str | None, expected_path: Path | None,
                 save_path: Path | None, as_json: bool) -> None:
    """Recompute the Merkle tree and check every signed checkpoint against it.

    Names the first altered, deleted or reordered entry, and fails for
    entries no signed checkpoint covers. A log cut back to an earlier
    checkpoint still verifies by itself: pin what you accepted before with
    --expect-checkpoint (with --config, the node's own accepted checkpoint
    is pinned too). Needs only the hub's public key.

    \b
    Examples:
      accord audit verify --config fed/nodes/lakeside_so/node.toml --token "$AUDITOR" \\
          --save-checkpoint audit.checkpoint
      accord audit verify --entries audit.jsonl --hub-key fed/hub/public_key.pem \\
          --expect-checkpoint audit.checkpoint
    """
    from accord.auditlog import VerifyReport, verify_log
    from accord.checkpoint import SignedCheckpoint
    from node.server import load_ed25519_public_key

    anchors: list[str] = []
    #: What the log must contain: the node's accepted checkpoint, a saved one.
    pins: list[tuple[int, bytes]] = []
    problem = ""
    notes: list[str] = []
    if entries_path is not None:
        if not hub_keys:
            raise InvalidArgument("--hub-key: needed to verify an export")
        entries = [line for line in entries_path.read_bytes().split(b"\n") if line]
        notes_path = Path(f"{entries_path}.checkpoints")
        if not notes_path.exists():
            problem = (f"{notes_path}: not found; an export is verified against its signed "
                       "checkpoints (a filtered export has none)")
        else:
            try:
                notes = _split_notes(notes_path.read_text())
            except InvalidArgument as exc:
                problem = f"{notes_path}: {exc.message}"
        origin = origin or "accord-hub"
    elif config_path is not None:
        from node.config import NodeConfig

        token = _require_token(jwt_text)
        node_config = NodeConfig.load(config_path)
        # The node's pin before the log: the log only grows, so a pin read first
        # is never ahead of the log read after it (read the other way round, a
        # release in between would look like a rolled-back log).
        pinned, anchor = _pinned_by_node(node_config)
        pins += [pinned] if pinned is not None else []
        anchors.append(anchor)
        entries, notes = asyncio.run(_signed_log(config_path, token))
        if not hub_keys:
            hub_keys = (node_config.hub_public_key, *node_config.hub_previous_public_keys)
        origin = origin or node_config.log_origin
    else:
        raise InvalidArgument("give --config (the live log) or --entries (an export)")
    keys = [load_ed25519_public_key(k) for k in hub_keys]
    signed: list[SignedCheckpoint] = []
    for i, note in enumerate(notes, start=1):
        try:
            signed.append(SignedCheckpoint.from_text(note))
        except InvalidArgument as exc:
            problem = problem or f"checkpoint {i}: malformed: {exc.message}"
    if expected_path is not None and not problem:
        expected = _expected_checkpoint(expected_path, keys, origin)
        if isinstance(expected, str):
            problem = expected
        else:
            # Both pins hold: the node's and the saved one (one larger and
            # consistent with the log does not excuse the other).
            pins.append(expected)
            anchors.append(f"{expected_path} (size {expected[0]})")
    if problem:
        report = VerifyReport().fail(problem, None)
    else:
        report = verify_log(zip(range(1, len(entries) + 1), entries, strict=True), signed,
                            keys, "accord-hub", origin, pinned=pins)
    if report.ok and save_path is not None and signed:
        # The largest verified checkpoint, wherever it is in the list.
        save_path.write_text(max(signed, key=lambda c: c.checkpoint.size).to_text())
    if as_json:
        emit_json({**report.to_dict(), "anchors": anchors})
    elif report.ok:
        console.print(f"[bold green]log verified[/]: {report.entries} entries, "
                      f"{report.checkpoints} signed checkpoints, root {report.root.hex()}")
        console.print("pinned: " + ("; ".join(anchors) if anchors else
                                    "nothing (a log cut back to an earlier checkpoint would "
                                    "also verify; see --expect-checkpoint)"))
        if save_path is not None:
            console.print(f"latest checkpoint saved to {save_path}")
    else:
        console.print(f"[bold red]log does NOT verify[/]: {report.problem}")
    if not report.ok:
        sys.exit(4)


def _expected_checkpoint(path: Path, keys: Sequence[Any], origin: str
                         ) -> tuple[int, bytes] | str:
    """The (size, root) of a saved checkpoint, verified; or what is wrong with it."""
    from accord.checkpoint import SignedCheckpoint, verify_checkpoint

    try:
        cp = verify_checkpoint(SignedCheckpoint.from_text(path.read_text()), keys,
                               "accord-hub", origin)
    except InvalidArgument as exc:
        return f"{path}: not a checkpoint: {exc.message}"
    except CryptoError:
        return f"{path}: not signed by the hub's key for the log {origin!r}"
    return cp.size, cp.root


@audit.command("proof")
@click.argument("seq", type=click.IntRange(1))
@config_option
@token_option
@json_option
def audit_proof(seq: int, config_path: Path, jwt_text: str | None, as_json: bool) -> None:
    """Prove that entry SEQ is in the log under the latest signed checkpoint.

    \b
    Example:
      accord audit proof 3 --config fed/nodes/lakeside_so/node.toml --token "$AUDITOR"
    """
    from accord import merkle
    from accord.checkpoint import SignedCheckpoint, verify_checkpoint
    from node.config import NodeConfig
    from node.server import load_ed25519_public_key

    config = NodeConfig.load(config_path)
    token = _require_token(jwt_text)
    # The one entry, and the latest checkpoint (ListEntries answers with it).
    page = asyncio.run(hub_call(config_path, token, "AuditService", "ListEntries",
                                hub_pb2.ListEntriesRequest(start_seq=seq, limit=1)))
    note = page.checkpoint
    keys = [load_ed25519_public_key(k)
            for k in (config.hub_public_key, *config.hub_previous_public_keys)]
    checkpoint = verify_checkpoint(SignedCheckpoint.from_text(note), keys, "accord-hub",
                                   config.log_origin)
    if not page.entries or seq > checkpoint.size:
        raise InvalidArgument(f"seq: {seq}, the log's latest signed checkpoint covers "
                              f"{checkpoint.size} entries")
    entry = page.entries[0]
    doc = json.loads(entry)
    if doc.get("seq") != seq:
        raise CryptoError()
    response = asyncio.run(hub_call(config_path, token, "LogService", "GetInclusionProof",
                                    hub_pb2.GetInclusionProofRequest(
                                        seq=seq, tree_size=checkpoint.size)))
    merkle.verify_inclusion(merkle.leaf_hash(entry), seq - 1, checkpoint.size,
                            list(response.proof), checkpoint.root)
    data = {"seq": seq, "entry": doc, "tree_size": checkpoint.size,
            "root": checkpoint.root.hex(), "proof": [p.hex() for p in response.proof],
            "checkpoint": note, "verified": True}
    if as_json:
        emit_json(data)
        return
    console.print(f"entry #{seq} is included in the log of {checkpoint.size} entries "
                  f"(root {checkpoint.root.hex()[:16]}..., signed by the hub); "
                  f"proof of {len(response.proof)} hashes verified")


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


def _hub_revocations(config_path: Path | None) -> tuple[Path, tuple[Any, ...]] | None:
    """(file, entries) of a hub config's revocations file, validated; None if it has none."""
    import tomllib

    if config_path is None or "hub" not in tomllib.loads(config_path.read_text()):
        return None
    from hub.config import HubConfig
    from hub.revocations import Revocations

    hub = HubConfig.load(config_path)
    if hub.revocations is None:
        return None
    members = [m.agency for m in hub.members]
    return hub.revocations, Revocations.load(hub.revocations, members).entries


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
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def policy_check(config_path: Path | None, policies: Path | None, agreements: tuple[Path, ...],
                 as_json: bool) -> None:
    """Validate the agreements and compile the policies; errors name file and field.

    With a hub.toml, its revocations file is validated too.

    \b
    Example:
      accord policy check --agreement fed/agreements/local-pilot.yaml
      accord policy check --config fed/hub/hub.toml
    """
    source = _policy_source(config_path, policies, agreements)
    agreement_set, engine = asyncio.run(source.build())
    asyncio.run(engine.close())
    revocations = _hub_revocations(config_path)
    summary: dict[str, Any] = {
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
    if revocations is not None:
        summary["revocations"] = {"file": str(revocations[0]), "entries": len(revocations[1])}
    if as_json:
        emit_json(summary)
        return
    console.print(f"policies in {source.policy_dir} compile ({source.engine.kind})")
    if revocations is not None:
        count = len(revocations[1])
        console.print(f"revocations in {revocations[0]}: {count} "
                      f"entr{'y' if count == 1 else 'ies'}, valid")
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
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
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
      accord policy explain --input search.json --agreement fed/agreements/local-pilot.yaml
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
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the source files and their mappings.")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Random seed: the same seed gives the same data.")
@click.option("--people", type=click.IntRange(10), default=400, show_default=True,
              help="Distinct people the records are about.")
@click.option("--records", "records_per_source", type=click.IntRange(1), default=300,
              show_default=True, help="Records per source file.")
@click.option("--bad-rows", type=click.IntRange(0), default=0, show_default=True,
              help="Malformed rows to mix into each file (to try rejection reports).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
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

    \b
    Example:
      accord demo                      # tells the story, cleans up, exits 0
      accord demo --keep --dir demo    # leaves the federation running
    """
    from accord.cli.demo import run_demo

    sys.exit(run_demo(directory, keep=keep, records=records, console=console))


from accord.cli.bench import bench  # noqa: E402 - the benchmark suite's commands

cli.add_command(bench)


def main() -> None:
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    cli(prog_name="accord")


if __name__ == "__main__":
    main()
