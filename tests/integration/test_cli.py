"""The `accord` command: what a custodian or investigator types, and what they see."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import jwt
import pytest
from click.testing import CliRunner

from accord.cli.main import cli
from accord.identity import DevIdentityProvider, TokenVerifier
from hub.config import HubConfig
from node.config import NodeConfig
from node.store import NodeStore
from tests.conftest import NOW

AGENCIES = "rivertown_pd,lakeside_so,harbor_pd"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def init(tmp_path: Path) -> Path:
    code, out, err = run("federation", "init", str(tmp_path / "fed"), "--agencies", AGENCIES,
                         "--base-port", "0", "--json")
    assert code == 0, err
    return Path(json.loads(out)["directory"])


def test_federation_init_writes_a_loadable_federation(tmp_path: Path) -> None:
    root = init(tmp_path)
    hub = HubConfig.load(root / "hub" / "hub.toml")
    assert sorted(m.agency for m in hub.members) == sorted(AGENCIES.split(","))
    agreement = hub.agreements.get("local-pilot")
    assert agreement is not None
    assert tuple(agreement.members) == tuple(AGENCIES.split(","))
    for agency in AGENCIES.split(","):
        node = NodeConfig.load(root / "nodes" / agency / "node.toml")
        assert node.hub == hub.listen
        assert len(node.read_secret()) == 32
        assert [k.agreement for k in node.keyring().all()] == ["local-pilot"]
    # The hub's config must not reference the federation secret.
    assert "federation" not in (root / "hub" / "hub.toml").read_text()
    for private in ("secrets/federation.key", "ca/ca.key", "hub/tls/hub.key",
                    "hub/signing_key.pem", "idp/lakeside_so/signing_key.pem"):
        assert (root / private).stat().st_mode & 0o777 == 0o600, private


def test_federation_init_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    code, _, err = run("federation", "init", str(tmp_path / "f"), "--agencies", "only_one")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: --agencies: got 'only_one', want at least two, comma-separated"
    ]
    code, _, err = run("federation", "init", str(tmp_path / "f"), "--agencies", "a_pd,B-PD")
    assert code == 2 and "'B-PD' is not a valid id" in err
    init(tmp_path)
    code, _, err = run("federation", "init", str(tmp_path / "fed"), "--agencies", AGENCIES)
    assert code == 2 and "exists and is not empty" in err


def test_token_issue_mints_a_token_the_hub_accepts(tmp_path: Path) -> None:
    root = init(tmp_path)
    code, out, _ = run("token", "issue", "--idp", str(root / "idp" / "lakeside_so"),
                       "--sub", "det.morales", "--json")
    assert code == 0
    data = json.loads(out)
    claims = jwt.decode(data["token"], options={"verify_signature": False})
    assert (claims["sub"], claims["agency"], claims["roles"]) == (
        "det.morales", "lakeside_so", ["investigator"])
    hub = HubConfig.load(root / "hub" / "hub.toml")
    verifier = TokenVerifier({m.issuer.issuer: m.issuer for m in hub.members})
    import datetime as dt
    principal = verifier.verify(data["token"], dt.datetime.now(dt.UTC))
    assert principal.subject == "det.morales"
    # What a revocation of this one token names, and what issued_before compares.
    assert data["jti"] == claims["jti"] == principal.token_id
    assert data["issued_at"] == principal.issued_at.isoformat()  # type: ignore[union-attr]


def test_token_issue_refuses_unknown_roles(tmp_path: Path) -> None:
    root = init(tmp_path)
    code, _, err = run("token", "issue", "--idp", str(root / "idp" / "lakeside_so"),
                       "--sub", "x", "--role", "root")
    assert code == 2 and "roles: got ['root']" in err
    # A token the hub would refuse as malformed is not made.
    code, _, err = run("token", "issue", "--idp", str(root / "idp" / "lakeside_so"),
                       "--sub", "det\x01x")
    assert code == 2 and "subject: got 'det\\x01x', want printable text" in err


def stored_records(config: Path) -> int:
    """How many records the node of ``config`` (node.toml) holds."""
    store = NodeStore.open(NodeConfig.load(config).database_url)
    try:
        return store.count_records()
    finally:
        store.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ingest_reports_rejected_rows_by_line_and_loads_the_rest(tmp_path: Path,
                                                                 workers: str) -> None:
    root = init(tmp_path)
    config = root / "nodes" / "rivertown_pd" / "node.toml"
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
        'record_type = { value = "cad_call" }\noccurred_on = "date"\n'
        '[[people]]\nrole = { value = "other" }\nname = "name"\nphones = "phone"\n'
    )
    data = tmp_path / "calls.csv"
    data.write_text(
        "id,date,name,phone\n"
        "1,2026-01-02,Ana Lopez,503-555-0101\n"
        "2,not a date,Bo Li,503-555-0102\n"
        "3,2026-01-03,Cy Young,12\n"
        ",2026-01-04,Di Wu,503-555-0104\n"
        "5,2026-01-05,Ed Ng,503-555-0105\n"
    )
    code, out, _ = run("node", "ingest", "--config", str(config), "--mapping", str(mapping),
                       str(data), "--json", "--workers", workers)
    assert code == 3  # some rows were rejected
    report = json.loads(out)[0]
    assert (report["rows"], report["loaded"], report["rejected"]) == (5, 2, 3)
    assert [r["line"] for r in report["rejections"]] == [3, 4, 5]
    assert "occurred_on" in report["rejections"][0]["reason"]
    assert "phone" in report["rejections"][1]["reason"]
    assert "source_id" in report["rejections"][2]["reason"]

    # Again: nothing new, nothing duplicated.
    code, out, _ = run("node", "ingest", "--config", str(config), "--mapping", str(mapping),
                       str(data), "--json")
    again = json.loads(out)[0]
    assert (again["loaded"], again["unchanged"], again["rejected"]) == (0, 2, 3)
    assert stored_records(config) == 2


def test_ingest_of_several_files_checks_every_header_before_loading(tmp_path: Path) -> None:
    # The good file was loaded, its report lost, and the run failed on the second.
    root = init(tmp_path)
    config = root / "nodes" / "rivertown_pd" / "node.toml"
    mapping = tmp_path / "m.toml"
    mapping.write_text('version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
                       'record_type = { value = "cad_call" }\noccurred_on = "date"\n'
                       '[[people]]\nrole = { value = "other" }\nname = "name"\n')
    good = tmp_path / "good.csv"
    good.write_text("id,date,name\n1,2026-01-02,Ana Lopez\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,when,name\n2,2026-01-03,Bo Li\n")
    code, out, err = run("node", "ingest", "--config", str(config), "--mapping", str(mapping),
                         str(good), str(bad))
    assert code == 2 and out == ""  # a file that does not fit its mapping is bad input
    assert "bad.csv" in err and "'date'" in err
    assert stored_records(config) == 0
    code, _, err = run("node", "ingest", "--config", str(config), "--mapping", str(mapping),
                       str(good), "--show-rejected", "-1")
    assert code == 2 and "-1" in err


def test_ingest_with_a_broken_mapping_names_file_and_key(tmp_path: Path) -> None:
    root = init(tmp_path)
    mapping = tmp_path / "bad.toml"
    mapping.write_text('version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
                       'record_type = { value = "cad_call" }\noccurred_on = "date"\n'
                       '[[people]]\nrole = { value = "other" }\nphone = "p"\n')
    data = tmp_path / "x.csv"
    data.write_text("id,date,p\n1,2026-01-01,503-555-0101\n")
    code, _, err = run("node", "ingest", "--config",
                       str(root / "nodes" / "rivertown_pd" / "node.toml"),
                       "--mapping", str(mapping), str(data))
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "bad.toml" in lines[0] and "phones" in lines[0]
    assert "Traceback" not in err


CALLS_MAPPING = ('version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
                 'record_type = { value = "cad_call" }\noccurred_on = "date"\n'
                 '[[people]]\nrole = { value = "other" }\nname = "name"\nphones = "phone"\n')


def test_ingest_with_auto_migrate_false_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    """`auto_migrate = false` holds for ingest as for reindex: the schema is left to `db upgrade`.

    Ingest used to upgrade the empty database's schema itself.
    """
    config = init(tmp_path) / "nodes" / "rivertown_pd" / "node.toml"
    config.write_text(config.read_text().replace("[node]\n", "[node]\nauto_migrate = false\n", 1))
    (tmp_path / "m.toml").write_text(CALLS_MAPPING)
    data = tmp_path / "calls.csv"
    data.write_text("id,date,name,phone\n1,2026-01-02,Ana Lopez,503-555-0101\n")
    ingest = ("node", "ingest", "--config", str(config), "--mapping", str(tmp_path / "m.toml"),
              str(data))
    code, _, err = run(*ingest)
    assert code == 2 and "accord db upgrade" in err
    code, _, err = run("node", "reindex", "--config", str(config))
    assert code == 2 and "accord db upgrade" in err  # as reindex already did
    assert run("db", "upgrade", "--config", str(config))[0] == 0
    code, _, err = run(*ingest)
    assert code == 0, err
    assert stored_records(config) == 1


def test_db_status_says_in_its_exit_code_whether_the_schema_is_current(tmp_path: Path) -> None:
    """0 current, 3 needs `accord db upgrade`, 4 migrated by a newer version: scripts
    and readiness checks can act on it (it used to exit 0 whatever it found)."""
    import sqlalchemy as sa

    config = init(tmp_path) / "nodes" / "rivertown_pd" / "node.toml"
    code, out, _ = run("db", "status", "--config", str(config), "--json")
    status = json.loads(out)
    assert code == 3 and (status["state"], status["current"], status["up_to_date"]) == (
        "no_database", None, False)
    database = Path(status["database"])
    assert not database.exists()  # asking did not create it
    sa.create_engine(f"sqlite:///{database}").connect().close()  # an empty file
    code, out, _ = run("db", "status", "--config", str(config), "--json")
    assert code == 3 and json.loads(out)["state"] == "upgrade_needed"
    assert run("db", "upgrade", "--config", str(config))[0] == 0
    code, out, _ = run("db", "status", "--config", str(config))
    assert code == 0 and "up to date" in out
    engine = sa.create_engine(NodeConfig.load(config).database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeed9999'"))
    engine.dispose()
    code, out, _ = run("db", "status", "--config", str(config), "--json")
    assert code == 4 and json.loads(out)["state"] == "unknown_revision"
    code, _, err = run("db", "upgrade", "--config", str(config))
    assert code == 2 and "does not know" in err and "never downgraded" in err


def test_a_database_that_is_not_there_is_named_not_an_internal_error(tmp_path: Path) -> None:
    """`hub serve` and `db status` on a PostgreSQL that does not answer say so in
    one line (they said "internal error (OperationalError)" and three lines of
    SQLAlchemy)."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = init(tmp_path) / "hub" / "hub.toml"
    config.write_text(config.read_text().replace(
        "[hub]\n", f'[hub]\ndatabase_url = "postgresql://postgres@127.0.0.1:{port}/accord"\n', 1))
    for command in (("hub", "serve"), ("db", "status")):
        code, _, err = run(*command, "--config", str(config))
        assert code == 1, command
        [line] = err.strip().splitlines()  # one line, the driver's reason in it
        assert line.startswith("error: the database is unavailable: "), line
        assert f"port {port} failed: Connection refused" in line, line
        assert line.endswith("(check database_url and that the database is running)"), line
        assert "sqlalche.me" not in line and "internal error" not in line


def test_policy_check_validates_the_hubs_revocations_file(tmp_path: Path) -> None:
    config = init(tmp_path) / "hub" / "hub.toml"
    code, out, _ = run("policy", "check", "--config", str(config), "--json")
    assert code == 0 and json.loads(out)["revocations"]["entries"] == 0
    revocations = config.parent / "revocations.toml"
    revocations.write_text('[[revoke]]\nagency = "lakeside_so"\nsubject = "det.m"\nreason = "r"\n')
    code, out, _ = run("policy", "check", "--config", str(config))
    assert code == 0 and f"revocations in {revocations}: 1 entry, valid" in out
    revocations.write_text('[[revoke]]\nagency = "lakeside_so"\nreason = "r"\n')
    code, _, err = run("policy", "check", "--config", str(config))
    assert (code, err.strip()) == (
        2, f"error: {revocations}: revoke[0]: want exactly one of subject and token_id")


def test_ingest_says_how_many_rejections_its_report_does_not_list(tmp_path: Path) -> None:
    """A report keeps the first 1,000 rejections: the hint and the JSON say so.

    The hint used to promise "--json for all", and the JSON listed 1,000 of
    1,500 with nothing saying the list was cut.
    """
    config = init(tmp_path) / "nodes" / "rivertown_pd" / "node.toml"
    (tmp_path / "m.toml").write_text(CALLS_MAPPING)
    data = tmp_path / "calls.csv"
    data.write_text("id,date,name,phone\n"
                    + "".join(f"{i},bad,Ana,503-555-0101\n" for i in range(1500)))
    ingest = ("node", "ingest", "--config", str(config), "--mapping", str(tmp_path / "m.toml"),
              str(data))
    code, out, _ = run(*ingest, "--show-rejected", "2")
    assert code == 3
    assert out.splitlines()[-1] == (
        "  ... and 1498 more (--show-rejected N or --json lists the first 1000)")
    code, out, _ = run(*ingest, "--show-rejected", "1000")
    assert out.splitlines()[-1] == "  ... and 500 more (a report keeps the first 1000)"
    code, out, _ = run(*ingest, "--json")
    report = json.loads(out)[0]
    assert (report["rejected"], len(report["rejections"]), report["rejections_not_listed"]) == (
        1500, 1000, 500)
    assert report["rejections"][-1]["line"] == 1001  # the first 1000, in file order

def test_search_without_a_running_node_is_one_clear_line(tmp_path: Path) -> None:
    root = init(tmp_path)
    idp = DevIdentityProvider.load(root / "idp" / "lakeside_so", "lakeside_so")
    code, _, err = run("search", "--config", str(root / "nodes" / "lakeside_so" / "node.toml"),
                       "--token", idp.issue("det.a", ("investigator",), NOW),
                       "--case", "C-1", "--purpose", "human_trafficking",
                       "--phone", "503-555-0142")
    assert code == 1
    assert err.strip().startswith("error: unavailable:")
    assert len(err.strip().splitlines()) == 1


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_has_help_with_an_example_and_every_option_a_help_text() -> None:
    commands = _commands(cli)
    assert len(commands) >= 29  # the walk found the whole tree
    for args in commands:
        code, out, _ = run(*args, "--help")
        assert code == 0
        assert "Example" in out, args
    for args in commands:
        command = cli
        for name in args:
            command = command.commands[name]  # type: ignore[attr-defined]
        bare = [p.name for p in command.params
                if isinstance(p, click.Option) and not p.help and p.name != "help"]
        assert bare == [], args


def test_demo_tells_the_story_and_exits_zero(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "accord.cli.main", "demo", "--dir", str(tmp_path / "demo"),
         "--records", "60"],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "rivertown_pd holds a cad_call" in out
    assert "Demo complete." in out
    assert "rejected line" in out or "rejected" in out
    assert "audit entry #" in out
    assert "the leaked token, still unexpired: refused (unauthenticated: invalid token)" in out
    # The revocation and its refusal are in the demo's audit log.
    import sqlalchemy as sa

    hub_db = tmp_path / "demo" / "federation" / "hub" / "hub.db"
    engine = sa.create_engine(f"sqlite:///{hub_db}")
    with engine.connect() as conn:
        events = set(conn.execute(sa.text("SELECT event FROM audit_entries")).scalars())
        reasons = conn.execute(sa.text(
            "SELECT entry FROM audit_entries WHERE event = 'auth_failed'")).scalars().all()
    engine.dispose()
    assert "revocations_changed" in events
    assert any(b"token_revoked" in bytes(r) for r in reasons)


def test_csv_export_cells_cannot_run_as_formulas() -> None:
    from accord.cli.main import _cell

    assert [_cell(v) for v in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "det.a", 7)] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "det.a", 7]
