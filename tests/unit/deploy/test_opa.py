"""deploy/opa/: the sidecar's configuration, its API authorization policy, and
make_data.py, which writes the data document the sidecar loads."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from accord.cli.federation import init_federation
from accord.policy.engine import SEARCH, PolicyPoint, RegoEngine, read_policies
from accord.policy.regotest import run_test_file
from hub.config import HubConfig
from node.config import NodeConfig

from .helpers import COMPOSE_DIR, OPA_DIR, POLICIES, load_script, load_yaml

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
make_data = load_script(OPA_DIR / "make_data.py")

#: Top-level keys of OPA's configuration file (openpolicyagent.org/docs/configuration).
OPA_CONFIG_KEYS = {
    "services", "labels", "discovery", "bundles", "decision_logs", "status", "keys",
    "default_decision", "default_authorization_decision", "caching", "distributed_tracing",
    "server", "storage", "plugins", "persistence_directory", "nd_builtin_cache",
}


def test_opa_config_is_valid_yaml_with_known_keys_and_no_decision_logs() -> None:
    config = load_yaml(OPA_DIR / "config.yaml")
    assert set(config) <= OPA_CONFIG_KEYS
    assert config["default_authorization_decision"] == "/system/authz/allow"
    # Decisions are audited by Accord; OPA's own decision log stays off.
    assert "decision_logs" not in config


def test_authz_policy_tests_pass_under_regopy() -> None:
    results = run_test_file(OPA_DIR / "authz_test.rego", OPA_DIR)
    failed = [r for r in results if not r.passed]
    assert results and not failed, failed


def test_authz_policy_stays_out_of_accords_policy_dir() -> None:
    # Accord's engines load every .rego under policies/; the authorizer is OPA's alone.
    assert not list(POLICIES.rglob("authz*.rego"))
    assert {p.name for p in OPA_DIR.glob("*.rego")} == {"authz.rego", "authz_test.rego"}


def test_compose_sidecars_load_our_policies_data_and_authorizer() -> None:
    compose = load_yaml(COMPOSE_DIR / "compose.yaml")
    for name, service in compose["services"].items():
        if "openpolicyagent/opa" not in service["image"]:
            continue
        command = service["command"]
        assert command[:2] == ["run", "--server"]
        assert "--authorization=basic" in command
        assert "--config-file=/opa/config.yaml" in command
        assert {"--ignore=.*", "--ignore=*_test.rego"} <= set(command)
        assert command[-3:] == ["/opa/authz.rego", "/policies", "/opa-data/data.json"]
        targets = {v["target"]: v for v in service["volumes"]}
        assert (COMPOSE_DIR / targets["/policies"]["source"]).resolve() == POLICIES
        assert (COMPOSE_DIR / targets["/opa/authz.rego"]["source"]).resolve() == OPA_DIR / "authz.rego"
        assert (COMPOSE_DIR / targets["/opa/config.yaml"]["source"]).resolve() == OPA_DIR / "config.yaml"
        assert all(v["read_only"] for v in service["volumes"]), name


# --- make_data.py -----------------------------------------------------------------


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fed") / "fed"
    init_federation(root, ("rivertown_pd", "lakeside_so"), NOW, base_port=None)
    node = root / "nodes" / "rivertown_pd" / "node.toml"
    node.write_text(node.read_text().replace(
        'exclude_labels = []', 'exclude_labels = ["victim"]'), encoding="utf-8")
    return root


def test_node_data_is_what_the_node_would_push(federation: Path, tmp_path: Path) -> None:
    config = federation / "nodes" / "rivertown_pd" / "node.toml"
    out = tmp_path / "opa" / "data.json"
    assert make_data.main(["--config", str(config), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data == NodeConfig.load(config, env={}).policy.load()[2]
    assert set(data) == {"agreements", "local"}
    assert data["local"] == {"agency": "rivertown_pd", "exclude_labels": ["victim"],
                             "record_types_withheld": []}
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # the OPA container's user reads it
    assert [p.name for p in out.parent.iterdir()] == ["data.json"]  # no temporary left


def test_hub_data_has_the_agreements_only(federation: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = federation / "hub" / "hub.toml"
    assert make_data.main(["--config", str(config)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == HubConfig.load(config, env={}).policy.load()[2]
    assert list(data) == ["agreements"] and list(data["agreements"]) == ["local-pilot"]


def test_agreement_files_alone(federation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agreement = federation / "agreements" / "local-pilot.yaml"
    assert make_data.main(["--agreement", str(agreement)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(data["agreements"]["local-pilot"]["members"]) == ["lakeside_so", "rivertown_pd"]


def test_the_data_drives_the_policies(federation: Path) -> None:
    data = make_data.data_from_config(federation / "hub" / "hub.toml")
    point = PolicyPoint(RegoEngine(read_policies(POLICIES), data))
    request = {"agreement": "local-pilot", "purpose": "human_trafficking", "case_number": "RT-1",
               "now": NOW.date().isoformat(),
               "principal": {"subject": "det.k", "agency": "lakeside_so", "roles": ["investigator"]}}
    decision = asyncio.run(point.decide(SEARCH, request))
    assert decision.allow, decision.reasons


def test_an_invalid_agreement_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("agreement: Bad Id\n", encoding="utf-8")
    out = tmp_path / "data.json"
    assert make_data.main(["--agreement", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "bad.yaml" in err
    assert not out.exists()


def test_a_config_that_is_neither_hub_nor_node_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "x.toml"
    config.write_text("[tls]\n", encoding="utf-8")
    assert make_data.main(["--config", str(config)]) == 2
    assert "want a hub.toml" in capsys.readouterr().err
