"""Shared helpers of the deploy tests: paths, loading the deploy scripts, and
laying out a container's filesystem from what compose or Kubernetes mounts."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S_DIR = DEPLOY / "k8s"
OPA_DIR = DEPLOY / "opa"
DOCKER_DIR = DEPLOY / "docker"
POLICIES = REPO / "policies"

#: Absolute container paths our configs use, rewritten under a test root.
_CONTAINER_PATH = re.compile(r'(?<=["=])/(etc/accord|run/secrets|var/lib/accord)\b')


def load_script(path: Path) -> ModuleType:
    """Import a deploy script (they are files, not packages) as a module."""
    name = "deploy_" + "_".join(path.relative_to(DEPLOY).with_suffix("").parts)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def under(root: Path, container_path: str) -> Path:
    """Where ``container_path`` lives in a container laid out under ``root``."""
    return root / container_path.lstrip("/")


def place(root: Path, container_path: str, source: Path) -> Path:
    """Make ``source`` (a file or a folder) appear at ``container_path`` under ``root``."""
    target = under(root, container_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        target.symlink_to(source, target_is_directory=True)
    else:
        shutil.copyfile(source, target)
        shutil.copymode(source, target)  # a bind mount keeps the host file's mode
    return target


def remap_config(path: Path, root: Path) -> None:
    """Point a mounted hub.toml/node.toml's absolute container paths under ``root``."""
    text = path.read_text(encoding="utf-8")
    path.write_text(_CONTAINER_PATH.sub(lambda m: f"{root}/{m.group(1)}", text), encoding="utf-8")
