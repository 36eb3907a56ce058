"""`accord audit verify`: every pin holds, and the checkpoint saved is the largest.

1. With --config and --expect-checkpoint, both the node's accepted checkpoint
   and the saved one must be in the log (the node's was dropped whenever the
   saved one was at least as large, so a log forked from the node's verified).
2. --save-checkpoint saves the largest verified checkpoint, not the last note
   of the file (an old, tiny one would make the next run's pin worthless).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord import merkle
from accord.checkpoint import Checkpoint, Ed25519Signer, SignedCheckpoint, sign_checkpoint
from accord.cli import main as cli_main
from accord.cli.main import cli

SIGNER = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
ORIGIN = "accord-hub"


def history(n: int, label: str) -> tuple[list[bytes], list[SignedCheckpoint]]:
    """n entries and a signed checkpoint at every size, as the hub writes them."""
    tree = merkle.MemoryTree()
    entries: list[bytes] = []
    notes: list[SignedCheckpoint] = []
    for seq in range(1, n + 1):
        entry = json.dumps({"seq": seq, "event": "search", "case": f"{label}-{seq}"},
                           sort_keys=True, separators=(",", ":")).encode()
        entries.append(entry)
        tree.append(entry)
        notes.append(sign_checkpoint(Checkpoint(ORIGIN, seq, tree.root()), SIGNER))
    return entries, notes


@pytest.fixture
def hub_key(tmp_path: Path) -> Path:
    path = tmp_path / "hub.pem"
    path.write_bytes(SIGNER.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_expect_checkpoint_keeps_the_nodes_own_pin(
        tmp_path: Path, hub_key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The hub showed the node one history (fork A, accepted at size 10) and
    # shows auditors another (B, 30 entries).
    _, fork_a = history(10, "A")
    entries_b, notes_b = history(30, "B")
    node_pin = (10, fork_a[-1].checkpoint.root)
    assert node_pin[1] != notes_b[9].checkpoint.root

    config = tmp_path / "node.toml"
    config.write_text("")
    monkeypatch.setattr(cli_main, "_pinned_by_node",
                        lambda _c: (node_pin, "the node's accepted checkpoint at size 10"))

    async def signed_log(_p: Path, _t: str) -> tuple[list[bytes], list[str]]:
        return entries_b, [n.to_text() for n in notes_b]

    monkeypatch.setattr(cli_main, "_signed_log", signed_log)
    from node.config import NodeConfig
    monkeypatch.setattr(NodeConfig, "load", staticmethod(lambda _p: SimpleNamespace(
        hub_public_key=hub_key, hub_previous_public_keys=(), log_origin=ORIGIN)))

    # With the node's pin alone, the fork is caught.
    code, report = run("--config", str(config), "--token", "t")
    assert (code, report["ok"]) == (4, False), report

    # Adding an auditor's saved checkpoint of history B (size 20) must not
    # weaken that; but the node's pin is dropped and the fork verifies.
    saved = tmp_path / "saved.checkpoint"
    saved.write_text(notes_b[19].to_text())
    code, report = run("--config", str(config), "--token", "t",
                       "--expect-checkpoint", str(saved))
    assert (code, report["ok"]) == (4, False), report


def test_save_checkpoint_saves_the_latest_verified_checkpoint(
        tmp_path: Path, hub_key: Path) -> None:
    entries, notes = history(30, "B")
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"".join(e + b"\n" for e in entries))
    # The export's checkpoints, with an old one repeated at the end (it
    # verifies: same size, same root).
    Path(f"{path}.checkpoints").write_text(
        "".join(n.to_text() for n in notes) + notes[0].to_text())
    saved = tmp_path / "saved.checkpoint"
    code, report = run("--entries", str(path), "--hub-key", str(hub_key),
                       "--save-checkpoint", str(saved))
    assert (code, report["ok"]) == (0, True)
    size = SignedCheckpoint.from_text(saved.read_text()).checkpoint.size
    assert size == 30, f"saved the checkpoint at size {size}, not the latest (30)"
