"""deploy/k8s/: every manifest against the Kubernetes JSON schemas
(kubernetes-validate, offline), and the layout's wiring: references,
security contexts, probes, network policies, and the configs as the pods see them."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from kubernetes_validate.utils import latest_version

from accord.identity import DevIdentityProvider
from accord.policy.engine import read_policies
from accord.tls import HUB_IDENTITY, CertificateAuthority, agency_identity
from hub.config import HubConfig
from node.config import NodeConfig

from .helpers import K8S_DIR, REPO, load_script, load_yaml, load_yaml_all, remap_config, under

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
#: The oldest Kubernetes we support, and the newest kubernetes-validate knows.
VERSIONS = ("1.30.0", latest_version())

KUSTOMIZATION = load_yaml(K8S_DIR / "kustomization.yaml")
#: Files that are not in the kustomization on purpose.
EXTRA = ("secrets.example.yaml", "hub/service-external.yaml")
sync_files = load_script(K8S_DIR / "sync_files.py")


def documents(relative: str) -> list[dict[str, Any]]:
    return load_yaml_all(K8S_DIR / relative)


RESOURCES = [d for f in KUSTOMIZATION["resources"] for d in documents(f)]
SECRETS = {d["metadata"]["name"]: d for d in documents("secrets.example.yaml")}


def _generator_files(entry: dict[str, Any]) -> dict[str, Path]:
    out = {}
    for spec in entry["files"]:
        key, _, path = spec.rpartition("=")
        out[key or Path(path).name] = K8S_DIR / path
    return out


GENERATED = {e["name"]: _generator_files(e) for e in KUSTOMIZATION["configMapGenerator"]}


def config_map(name: str) -> dict[str, Any]:
    """The ConfigMap kustomize generates (without its hash suffix)."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": KUSTOMIZATION["namespace"]},
            "data": {k: p.read_text(encoding="utf-8") for k, p in GENERATED[name].items()}}


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in RESOURCES if d["kind"] == kind}


WORKLOADS = {**by_kind("Deployment"), **by_kind("StatefulSet")}
ACCORD_WORKLOADS = {"accord-hub": "hub", "accord-node-rivertown-pd": "node"}


def pod_spec(name: str) -> dict[str, Any]:
    return WORKLOADS[name]["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def containers(name: str, *, init: bool = True) -> list[dict[str, Any]]:
    spec = pod_spec(name)
    return [*(spec.get("initContainers", []) if init else []), *spec["containers"]]


def pod_labels(name: str) -> dict[str, str]:
    return WORKLOADS[name]["spec"]["template"]["metadata"]["labels"]  # type: ignore[no-any-return]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and In/NotIn/Exists)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        value, op = labels.get(e["key"]), e["operator"]
        if ((op == "In" and value not in e["values"]) or (op == "NotIn" and value in e["values"])
                or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None)):
            return False
    return True


# --- schemas ---------------------------------------------------------------------------

ALL_DOCS = [*RESOURCES, *documents("secrets.example.yaml"), *documents("hub/service-external.yaml"),
            *(config_map(n) for n in GENERATED)]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("doc", ALL_DOCS, ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_validates_against_the_kubernetes_schema(doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_catches_a_misplaced_field() -> None:
    doc = load_yaml(K8S_DIR / "hub" / "pdb.yaml")
    doc["spec"]["minAvailabel"] = 2
    with pytest.raises(kubernetes_validate.ValidationError, match="minAvailabel"):
        kubernetes_validate.validate(doc, VERSIONS[0], strict=True)


# --- kustomization ------------------------------------------------------------------------


def test_kustomization_names_files_that_exist() -> None:
    for resource in KUSTOMIZATION["resources"]:
        assert (K8S_DIR / resource).is_file(), resource
    for files in GENERATED.values():
        for path in files.values():
            assert path.is_file(), path
    listed = set(KUSTOMIZATION["resources"])
    assert not listed & set(EXTRA)  # kubectl apply -k must never write placeholder keys
    on_disk = {str(p.relative_to(K8S_DIR)) for p in K8S_DIR.rglob("*.yaml")
               if p.parts[len(K8S_DIR.parts)] not in ("config", "files")}
    assert on_disk == listed | set(EXTRA) | {"kustomization.yaml"}


def test_copies_match_their_originals() -> None:
    for copy, original in sync_files.originals().items():
        assert copy.is_file() and copy.read_bytes() == original.read_bytes(), (
            f"{copy.relative_to(REPO)} differs from {original.relative_to(REPO)}: "
            "run python deploy/k8s/sync_files.py")
    policies = {p.name for p in (REPO / "policies" / "accord").glob("*.rego")
                if not p.name.endswith("_test.rego")}
    assert set(GENERATED["accord-policies"]) == policies, (
        "accord-policies in kustomization.yaml must list every policy; "
        "python deploy/k8s/sync_files.py prints them")


# --- references ------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_every_volume_secret_and_key_it_uses_is_defined(workload: str) -> None:
    spec = pod_spec(workload)
    volumes = {v["name"]: v for v in spec["volumes"]}
    claims = {c["metadata"]["name"] for c in WORKLOADS[workload]["spec"].get("volumeClaimTemplates", [])}
    mounted = set()
    for container in containers(workload):
        for mount in container.get("volumeMounts", []):
            assert mount["name"] in volumes or mount["name"] in claims, mount
            mounted.add(mount["name"])
            if "subPath" in mount:
                assert mount["subPath"] in keys_of(volumes[mount["name"]]), mount
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in SECRETS[ref["name"]]["stringData"], ref
    assert set(volumes) | claims == mounted  # nothing declared and left unused
    for volume in volumes.values():
        keys = keys_of(volume)
        for item in (volume.get("configMap") or volume.get("secret") or {}).get("items", []):
            assert item["key"] in keys, item


def keys_of(volume: dict[str, Any]) -> set[str]:
    if "configMap" in volume:
        return set(GENERATED[volume["configMap"]["name"]])
    if "secret" in volume:
        return set(SECRETS[volume["secret"]["secretName"]]["stringData"])
    return set()


def test_services_select_pods_and_target_named_ports() -> None:
    for name, service in by_kind("Service").items():
        targets = [w for w in WORKLOADS if selects({"matchLabels": service["spec"]["selector"]},
                                                   pod_labels(w))]
        assert len(targets) == 1, name
        ports = {p["name"] for c in containers(targets[0], init=False) for p in c.get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports, name


# --- hardening -------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_pods_run_as_non_root_without_privileges(workload: str) -> None:
    spec = pod_spec(workload)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in containers(workload):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert set(resources[kind]) == {"cpu", "memory"}, (container["name"], kind)


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_every_server_has_readiness_and_liveness_probes(workload: str) -> None:
    for container in containers(workload, init=False):
        assert "readinessProbe" in container and "livenessProbe" in container, container["name"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert "grpc" not in container.get(probe, {}), "kubelet's grpc probe cannot do mTLS"


@pytest.mark.parametrize(("workload", "kind"), sorted(ACCORD_WORKLOADS.items()))
def test_accord_probes_use_the_mtls_healthcheck(workload: str, kind: str) -> None:
    (accord,) = [c for c in containers(workload, init=False) if c["name"] == kind]
    check = ["python", "/opt/accord/bin/healthcheck.py", "--config", f"/etc/accord/{kind}.toml"]
    assert accord["readinessProbe"]["exec"]["command"] == check
    assert accord["livenessProbe"]["exec"]["command"] == [*check, "--liveness"]
    assert accord["startupProbe"]["exec"]["command"] == [*check, "--liveness"]
    assert f"/etc/accord/{kind}.toml" in {m["mountPath"] for m in accord["volumeMounts"]}


def test_the_hub_runs_three_replicas_and_keeps_two_through_disruptions() -> None:
    hub = WORKLOADS["accord-hub"]
    assert hub["spec"]["replicas"] == 3
    assert hub["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (pdb,) = by_kind("PodDisruptionBudget").values()
    assert pdb["spec"]["minAvailable"] == 2
    assert selects(pdb["spec"]["selector"], pod_labels("accord-hub"))
    assert not selects(pdb["spec"]["selector"], pod_labels("accord-node-rivertown-pd"))


def test_the_node_is_a_stateful_set_with_a_volume_and_a_headless_service() -> None:
    node = WORKLOADS["accord-node-rivertown-pd"]
    assert node["kind"] == "StatefulSet"
    (claim,) = node["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    (mount,) = [m for m in containers("accord-node-rivertown-pd", init=False)[0]["volumeMounts"]
                if m["name"] == "data"]
    assert mount["mountPath"] == "/var/lib/accord"
    service = by_kind("Service")[node["spec"]["serviceName"]]
    assert service["spec"]["clusterIP"] == "None"


def test_only_nodes_hold_the_federation_secret() -> None:
    holders = sorted(w for w in WORKLOADS if any(
        v.get("secret", {}).get("secretName") == "accord-federation-secret"
        for v in pod_spec(w)["volumes"]))
    assert holders == ["accord-node-rivertown-pd"]


def test_placeholders_are_never_keys() -> None:
    for secret in SECRETS.values():
        for value in secret["stringData"].values():
            assert value.startswith("PLACEHOLDER") and "BEGIN" not in value
    for path in (K8S_DIR / "config").rglob("*.pem"):
        assert path.read_text().startswith("PLACEHOLDER"), path


# --- network policies --------------------------------------------------------------------------


POLICIES = by_kind("NetworkPolicy")


def ingress_rules_for(labels: dict[str, str]) -> list[dict[str, Any]]:
    return [rule for p in POLICIES.values() if selects(p["spec"]["podSelector"], labels)
            for rule in p["spec"].get("ingress", [])]


def test_everything_is_denied_unless_allowed() -> None:
    deny = POLICIES["accord-default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_nodes_accept_only_the_hub_on_their_grpc_port() -> None:
    rules = [r for r in ingress_rules_for(pod_labels("accord-node-rivertown-pd"))
             if any(p["port"] == 7401 for p in r["ports"])]
    assert len(rules) == 1
    (source,) = rules[0]["from"]
    assert set(source) == {"podSelector"}
    assert selects(source["podSelector"], pod_labels("accord-hub"))
    assert not selects(source["podSelector"], pod_labels("accord-node-rivertown-pd"))
    # Whatever else reaches a node (Prometheus) reaches only the metrics ports.
    for rule in ingress_rules_for(pod_labels("accord-node-rivertown-pd")):
        assert {p["port"] for p in rule["ports"]} in ({7401}, {9400, 9401})


def test_the_hub_accepts_nodes_and_listed_addresses_only() -> None:
    rules = [r for r in ingress_rules_for(pod_labels("accord-hub"))
             if any(p["port"] == 7400 for p in r["ports"])]
    (rule,) = rules
    for source in rule["from"]:
        if "podSelector" in source:
            assert selects(source["podSelector"], pod_labels("accord-node-rivertown-pd"))
            assert not selects(source["podSelector"], pod_labels("accord-postgres"))
        else:
            assert set(source) == {"ipBlock"}


def test_postgres_serves_the_hub_and_nodes_only() -> None:
    (rule,) = ingress_rules_for(pod_labels("accord-postgres"))
    (source,) = rule["from"]
    for workload in WORKLOADS:
        assert selects(source["podSelector"], pod_labels(workload)) is (workload in ACCORD_WORKLOADS)


# --- OPA sidecars ---------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", sorted(ACCORD_WORKLOADS))
def test_the_sidecar_loads_flat_policies_the_authorizer_and_the_init_containers_data(
        workload: str) -> None:
    spec = pod_spec(workload)
    (opa,) = [c for c in spec["containers"] if c["name"] == "opa"]
    args = opa["args"]
    assert "--addr=127.0.0.1:8181" in args and "--authorization=basic" in args
    assert {"--ignore=.*", "--ignore=*_test.rego", "--config-file=/opa/config/config.yaml"} <= set(args)
    assert args[-3:] == ["/opa/config/authz.rego", "/policies", "/opa-data/data.json"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in opa["volumeMounts"]}
    assert "items" not in volumes[mounts["/policies"]]["configMap"]
    assert volumes[mounts["/opa/config"]]["configMap"]["name"] == "accord-opa"
    (init,) = [c for c in spec["initContainers"] if c["name"] == "opa-data"]
    out = init["args"][init["args"].index("--out") + 1]
    data_volume = next(m["name"] for m in init["volumeMounts"] if out.startswith(m["mountPath"]))
    assert mounts["/opa-data"] == data_volume and "emptyDir" in volumes[data_volume]


def kubelet_volume(root: Path, files: dict[str, str]) -> None:
    """Lay out a ConfigMap volume as kubelet does: a hidden timestamped folder,
    ``..data`` pointing at it, and a symlink per top-level entry."""
    stamp = root / "..2026_11_23_12_00_00.000000000"
    for path, text in files.items():
        (stamp / path).parent.mkdir(parents=True, exist_ok=True)
        (stamp / path).write_text(text, encoding="utf-8")
    (root / "..data").symlink_to(stamp.name)
    for top in {p.split("/")[0] for p in files}:
        (root / top).symlink_to(f"..data/{top}")


def test_accord_reads_each_policy_once_from_the_nested_configmap_layout(tmp_path: Path) -> None:
    data = config_map("accord-policies")["data"]
    volume = {v["name"]: v for v in pod_spec("accord-hub")["volumes"]}["policies"]["configMap"]
    kubelet_volume(tmp_path / "nested", {i["path"]: data[i["key"]] for i in volume["items"]})
    assert len(read_policies(tmp_path / "nested")) == len(data)
    # The flat layout loads each module once too: hidden entries are skipped.
    kubelet_volume(tmp_path / "flat", dict(data))
    assert len(read_policies(tmp_path / "flat")) == len(data)


# --- configs as the pods see them -------------------------------------------------------------------


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], bytes]:
    """Real key material for every placeholder, by (ConfigMap or Secret name, key)."""
    ca = CertificateAuthority.create("test CA", NOW)
    hub_cert, hub_key = ca.issue(HUB_IDENTITY, NOW, hosts=("accord-hub",))
    node_cert, node_key = ca.issue(agency_identity("rivertown_pd"), NOW)
    signing = ed25519.Ed25519PrivateKey.generate()
    out = {
        ("accord-hub-tls", "tls.crt"): hub_cert, ("accord-hub-tls", "tls.key"): hub_key,
        ("accord-hub-tls", "ca.crt"): ca.cert_pem,
        ("accord-node-rivertown-pd-tls", "tls.crt"): node_cert,
        ("accord-node-rivertown-pd-tls", "tls.key"): node_key,
        ("accord-node-rivertown-pd-tls", "ca.crt"): ca.cert_pem,
        ("accord-hub-signing-key", "signing_key.pem"): signing.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()),
        ("accord-hub-public-key", "hub_public_key.pem"): signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        ("accord-federation-secret", "federation.key"): os.urandom(32),
    }
    for agency in ("rivertown_pd", "lakeside_so", "harbor_pd"):
        out[("accord-agreements", f"idp-{agency}.pem")] = DevIdentityProvider.create(agency).public_pem
    return out


def lay_out_pod(workload: str, kind: str, root: Path,
                material: dict[tuple[str, str], bytes]) -> Path:
    """Lay out the Accord container's mounts under ``root``; returns its remapped config."""
    volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
    (container,) = [c for c in containers(workload, init=False) if c["name"] == kind]
    for mount in container["volumeMounts"]:
        volume = volumes.get(mount["name"], {})
        if "configMap" in volume:
            name = volume["configMap"]["name"]
            contents = {k: material.get((name, k)) or p.read_bytes()
                        for k, p in GENERATED[name].items()}
            items = volume["configMap"].get("items")
        elif "secret" in volume:
            name = volume["secret"]["secretName"]
            contents = {k: material.get((name, k)) or v.encode()
                        for k, v in SECRETS[name]["stringData"].items()}
            items = volume["secret"].get("items")
        else:
            under(root, mount["mountPath"]).mkdir(parents=True, exist_ok=True)
            continue
        paths = {i["path"]: i["key"] for i in items} if items else {k: k for k in contents}
        if "subPath" in mount:
            paths = {"": mount["subPath"]}
        for path, key in paths.items():
            target = under(root, mount["mountPath"]) / path if path else under(root, mount["mountPath"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(contents[key])
    config = under(root, f"/etc/accord/{kind}.toml")
    remap_config(config, root)
    return config


@pytest.mark.parametrize(("workload", "kind"), sorted(ACCORD_WORKLOADS.items()))
def test_configs_load_as_mounted(workload: str, kind: str, tmp_path: Path,
                                 material: dict[tuple[str, str], bytes]) -> None:
    config_file = lay_out_pod(workload, kind, tmp_path, material)
    config: HubConfig | NodeConfig = (HubConfig if kind == "hub" else NodeConfig).load(
        config_file, env={})
    for path in (config.tls.ca_cert, config.tls.cert, config.tls.key):
        assert path.is_file(), path
    if isinstance(config, HubConfig):
        assert config.signing_key.is_file()
    else:
        assert len(config.read_secret()) == 32 and config.hub_public_key.is_file()
    engine = config.policy.engine
    assert (engine.kind, engine.opa_host, engine.opa_port, engine.opa_push) == (
        "opa", "127.0.0.1", 8181, False)
    assert len(config.policy.load()[1]) == 4
    # The ports the config listens on are the ones the pod declares.
    (container,) = [c for c in containers(workload, init=False) if c["name"] == kind]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert int(config.listen.rpartition(":")[2]) == ports["grpc"]
    assert int(config.metrics_listen.rpartition(":")[2]) == ports["metrics"]
    assert config.log_file == Path("/dev/stdout")
    # The database password comes from the environment, never the URL.
    assert "@" in config.database_url and ":" not in config.database_url.split("//")[1].split("@")[0]
    assert [e["name"] for e in container["env"]] == ["PGPASSWORD"]


def test_the_hub_schema_is_upgraded_before_any_replica_serves() -> None:
    hub = load_yaml_toml(K8S_DIR / "config" / "hub.toml")["hub"]
    assert hub["auto_migrate"] is False
    (migrate,) = [c for c in pod_spec("accord-hub")["initContainers"] if c["name"] == "migrate"]
    assert migrate["command"] == ["accord", "db", "upgrade", "--config", "/etc/accord/hub.toml"]
    assert [e["name"] for e in migrate["env"]] == ["PGPASSWORD"]
    assert pod_spec("accord-hub")["initContainers"][0] is migrate


def test_the_agreement_reaches_the_node_at_its_headless_service() -> None:
    agreement = load_yaml(K8S_DIR / "config" / "agreements" / "k8s-pilot.yaml")
    endpoint = agreement["members"]["rivertown_pd"]["node"]["endpoint"]
    service = by_kind("Service")["accord-node-rivertown-pd"]
    port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "grpc")
    assert endpoint == f"accord-node-rivertown-pd.{KUSTOMIZATION['namespace']}.svc.cluster.local:{port}"
    node = load_yaml_toml(K8S_DIR / "config" / "node.toml")
    assert node["node"]["hub"] == f"accord-hub.{KUSTOMIZATION['namespace']}.svc.cluster.local:7400"


def load_yaml_toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_postgres_init_creates_the_databases_the_configs_use() -> None:
    (postgres,) = pod_spec("accord-postgres")["containers"]
    env = {e["name"]: e.get("value") for e in postgres["env"]}
    components = env["ACCORD_DATABASES"].split()
    assert sorted(components) == ["hub", "rivertown_pd"]
    secret = SECRETS["accord-postgres"]["stringData"]
    assert {f"pg_password_{c}" for c in components} | {"postgres_password"} == set(secret)
    assert env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    for name in ("hub.toml", "node.toml"):
        url = load_yaml_toml(K8S_DIR / "config" / name)[name.split(".")[0]]["database_url"]
        assert url.rsplit("/", 1)[1] in {f"accord_{c}" for c in components}
