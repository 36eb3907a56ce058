"""Any change to the stored log is caught by the verifier, which names the entry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, update

from accord import merkle
from accord.auditlog import VerifyReport, verify_log
from accord.checkpoint import Checkpoint, Ed25519Signer, SignedCheckpoint, sign_checkpoint
from accord.cli.main import cli
from accord.db import make_engine
from hub.audit import AuditEvent, AuditLog, audit_entries
from tests.conftest import NOW

SIGNER = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
ORIGIN = "accord-hub"


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(make_engine(f"sqlite:///{tmp_path}/hub.db"), SIGNER, ORIGIN)
    audit.create_schema()
    for i in range(30):
        audit.append(AuditEvent(event="search", time=NOW + dt.timedelta(seconds=i),
                                outcome="ok", actor=f"det.{i % 3}", agency="lakeside_so",
                                case=f"C-{i}"))
    return audit


def verify(log: AuditLog) -> VerifyReport:
    return verify_log(((e.seq, e.entry) for e in log.entries()), list(log.checkpoints()),
                      SIGNER.public_key(), "accord-hub", ORIGIN)


def test_an_untouched_log_verifies(log: AuditLog) -> None:
    report = verify(log)
    assert (report.ok, report.entries, report.checkpoints) == (True, 30, 30)
    latest = log.latest_checkpoint()
    assert latest is not None
    assert report.root == latest.checkpoint.root


def rewrite(log: AuditLog, position: int, **changes: object) -> None:
    entry = next(e for e in log.entries() if e.seq == position)
    doc = {**entry.doc, **changes}
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    with log.engine.begin() as conn:
        # A careful forger updates the leaf hash too; the signed checkpoints still catch it.
        conn.execute(update(audit_entries).where(audit_entries.c.seq == position)
                     .values(entry=raw, leaf_hash=merkle.leaf_hash(raw)))


def test_a_changed_entry_is_named(log: AuditLog) -> None:
    rewrite(log, 17, actor="someone.else")
    report = verify(log)
    assert not report.ok
    assert report.bad_seq == 17
    assert report.problem.startswith("entry #17 does not match the signed checkpoint")


def test_a_deleted_entry_is_named(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        conn.execute(delete(audit_entries).where(audit_entries.c.seq == 9))
    report = verify(log)
    assert (report.ok, report.bad_seq) == (False, 9)
    assert "deleted, inserted or reordered" in report.problem


def test_deleting_the_newest_entries_is_caught(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        conn.execute(delete(audit_entries).where(audit_entries.c.seq > 27))
    report = verify(log)
    assert (report.ok, report.bad_seq) == (False, 28)
    assert "entries #28 to #30 were deleted" in report.problem


def test_reordered_entries_are_named(log: AuditLog) -> None:
    four, five = (next(e for e in log.entries() if e.seq == s) for s in (4, 5))
    with log.engine.begin() as conn:
        for target, source in ((4, five), (5, four)):
            conn.execute(update(audit_entries).where(audit_entries.c.seq == target)
                         .values(entry=source.entry, leaf_hash=source.leaf_hash))
    report = verify(log)
    assert (report.ok, report.bad_seq) == (False, 4)


def test_renumbered_entries_are_caught(log: AuditLog) -> None:
    # Swap two entries and fix up their sequence numbers: the checkpoint catches it.
    docs = {e.seq: e.doc for e in log.entries()}
    rewrite(log, 4, **{**docs[5], "seq": 4})
    rewrite(log, 5, **{**docs[4], "seq": 5})
    report = verify(log)
    assert (report.ok, report.bad_seq) == (False, 4)


def test_a_checkpoint_signed_by_another_key_is_refused(log: AuditLog) -> None:
    other = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
    report = verify_log(((e.seq, e.entry) for e in log.entries()), list(log.checkpoints()),
                        other.public_key(), "accord-hub", ORIGIN)
    assert not report.ok and "bad signature" in report.problem


def export(log: AuditLog, path: Path) -> None:
    path.write_bytes(b"".join(e.entry + b"\n" for e in log.entries()))
    Path(f"{path}.checkpoints").write_text("".join(c.to_text() + "\n" for c in log.checkpoints()))


def test_audit_verify_command_names_the_altered_entry(log: AuditLog, tmp_path: Path) -> None:
    key = tmp_path / "hub_public.pem"
    key.write_bytes(SIGNER.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    good = tmp_path / "audit.jsonl"
    export(log, good)
    result = CliRunner().invoke(cli, ["audit", "verify", "--entries", str(good),
                                      "--hub-key", str(key), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["entries"] == 30

    lines = good.read_bytes().split(b"\n")
    lines[11] = lines[11].replace(b"det.2", b"det.9")  # entry #12
    good.write_bytes(b"\n".join(lines))
    result = CliRunner().invoke(cli, ["audit", "verify", "--entries", str(good),
                                      "--hub-key", str(key)])
    assert result.exit_code == 4
    assert "entry #12 does not match the signed checkpoint" in result.stdout


def test_an_altered_entry_in_a_commit_of_several_names_the_commit(log: AuditLog) -> None:
    # A search with its sweep levels commits three entries under one checkpoint.
    with log.transaction() as tx:
        for event in ("search", "sweep", "sweep"):
            tx.append(AuditEvent(event=event, time=NOW, outcome="ok", actor="det.a",
                                 agency="lakeside_so"))
    assert verify(log).ok
    rewrite(log, 32, actor="someone.else")

    report = verify(log)

    assert (report.ok, report.bad_seq) == (False, 31)
    assert report.problem == ("entries #31 to #33 do not match the signed checkpoint at size "
                              "33: one of them was altered")


# --- what the log alone cannot prove, and the anchors that prove it ---------------------------


def entries_of(log: AuditLog, upto: int | None = None) -> list[tuple[int, bytes]]:
    return [(e.seq, e.entry) for e in log.entries()][:upto]


def checkpoints_of(log: AuditLog, upto: int | None = None) -> list[SignedCheckpoint]:
    return [c for c in log.checkpoints() if upto is None or c.checkpoint.size <= upto]


def test_entries_without_any_checkpoint_do_not_verify(log: AuditLog) -> None:
    report = verify_log(entries_of(log), [], SIGNER.public_key(), "accord-hub", ORIGIN)
    assert not report.ok and report.problem.startswith("no signed checkpoint")


def test_entries_after_the_last_checkpoint_do_not_verify(log: AuditLog) -> None:
    report = verify_log(entries_of(log), checkpoints_of(log, 27), SIGNER.public_key(),
                        "accord-hub", ORIGIN)
    assert (report.ok, report.bad_seq) == (False, 28)
    assert report.problem == ("entries #28 to #30 are covered by no signed checkpoint: "
                              "they cannot be verified")


def test_a_log_cut_back_is_caught_by_the_checkpoint_pinned_before(log: AuditLog) -> None:
    latest = log.latest_checkpoint()
    assert latest is not None
    pinned = (latest.checkpoint.size, latest.checkpoint.root)
    # Cut back with its checkpoints, the shorter log verifies by itself ...
    short = entries_of(log, 20), checkpoints_of(log, 20)
    assert verify_log(*short, SIGNER.public_key(), "accord-hub", ORIGIN).ok
    # ... but not against what was accepted before.
    report = verify_log(*short, SIGNER.public_key(), "accord-hub", ORIGIN, pinned=[pinned])
    assert (report.ok, report.bad_seq, report.pinned_size) == (False, 21, 30)
    assert "rolled back" in report.problem
    # A pinned root the log does not have is a fork.
    report = verify_log(entries_of(log), checkpoints_of(log), SIGNER.public_key(),
                        "accord-hub", ORIGIN, pinned=[(10, b"\x00" * 32)])
    assert (report.ok, report.bad_seq) == (False, 10) and "forked" in report.problem
    assert verify_log(entries_of(log), checkpoints_of(log), SIGNER.public_key(), "accord-hub",
                      ORIGIN, pinned=[pinned]).ok


def test_every_checkpoint_pinned_must_be_in_the_log(log: AuditLog) -> None:
    # The node's pin and an auditor's saved checkpoint: one consistent with the
    # log and larger does not excuse the other (the CLI used to keep only the
    # larger, so a node shown a fork verified beside an auditor's checkpoint).
    latest = log.latest_checkpoint()
    assert latest is not None
    saved = (latest.checkpoint.size, latest.checkpoint.root)
    forked = (10, b"\x00" * 32)
    tree = merkle.MemoryTree()
    for _, entry in entries_of(log, 10):
        tree.append(entry)
    early = (10, tree.root())

    def check(*pins: tuple[int, bytes]) -> VerifyReport:
        return verify_log(entries_of(log), checkpoints_of(log), SIGNER.public_key(),
                          "accord-hub", ORIGIN, pinned=list(pins))

    assert check(saved).ok and check(saved, early).ok
    report = check(forked, saved)
    assert (report.ok, report.bad_seq, report.pinned_size) == (False, 10, 30)
    assert "forked" in report.problem
    both = check(early, forked)
    assert (both.ok, both.problem) == (False, "two checkpoints accepted before at size 10 "
                                              "have different roots: they were shown two "
                                              "histories")


def test_the_signed_prefix_is_the_largest_checkpoints_whatever_their_order(
        log: AuditLog) -> None:
    from accord.auditlog import signed_prefix

    notes = [c.to_text() for c in checkpoints_of(log)]
    entries = [e for _, e in entries_of(log)]
    assert len(signed_prefix([*entries, b"{}"], notes[::-1])) == len(entries)


def test_two_signed_roots_for_one_size_are_caught(log: AuditLog) -> None:
    other = sign_checkpoint(Checkpoint(ORIGIN, 5, b"\x01" * 32), SIGNER)
    report = verify_log(entries_of(log), [*checkpoints_of(log), other], SIGNER.public_key(),
                        "accord-hub", ORIGIN)
    assert not report.ok and "two histories" in report.problem
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, b"\x01" * 32), SIGNER)
    report = verify_log(entries_of(log), [empty, *checkpoints_of(log)], SIGNER.public_key(),
                        "accord-hub", ORIGIN)
    assert not report.ok and "empty tree" in report.problem


def test_a_checkpoint_of_another_log_is_named_as_such(log: AuditLog) -> None:
    report = verify_log(entries_of(log), checkpoints_of(log), SIGNER.public_key(),
                        "accord-hub", "another-hub")
    assert report.problem == "checkpoint at size 1: for the log 'accord-hub', not 'another-hub'"


@pytest.fixture
def exported(log: AuditLog, tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "hub_public.pem"
    key.write_bytes(SIGNER.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    path = tmp_path / "audit.jsonl"
    export(log, path)
    return path, key


def verify_cli(path: Path, key: Path, *extra: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--entries", str(path),
                                      "--hub-key", str(key), "--json", *extra])
    return result.exit_code, json.loads(result.stdout)


def test_an_export_without_its_checkpoints_does_not_verify(
    exported: tuple[Path, Path],
) -> None:
    path, key = exported
    Path(f"{path}.checkpoints").unlink()
    code, report = verify_cli(path, key)
    assert (code, report["ok"]) == (4, False)
    assert str(report["problem"]).endswith("not found; an export is verified against its "
                                           "signed checkpoints (a filtered export has none)")


def test_checkpoints_cut_short_or_malformed_do_not_verify(exported: tuple[Path, Path]) -> None:
    path, key = exported
    notes = Path(f"{path}.checkpoints")
    text = notes.read_text()
    notes.write_text(text[: text.rindex("\u2014 ")])  # the last signature line cut off
    code, report = verify_cli(path, key)
    assert (code, report["ok"]) == (4, False)
    assert str(report["problem"]).endswith("checkpoint 30: has no signature line "
                                           "(the file is cut short)")
    notes.write_text(text.replace("\n30\n", "\n030\n"))
    code, report = verify_cli(path, key)
    assert (code, report["ok"]) == (4, False)
    assert str(report["problem"]).startswith("checkpoint 30: malformed: ")


def test_a_saved_checkpoint_pins_the_next_verification(
    log: AuditLog, exported: tuple[Path, Path], tmp_path: Path,
) -> None:
    path, key = exported
    saved = tmp_path / "last.checkpoint"
    code, report = verify_cli(path, key, "--save-checkpoint", str(saved))
    assert (code, report["ok"], report["anchors"]) == (0, True, [])
    # The log cut back to 20 entries, checkpoints and all.
    path.write_bytes(b"".join(e + b"\n" for _, e in entries_of(log, 20)))
    Path(f"{path}.checkpoints").write_text(
        "".join(c.to_text() + "\n" for c in checkpoints_of(log, 20)))
    assert verify_cli(path, key)[0] == 0
    code, report = verify_cli(path, key, "--expect-checkpoint", str(saved))
    assert (code, report["ok"], report["pinned_size"]) == (4, False, 30)
    assert report["anchors"] == [f"{saved} (size 30)"]
    # A saved checkpoint the hub's key did not sign pins nothing: it fails.
    other = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
    saved.write_text(sign_checkpoint(Checkpoint(ORIGIN, 30, b"\x00" * 32), other).to_text())
    code, report = verify_cli(path, key, "--expect-checkpoint", str(saved))
    assert (code, report["problem"]) == (
        4, f"{saved}: not signed by the hub's key for the log 'accord-hub'")
