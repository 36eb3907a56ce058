"""Copy the files the Kubernetes ConfigMaps are generated from into deploy/k8s/files/.

kustomize reads generator files only from inside the kustomization's own
folder, so the Rego policies, the OPA sidecar's config and authorizer, and the
PostgreSQL init script are kept here as copies of their originals::

    python deploy/k8s/sync_files.py          # after changing any of the originals

tests/unit/deploy/test_k8s.py fails when a copy differs from its original or a
policy is missing from kustomization.yaml's accord-policies generator.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

K8S = Path(__file__).resolve().parent
REPO = K8S.parents[1]
FILES = K8S / "files"


def originals() -> dict[Path, Path]:
    """copy -> original, for every file kustomize needs from outside deploy/k8s."""
    pairs = {
        FILES / "policies" / p.name: p
        for p in sorted((REPO / "policies" / "accord").glob("*.rego"))
        if not p.name.endswith("_test.rego")
    }
    pairs[FILES / "opa" / "config.yaml"] = REPO / "deploy" / "opa" / "config.yaml"
    pairs[FILES / "opa" / "authz.rego"] = REPO / "deploy" / "opa" / "authz.rego"
    pairs[FILES / "postgres" / "init-databases.sh"] = (
        REPO / "deploy" / "compose" / "postgres" / "init-databases.sh")
    return pairs


def main() -> int:
    wanted = originals()
    for copy, original in wanted.items():
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, copy)
    stale = [p for p in FILES.rglob("*") if p.is_file() and p not in wanted]
    for path in stale:
        path.unlink()
    print(f"copied {len(wanted)} files into {FILES.relative_to(REPO)}"
          + (f"; removed {len(stale)} stale" if stale else ""))
    print("policies for kustomization.yaml (configMapGenerator accord-policies):")
    for copy in wanted:
        if copy.parent.name == "policies":
            print(f"  - {copy.relative_to(K8S)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
