"""The steward's revocation list: what it refuses, and how a bad file is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from accord.cli.federation import REVOCATIONS_TEMPLATE
from accord.errors import ConfigError
from accord.identity import Principal
from hub.revocations import Revocation, RevocationList, Revocations

T = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
MEMBERS = ("lakeside_so", "rivertown_pd")

LIST = """
[[revoke]]
agency = "lakeside_so"
subject = "det.morales"
reason = "suspended pending review (HR-2291)"

[[revoke]]
agency = "lakeside_so"
subject = "det.vance"
issued_before = 2026-12-07T11:00:00+01:00
reason = "laptop stolen"

[[revoke]]
agency = "rivertown_pd"
token_id = "8c1f0e3a"
reason = "pasted into a chat"
"""


def who(subject: str, agency: str = "lakeside_so", *, token_id: str = "jti-1",
        issued_at: dt.datetime | None = T) -> Principal:
    return Principal(subject, agency, frozenset({"investigator"}), token_id,
                     T + dt.timedelta(hours=1), issued_at)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "revocations.toml"
    path.write_text(text)
    return path


def test_each_kind_of_entry_refuses_exactly_what_it_names(tmp_path: Path) -> None:
    revoked = Revocations.load(write(tmp_path, LIST))
    assert len(revoked.entries) == 3
    # Every token of a suspended subject, whenever issued; the same subject
    # name at another agency is someone else.
    assert revoked.refuses(who("det.morales", issued_at=T + dt.timedelta(days=1)))
    assert not revoked.refuses(who("det.morales", "rivertown_pd"))
    # issued_before (11:00 at +01:00 is 10:00 UTC): earlier tokens only.
    assert revoked.refuses(who("det.vance", issued_at=T - dt.timedelta(seconds=1)))
    assert not revoked.refuses(who("det.vance", issued_at=T))
    assert revoked.refuses(who("det.vance", issued_at=None))  # unknown issue time: refused
    # One token by its id, at its own agency only.
    assert revoked.refuses(who("det.anyone", "rivertown_pd", token_id="8c1f0e3a"))
    assert not revoked.refuses(who("det.anyone", "lakeside_so", token_id="8c1f0e3a"))
    assert not revoked.refuses(who("det.other"))


def test_the_template_federation_init_writes_loads_and_revokes_nothing(tmp_path: Path) -> None:
    revoked = Revocations.load(write(tmp_path, REVOCATIONS_TEMPLATE))
    assert revoked.entries == () and not revoked.refuses(who("det.morales"))
    # Its commented examples are valid entries once uncommented.
    lines = REVOCATIONS_TEMPLATE.splitlines()
    examples = lines[next(i for i, line in enumerate(lines) if line.startswith("# [[revoke]]")):]
    entries = Revocations.load(write(tmp_path, "\n".join(line[2:] for line in examples)))
    assert [e.key for e in entries.entries] == [
        ("lakeside_so", "subject", "det.morales"), ("lakeside_so", "subject", "det.vance"),
        ("rivertown_pd", "token_id", "tIwxcU1in3oHYToC1Uzhdg")]


ENTRY = '[[revoke]]\nagency = "lakeside_so"\nsubject = "det.morales"\nreason = "r"\n'


@pytest.mark.parametrize(("text", "message"), [
    ("[[revoke]]\nsubject = 'x'\nreason = 'r'\n", r"revoke\[0\]\.agency: missing, want a string"),
    ("[[revoke]]\nagency = 'Lake Side'\nsubject = 'x'\nreason = 'r'\n",
     r"revoke\[0\]\.agency: got 'Lake Side', want an agency id"),
    ("[[revoke]]\nagency = 'lakeside_so'\nreason = 'r'\n",
     r"revoke\[0\]: want exactly one of subject and token_id"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\ntoken_id = 'y'\nreason = 'r'\n",
     r"revoke\[0\]: want exactly one of subject and token_id"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\n",
     r"revoke\[0\]\.reason: missing, want a string"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\nreason = '  '\n",
     r"revoke\[0\]\.reason: want why"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\nreason = 'r'\n"
     "issued_before = 2026-12-07T10:00:00\n",
     r"revoke\[0\]\.issued_before: got 2026-12-07T10:00:00, want a time with its zone"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\nreason = 'r'\n"
     "issued_before = 'yesterday'\n",
     r"revoke\[0\]\.issued_before: got the string 'yesterday', want a TOML time: the same "
     r"without quotes"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\nreason = 'r'\n"
     "issued_before = 2026-12-07\n",
     r"revoke\[0\]\.issued_before: got datetime.date\(2026, 12, 7\), want a time with its zone"),
    ("[[revoke]]\nagency = 'lakeside_so'\ntoken_id = 'x'\nreason = 'r'\n"
     "issued_before = 2026-12-07T10:00:00Z\n", r"revoke\[0\]\.issued_before: only for a subject"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\nreason = 'r'\nsubjct = 'y'\n",
     r"revoke\[0\]: unknown key 'subjct', want agency, subject, token_id, issued_before, reason"),
    # A misspelt key is named as such, not as the key it should have been.
    ("[[revoke]]\nagency = 'lakeside_so'\nsubjct = 'x'\nreason = 'r'\n",
     r"revoke\[0\]: unknown key 'subjct'"),
    ("", r"empty; to revoke no one, say so in a comment line"),
    ("\n  \n", r"empty; to revoke no one"),
    (ENTRY + ENTRY.replace("reason = \"r\"", "reason = \"again\""),
     r"revoke\[1\]: subject 'det.morales' of lakeside_so is listed twice"),
    ("[revoke]\nagency = 'x'\n", r"revoke: want \[\[revoke\]\] tables"),
    ("[[revokes]]\nagency = 'x'\n", r"unknown key 'revokes', want only \[\[revoke\]\] entries"),
    ("[[revoke]\n", r"not valid TOML"),
    ("[[revoke]]\nagency = 'lakeside'\nsubject = 'x'\nreason = 'r'\n",
     r"revoke\[0\]\.agency: got 'lakeside', not a member of the federation \(its members: "
     r"lakeside_so, rivertown_pd\)"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'det.m '\nreason = 'r'\n",
     r"revoke\[0\]\.subject: got 'det.m ', want printable text .* without spaces around it"),
    ("[[revoke]]\nagency = 'lakeside_so'\nsubject = 'x'\nreason = 'r'\n"
     "issued_before = 0001-01-01T00:00:00+05:00\n",
     r"revoke\[0\]\.issued_before: got 0001-01-01T00:00:00\+05:00, out of range"),
])
def test_a_bad_file_is_refused_naming_the_entry_and_field(tmp_path: Path, text: str,
                                                          message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        Revocations.load(path, MEMBERS)
    assert str(path) in info.value.message


def test_a_missing_file_stops_the_hub_from_starting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"revocations.toml: cannot read"):
        RevocationList.open(tmp_path / "revocations.toml")
    assert RevocationList.open(None).current.entries == ()  # none configured: nothing revoked


def test_a_reload_applies_changes_and_a_bad_file_never_lifts_a_revocation(tmp_path: Path) -> None:
    path = write(tmp_path, ENTRY)
    revocations = RevocationList.open(path, MEMBERS)
    assert revocations.reload() is False  # unchanged
    path.write_text("# a comment changes nothing\n" + ENTRY)
    assert revocations.reload() is False
    # A typo in the new version: rejected (and said why), det.morales is
    # still refused; a good file clears the rejection.
    path.write_text(ENTRY + "[[revoke]]\nagency = 'lakeside_so'\nsubjetc = 'det.vance'\n")
    assert revocations.reload() is False
    rejected = revocations.rejected
    assert rejected is not None and rejected[1].endswith(
        "revoke[1]: unknown key 'subjetc', want agency, subject, token_id, issued_before, reason")
    assert revocations.current.refuses(who("det.morales"))
    path.unlink()  # gone: the same
    assert revocations.reload() is False
    assert revocations.current.refuses(who("det.morales"))
    # A valid addition applies at once.
    path.write_text(ENTRY + VANCE)
    assert revocations.reload() is True and revocations.rejected is None
    assert revocations.current.refuses(who("det.vance"))


VANCE = ENTRY.replace("det.morales", "det.vance")
KANE = ENTRY.replace("det.morales", "det.kane")


def test_a_lifting_waits_for_a_second_identical_read_and_additions_do_not_wait(
        tmp_path: Path) -> None:
    path = write(tmp_path, ENTRY + VANCE)
    revocations = RevocationList.open(path, MEMBERS)
    # Lifts det.morales and adds det.kane: det.kane applies now, det.morales
    # stays refused until the next reload reads the same entries.
    path.write_text(VANCE + KANE)
    assert revocations.reload() is True
    assert revocations.current.refuses(who("det.kane"))
    assert revocations.current.refuses(who("det.morales"))
    # Rewritten again with only a comment changed: the same entries, so the
    # lifting applies (a file touched at every reload does not stall it).
    path.write_text("# synced\n" + VANCE + KANE)
    assert revocations.reload() is True
    assert not revocations.current.refuses(who("det.morales"))
    # A file caught half written (det.kane's entry not there yet) lifts
    # nothing when the write completes before the next read.
    path.write_text(VANCE)
    assert revocations.reload() is False
    assert revocations.current.refuses(who("det.kane"))
    path.write_text(VANCE + KANE)
    assert revocations.reload() is False
    assert revocations.current.refuses(who("det.kane"))
    # Narrowing counts as lifting: issued_before added to an all-tokens entry.
    narrowed = VANCE.replace('reason = "r"', 'reason = "r"\nissued_before = 2026-12-07T10:00:00Z')
    path.write_text(narrowed + KANE)
    assert revocations.reload() is False
    assert revocations.current.refuses(who("det.vance", issued_at=T + dt.timedelta(hours=1)))
    assert revocations.reload() is True
    assert not revocations.current.refuses(who("det.vance", issued_at=T + dt.timedelta(hours=1)))
    assert revocations.current.refuses(who("det.vance", issued_at=T - dt.timedelta(hours=1)))


def test_the_log_replays_to_the_list_it_records() -> None:
    from hub.revocations import replay, unrecorded

    a = {"agency": "lakeside_so", "subject": "det.a", "reason": "r"}
    b = {"agency": "lakeside_so", "token_id": "j1", "reason": "r"}
    changed = "revocations_changed"
    recorded = replay([
        {"event": changed, "details": {"added": [a, b], "removed": []}},
        {"event": changed, "details": {"added": [{**a, "reason": "reviewed"}], "removed": [b]}}])
    assert list(recorded.values()) == [{**a, "reason": "reviewed"}]
    current = Revocations((Revocation("lakeside_so", "r", subject="det.a"),), "f")
    assert unrecorded(current, recorded) == ([a], [])
    assert unrecorded(Revocations(), recorded) == ([], [{**a, "reason": "reviewed"}])
    assert unrecorded(Revocations((Revocation("lakeside_so", "reviewed", subject="det.a"),), "g"),
                      recorded) == ([], [])
    # An early version's revocations_loaded set the list whole.
    loaded = replay([{"event": changed, "details": {"added": [b], "removed": []}},
                     {"event": "revocations_loaded", "details": {"added": [a], "removed": []}}])
    assert list(loaded.values()) == [a]
