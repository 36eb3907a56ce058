"""deploy/compose/: the compose file against the Compose specification, and its
wiring against the configs, the secrets prepare.py makes and the config loaders."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from cryptography import x509

from hub.config import HubConfig
from node.config import NodeConfig

from .helpers import COMPOSE_DIR, REPO, load_script, load_yaml, place, remap_config, under

SCHEMA = Path(__file__).with_name("schemas") / "compose-spec.json"
#: sha256 of compose-spec.json as shipped in check-jsonschema 0.39.0 (see schemas/README.md).
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

COMPOSE = load_yaml(COMPOSE_DIR / "compose.yaml")
SERVICES: dict[str, Any] = COMPOSE["services"]
prepare = load_script(COMPOSE_DIR / "prepare.py")


def config_target(service: dict[str, Any]) -> str | None:
    for c in service.get("configs", []):
        if c["target"] in ("/etc/accord/hub.toml", "/etc/accord/node.toml"):
            return str(c["target"])
    return None


def long_running(name: str) -> bool:
    return SERVICES[name].get("restart") != "no"


ACCORD = sorted(n for n, s in SERVICES.items() if config_target(s) and long_running(n))
NODES = sorted(n for n in ACCORD if config_target(SERVICES[n]) == "/etc/accord/node.toml")
OPA = sorted(n for n, s in SERVICES.items() if "openpolicyagent/opa" in s["image"])
ONE_SHOTS = sorted(n for n in SERVICES if not long_running(n))


def network_members(network: str) -> set[str]:
    return {n for n, s in SERVICES.items() if network in s.get("networks", [])}


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compose") / "secrets"
    prepare.make_secrets(out, NOW)
    return out


def host_file(source: str, secrets_dir: Path) -> Path:
    """A compose-relative ``file:``/bind source; ./secrets/ comes from prepare.py."""
    if source.startswith("./secrets/"):
        return secrets_dir / source.removeprefix("./secrets/")
    return (COMPOSE_DIR / source).resolve()


def lay_out(name: str, root: Path, secrets_dir: Path) -> Path:
    """Lay out service ``name``'s mounts under ``root``; returns its remapped config file."""
    service = SERVICES[name]
    for c in service.get("configs", []):
        place(root, c["target"], host_file(COMPOSE["configs"][c["source"]]["file"], secrets_dir))
    for s in service.get("secrets", []):
        target = s["target"] if isinstance(s, dict) else s
        source = s["source"] if isinstance(s, dict) else s
        path = target if target.startswith("/") else f"/run/secrets/{target}"
        place(root, path, host_file(COMPOSE["secrets"][source]["file"], secrets_dir))
    for v in service.get("volumes", []):
        if v["type"] == "bind":
            place(root, v["target"], host_file(v["source"], secrets_dir))
        else:
            under(root, v["target"]).mkdir(parents=True, exist_ok=True)
    target = config_target(service)
    assert target is not None
    config = under(root, target)
    remap_config(config, root)
    return config


# --- the specification ----------------------------------------------------------


def test_vendored_schema_is_the_published_copy() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def schema_errors(doc: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_compose_file_follows_the_compose_specification() -> None:
    assert schema_errors(COMPOSE) == []


def test_the_schema_catches_a_misspelt_key() -> None:
    # The check above means something only if the schema refuses mistakes.
    doc = copy.deepcopy(COMPOSE)
    doc["services"]["hub"]["helthcheck"] = doc["services"]["hub"].pop("healthcheck")
    assert any("helthcheck" in e for e in schema_errors(doc))


# --- services -------------------------------------------------------------------


def test_the_layout_is_a_hub_three_nodes_a_sidecar_each_and_postgres() -> None:
    assert ACCORD == ["harbor-pd", "hub", "lakeside-so", "rivertown-pd"]
    assert sorted(f"{n}-opa" for n in ACCORD) == OPA
    assert sorted(f"{n}-opa-data" for n in ACCORD) == ONE_SHOTS
    assert SERVICES["postgres"]["image"] == "postgres:15"


@pytest.mark.parametrize("name", sorted(n for n in SERVICES if long_running(n)))
def test_every_server_has_a_healthcheck_and_a_restart_policy(name: str) -> None:
    service = SERVICES[name]
    check = service.get("healthcheck", {})
    assert not check.get("disable", False), name
    assert check["test"][0] == "CMD" and check["interval"] and check["retries"] >= 3
    assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", ONE_SHOTS)
def test_one_shot_jobs_run_offline_and_their_sidecar_waits_for_them(name: str) -> None:
    service = SERVICES[name]
    assert service["network_mode"] == "none"
    assert service["entrypoint"] == ["python", "/opt/accord/bin/make_data.py"]
    sidecar = SERVICES[name.removesuffix("-data")]
    assert sidecar["depends_on"][name] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", ACCORD)
def test_accord_containers_are_locked_down(name: str) -> None:
    service = SERVICES[name]
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    depends = service["depends_on"]
    assert depends["postgres"] == {"condition": "service_healthy"}
    assert depends[f"{name}-opa"] == {"condition": "service_healthy"}


def test_only_the_hub_is_published() -> None:
    published = sorted(n for n, s in SERVICES.items() if s.get("ports"))
    assert published == ["hub"]
    assert SERVICES["hub"]["ports"] == ["7400:7400"]


@pytest.mark.parametrize("node", NODES)
def test_a_node_shares_networks_only_with_the_hub_its_sidecar_and_postgres(node: str) -> None:
    link, private = f"{node}-link", f"{node}-private"
    assert sorted(SERVICES[node]["networks"]) == sorted([link, private])
    assert network_members(link) == {"hub", node}
    assert network_members(private) == {node, f"{node}-opa", "postgres"}


def test_every_network_but_the_edge_is_internal() -> None:
    for name, network in COMPOSE["networks"].items():
        assert network.get("internal", False) is (name != "edge"), name
    assert network_members("edge") == {"hub"}


def test_the_federation_secret_reaches_nodes_only() -> None:
    holders = sorted(n for n, s in SERVICES.items()
                     if any(_source(x) == "federation_secret" for x in s.get("secrets", [])))
    assert holders == NODES


def test_the_hub_signing_key_reaches_the_hub_only() -> None:
    holders = sorted(n for n, s in SERVICES.items()
                     if any(_source(x) == "hub_signing_key" for x in s.get("secrets", [])))
    assert holders == ["hub"]


def _source(ref: str | dict[str, Any]) -> str:
    return ref if isinstance(ref, str) else str(ref["source"])


# --- references -----------------------------------------------------------------


def test_every_reference_is_defined_and_every_definition_used() -> None:
    used: dict[str, set[str]] = {"configs": set(), "secrets": set(), "networks": set(),
                                 "volumes": set()}
    for service in SERVICES.values():
        used["configs"] |= {_source(c) for c in service.get("configs", [])}
        used["secrets"] |= {_source(s) for s in service.get("secrets", [])}
        used["networks"] |= set(service.get("networks", []))
        used["volumes"] |= {v["source"] for v in service.get("volumes", []) if v["type"] == "volume"}
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES
    for kind, names in used.items():
        assert names == set(COMPOSE[kind]), kind


def test_every_file_it_names_exists_or_is_made_by_prepare(secrets_dir: Path) -> None:
    files = [d["file"] for kind in ("configs", "secrets") for d in COMPOSE[kind].values()]
    files += [v["source"] for s in SERVICES.values() for v in s.get("volumes", [])
              if v["type"] == "bind"]
    for source in files:
        assert host_file(source, secrets_dir).exists(), source
    for service in SERVICES.values():
        if "build" in service:
            context = (COMPOSE_DIR / service["build"]["context"]).resolve()
            assert context == REPO
            assert (context / service["build"]["dockerfile"]).is_file()


def test_secrets_come_only_from_the_ignored_secrets_folder() -> None:
    assert all(s["file"].startswith("./secrets/") for s in COMPOSE["secrets"].values())
    assert "/secrets/" in (COMPOSE_DIR / ".gitignore").read_text().splitlines()


# --- configs as the containers see them -------------------------------------------


@pytest.mark.parametrize("name", ACCORD)
def test_configs_load_as_mounted(name: str, secrets_dir: Path, tmp_path: Path) -> None:
    config_file = lay_out(name, tmp_path, secrets_dir)
    if name == "hub":
        config: HubConfig | NodeConfig = HubConfig.load(config_file, env={})
        assert config.signing_key.is_file()
        assert sorted(m.agency for m in config.members) == sorted(
            n.replace("-", "_") for n in NODES)
    else:
        config = NodeConfig.load(config_file, env={})
        assert config.agency == name.replace("-", "_")
        assert len(config.read_secret()) == 32
        assert config.hub_public_key.is_file()
        assert config.hub == "hub:7400"
    for path in (config.tls.ca_cert, config.tls.cert, config.tls.key):
        assert path.is_file(), path
    assert config.log_file == Path("/dev/stdout")
    assert config.metrics_listen == ("0.0.0.0:9400" if name == "hub" else "0.0.0.0:9401")
    assert config.data_dir == tmp_path / "var/lib/accord"
    engine = config.policy.engine
    assert (engine.kind, engine.opa_host, engine.opa_port, engine.opa_push) == (
        "opa", f"{name}-opa", 8181, False)
    # The sidecar it names is reachable: they share a network.
    assert set(SERVICES[name]["networks"]) & set(SERVICES[f"{name}-opa"]["networks"])
    _agreements, modules, _data = config.policy.load()
    assert sorted(modules) == ["accord/pointer.rego", "accord/release.rego",
                               "accord/scope.rego", "accord/search.rego"]


@pytest.mark.parametrize("name", ACCORD)
def test_database_url_and_password_file_agree(name: str, secrets_dir: Path,
                                              tmp_path: Path) -> None:
    config_file = lay_out(name, tmp_path, secrets_dir)
    loaded = (HubConfig if name == "hub" else NodeConfig).load(config_file, env={})
    url = urlsplit(loaded.database_url)
    component = name.replace("-", "_")
    assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
    assert url.username == url.path.lstrip("/") == f"accord_{component}"
    assert url.password is None  # never inline
    (passfile,) = parse_qs(url.query)["passfile"]
    line = Path(passfile).read_text().strip()
    host, port, db, user, password = line.split(":")
    assert (host, int(port), db, user) == ("postgres", 5432, url.path.lstrip("/"), url.username)
    # PostgreSQL creates the role with the same password.
    assert (secrets_dir / "postgres" / f"{component}_password").read_text() == password
    assert stat.S_IMODE(Path(passfile).stat().st_mode) == 0o600  # libpq ignores looser files


def test_postgres_creates_every_database_the_configs_use() -> None:
    postgres = SERVICES["postgres"]
    components = postgres["environment"]["ACCORD_DATABASES"].split()
    assert sorted(components) == sorted(n.replace("-", "_") for n in ACCORD)
    mounted = {_source(s) for s in postgres["secrets"]}
    assert mounted == {"postgres_password"} | {f"pg_password_{c}" for c in components}
    script = (COMPOSE_DIR / "postgres" / "init-databases.sh").read_text()
    assert "/run/secrets/pg_password_${component}" in script
    assert 'name="accord_${component}"' in script


# --- identities ---------------------------------------------------------------------


def _dns_names(cert_file: Path) -> list[str]:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [*san.get_values_for_type(x509.UniformResourceIdentifier),
            *san.get_values_for_type(x509.DNSName)]


def test_agreement_endpoints_are_the_node_services(secrets_dir: Path) -> None:
    agreement = load_yaml(COMPOSE_DIR / "config" / "agreements" / "compose-pilot.yaml")
    for agency, member in agreement["members"].items():
        host, _, port = member["node"]["endpoint"].rpartition(":")
        assert host in NODES and host == agency.replace("_", "-")
        node = load_toml(COMPOSE_DIR / "config" / "nodes" / f"{agency}.toml")
        assert node["node"]["listen"].rpartition(":")[2] == port
        # The hub dials the endpoint's host name: the node's certificate must carry it.
        names = _dns_names(secrets_dir / "nodes" / agency / "tls.pem")
        assert {f"accord:agency:{agency}", host, "localhost"} <= set(names)
    assert {"accord:hub", "hub", "localhost"} <= set(_dns_names(secrets_dir / "hub" / "tls.pem"))


def load_toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


# --- prepare.py -----------------------------------------------------------------------


def _files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


def test_prepare_keeps_private_files_private(secrets_dir: Path) -> None:
    public = {"ca.pem", "tls.pem", "public_key.pem", "idp.toml"}
    for path in _files(secrets_dir):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o644 if path.name in public else 0o600), path


def test_prepare_refuses_to_overwrite_existing_secrets(secrets_dir: Path) -> None:
    before = (secrets_dir / "federation.key").read_bytes()
    with pytest.raises(FileExistsError, match="--force"):
        prepare.make_secrets(secrets_dir, NOW)
    assert (secrets_dir / "federation.key").read_bytes() == before


def test_prepare_main_reports_an_existing_folder(secrets_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert prepare.main(["--out", str(secrets_dir)]) == 1
    assert "--force" in capsys.readouterr().err


def test_dev_identity_providers_issue_tokens_the_agreement_accepts(secrets_dir: Path) -> None:
    from accord.identity import DevIdentityProvider

    agreement = load_yaml(COMPOSE_DIR / "config" / "agreements" / "compose-pilot.yaml")
    for agency, member in agreement["members"].items():
        idp = DevIdentityProvider.load(secrets_dir / "idp" / agency, agency)
        assert idp.issuer == member["identity_provider"]["issuer"]
        assert list(member["identity_provider"]["keys"]) == [idp.kid]
