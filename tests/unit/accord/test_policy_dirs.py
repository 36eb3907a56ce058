"""Policy directories as Kubernetes mounts them load each module once."""

from __future__ import annotations

from pathlib import Path

from accord.policy.engine import read_policies


def test_hidden_configmap_paths_are_skipped(tmp_path: Path) -> None:
    data = tmp_path / "..2026_11_23_data"
    data.mkdir()
    (data / "search.rego").write_text("package accord.search\n")
    (tmp_path / "search.rego").symlink_to(data / "search.rego")
    (tmp_path / "search_test.rego").write_text("package accord.search_test\n")

    assert list(read_policies(tmp_path)) == ["search.rego"]
