"""Agreement files: the examples, every error the loader reports, and the policy data contract."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from accord import agreement as agreement_module
from accord.agreement import (
    SCHEMA,
    Agreement,
    AgreementSet,
    Member,
    ReleaseRules,
    WithholdRule,
    load_agreements,
)
from accord.errors import ConfigError, InvalidArgument, PermissionDenied
from accord.identity import ALLOWED_ALGORITHMS, ROLES
from accord.ids import AGENCY_RE
from node.records import _LABEL_RE, Role
from node.records import RecordType as NodeRecordType

EXAMPLES = Path(__file__).parents[3] / "deploy" / "agreements"
AGENCIES = ("rivertown_pd", "lakeside_so", "harbor_pd", "tip_hotline", "bay_county_so")
ALL_ROLES = ["other", "reporting_party", "suspect", "victim", "witness"]
VICTIM_CONTACTS = {
    "fields": ["addresses", "emails", "phones"],
    "roles": ["victim"],
    "unless_purposes": ["victim_services"],
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the example agreements at deploy/agreements, with keys at idp/<agency>."""
    shutil.copytree(EXAMPLES, tmp_path / "deploy" / "agreements")
    for agency in AGENCIES:
        key = ed25519.Ed25519PrivateKey.generate().public_key()
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        (tmp_path / "idp" / agency).mkdir(parents=True)
        (tmp_path / "idp" / agency / "public_key.pem").write_bytes(pem)
    return tmp_path


@pytest.fixture
def pilot(root: Path) -> Path:
    return root / "deploy" / "agreements" / "local-pilot.yaml"


@pytest.fixture
def coastal(root: Path) -> Path:
    return root / "deploy" / "agreements" / "coastal-task-force.yaml"


def read(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def minimal() -> dict[str, Any]:
    """The smallest valid document: two members, every optional key left out."""
    def member(agency: str, port: int) -> dict[str, Any]:
        return {
            "name": agency.replace("_", " ").title(),
            "node": {"endpoint": f"127.0.0.1:{port}", "identity": f"accord:agency:{agency}"},
            "identity_provider": {
                "issuer": f"https://idp.{agency}.accord.test",
                "keys": {"dev-1": f"../../idp/{agency}/public_key.pem"},
            },
            "shares": {"record_types": []},
        }

    return {
        "agreement": "mini",
        "version": 1,
        "title": "Minimal",
        "valid_from": "2026-01-01",
        "valid_until": "2026-01-01",
        "purposes": ["violent_crime", "missing_person"],
        "members": {"rivertown_pd": member("rivertown_pd", 7401), "lakeside_so": member("lakeside_so", 7402)},
    }


# ------------------------------------------------------------------------- examples


def test_local_pilot_normalises_to_the_policy_contract(pilot: Path, root: Path) -> None:
    data = Agreement.load(pilot).to_policy_data()

    assert {k: v for k, v in data.items() if k != "members"} == {
        "id": "local-pilot",
        "version": 1,
        "title": "Tri-county anti-trafficking pilot",
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
        "purposes": ["human_trafficking", "missing_person", "violent_crime", "victim_services"],
        "sweeps": {"max_depth": 2},
        "deconfliction": {"window_days": 30},
    }
    assert list(data["members"]) == ["rivertown_pd", "lakeside_so", "harbor_pd", "tip_hotline"]
    assert data["members"]["tip_hotline"] == {
        "name": "Tri-county Anti-Trafficking Tip Hotline",
        "purposes": ["human_trafficking", "missing_person"],
        "search_roles": [],
        "release_roles": [],
        "shares": {"record_types": ["hotline_tip"], "exclude_labels": ["juvenile", "sealed"]},
        "pointer_fields": ["matched", "record_type"],
        "release": {
            "case_required": True,
            "justification_required": True,
            "approval": {"record_types": ["hotline_tip"], "labels": ["confidential_source"]},
            "withhold": [
                VICTIM_CONTACTS,
                {"fields": ["extra"], "roles": ALL_ROLES, "unless_purposes": []},
            ],
        },
        "node": {"endpoint": "127.0.0.1:7404", "identity": "accord:agency:tip_hotline"},
        "identity_provider": {"issuer": "https://idp.tip_hotline.accord.test", "algorithms": ["EdDSA"]},
        "pivot_on": ["email", "phone"],
        "deconfliction_contact": "",
    }
    assert data["members"]["harbor_pd"]["pivot_on"] == ["person", "phone", "plate", "vin"]
    assert data["members"]["harbor_pd"]["deconfliction_contact"] == (
        "Harbor City PD Vice Unit, 503-555-0130")
    # Lakeside leaves out everything optional but its sweep and deconfliction
    # terms: every other default shows.
    assert data["members"]["lakeside_so"] == {
        "name": "Lakeside County Sheriff's Office",
        "purposes": ["human_trafficking", "missing_person", "victim_services", "violent_crime"],
        "search_roles": ["investigator"],
        "release_roles": ["investigator"],
        "shares": {"record_types": ["arrest", "field_interview"], "exclude_labels": ["juvenile", "sealed"]},
        "pointer_fields": ["coarse_date", "matched", "record_type"],
        "release": {
            "case_required": True,
            "justification_required": True,
            "approval": {"record_types": [], "labels": []},
            "withhold": [VICTIM_CONTACTS],
        },
        "node": {"endpoint": "127.0.0.1:7402", "identity": "accord:agency:lakeside_so"},
        "identity_provider": {"issuer": "https://idp.lakeside_so.accord.test", "algorithms": ["EdDSA"]},
        "pivot_on": ["phone", "plate"],
        "deconfliction_contact": "Lakeside SO Major Crimes desk, 503-555-0120",
    }
    harbor = data["members"]["harbor_pd"]
    assert harbor["purposes"] == ["human_trafficking", "missing_person", "violent_crime"]
    assert json.loads(json.dumps(data)) == data


def test_local_pilot_rules_the_demo_relies_on(pilot: Path) -> None:
    agreement = Agreement.load(pilot)
    for member in agreement.members.values():
        assert {"sealed", "juvenile"} <= member.exclude_labels
        assert WithholdRule(frozenset({"phones", "addresses", "emails"}), frozenset({"victim"}),
                            frozenset({"victim_services"})) in member.release.withhold
    assert "victim_services" not in agreement.members["harbor_pd"].purposes
    assert agreement.members["tip_hotline"].record_types == {"hotline_tip"}
    assert agreement.members["tip_hotline"].release.approval_record_types == {"hotline_tip"}
    assert agreement.members["lakeside_so"].search_roles == {"investigator"}


def test_member_model_holds_resolved_key_paths(pilot: Path, root: Path) -> None:
    member = Agreement.load(pilot).members["rivertown_pd"]
    assert member.jwt_keys == {"dev-1": (root / "idp" / "rivertown_pd" / "public_key.pem").resolve()}
    assert member.jwt_keys["dev-1"].is_absolute()
    assert member.algorithms == {"EdDSA"}
    assert member.release == ReleaseRules(
        withhold=(WithholdRule(frozenset({"phones", "addresses", "emails"}), frozenset({"victim"}),
                               frozenset({"victim_services"})),),
    )


def test_coastal_task_force_is_a_second_agreement(coastal: Path) -> None:
    agreement = Agreement.load(coastal)
    assert agreement.id == "coastal-task-force"
    assert agreement.purposes == ("violent_crime", "missing_person")
    assert set(agreement.members) == {"lakeside_so", "harbor_pd", "bay_county_so"}
    data = agreement.to_policy_data()["members"]
    assert data["bay_county_so"]["purposes"] == ["missing_person", "violent_crime"]
    assert data["bay_county_so"]["shares"]["exclude_labels"] == ["sealed"]
    assert data["bay_county_so"]["release"]["justification_required"] is False
    assert data["lakeside_so"]["shares"]["record_types"] == ["arrest"]


def test_models_are_frozen(pilot: Path) -> None:
    agreement = Agreement.load(pilot)
    with pytest.raises(dataclasses.FrozenInstanceError):
        agreement.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        agreement.members["x"] = agreement.members["harbor_pd"]  # type: ignore[index]
    with pytest.raises(TypeError):
        agreement.members["harbor_pd"].jwt_keys["x"] = Path()  # type: ignore[index]


# -------------------------------------------------------------------------- defaults


def test_defaults_are_filled_in(root: Path) -> None:
    path = root / "deploy" / "agreements" / "mini.yaml"
    member = Agreement.from_document(minimal(), path).to_policy_data()["members"]["rivertown_pd"]
    assert member == {
        "name": "Rivertown Pd",
        "purposes": ["missing_person", "violent_crime"],
        "search_roles": ["investigator"],
        "release_roles": ["investigator"],
        "shares": {"record_types": [], "exclude_labels": ["sealed"]},
        "pointer_fields": ["coarse_date", "matched", "record_type"],
        "release": {
            "case_required": True,
            "justification_required": True,
            "approval": {"record_types": [], "labels": []},
            "withhold": [],
        },
        "node": {"endpoint": "127.0.0.1:7401", "identity": "accord:agency:rivertown_pd"},
        "identity_provider": {"issuer": "https://idp.rivertown_pd.accord.test", "algorithms": ["EdDSA"]},
        # No sweeps follow this member's identifiers, and it takes no part in deconfliction.
        "pivot_on": [],
        "deconfliction_contact": "",
    }


def test_withhold_rule_defaults_to_every_role_and_no_exception(root: Path) -> None:
    doc = minimal()
    doc["members"]["rivertown_pd"]["release"] = {"withhold": [{"fields": ["summary", "dobs"]}]}
    agreement = Agreement.from_document(doc, root / "deploy" / "agreements" / "mini.yaml")
    rule = agreement.members["rivertown_pd"].release.withhold[0]
    assert rule == WithholdRule(frozenset({"summary", "dobs"}), frozenset(ALL_ROLES), frozenset())


def test_yaml_dates_and_quoted_dates_are_the_same(root: Path) -> None:
    doc, source = minimal(), root / "deploy" / "agreements" / "mini.yaml"
    as_text = Agreement.from_document(doc, source)
    doc["valid_from"], doc["valid_until"] = dt.date(2026, 1, 1), dt.date(2026, 1, 1)
    as_dates = Agreement.from_document(doc, source)
    assert as_text.valid_from == as_dates.valid_from == dt.date(2026, 1, 1)
    assert as_text.to_policy_data() == as_dates.to_policy_data()


def test_json_file_loads_like_the_yaml_one(pilot: Path) -> None:
    doc = read(pilot)
    json_path = pilot.with_suffix(".json")
    json_path.write_text(json.dumps(doc, default=str), encoding="utf-8")
    from_json = Agreement.load(json_path)
    assert from_json.source == json_path
    assert from_json.to_policy_data() == Agreement.load(pilot).to_policy_data()


def test_yml_extension_is_yaml(pilot: Path) -> None:
    yml = pilot.with_suffix(".yml")
    shutil.copy(pilot, yml)
    assert Agreement.load(yml).id == "local-pilot"


# ------------------------------------------------------------------ validity period


@pytest.mark.parametrize(
    ("day", "valid"),
    [
        (dt.date(2025, 12, 31), False),
        (dt.date(2026, 1, 1), True),
        (dt.date(2026, 11, 23), True),
        (dt.date(2027, 12, 31), True),
        (dt.date(2028, 1, 1), False),
    ],
)
def test_is_valid_on_includes_both_ends(pilot: Path, day: dt.date, valid: bool) -> None:
    assert Agreement.load(pilot).is_valid_on(day) is valid


def test_is_valid_on_refuses_a_datetime(pilot: Path) -> None:
    with pytest.raises(TypeError, match="takes a date"):
        Agreement.load(pilot).is_valid_on(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))


def test_a_one_day_agreement_is_valid_on_that_day(root: Path) -> None:
    agreement = Agreement.from_document(minimal(), root / "deploy" / "agreements" / "mini.yaml")
    assert agreement.is_valid_on(dt.date(2026, 1, 1))
    assert not agreement.is_valid_on(dt.date(2026, 1, 2))


# --------------------------------------------------------------------- schema errors

Mutation = Callable[[dict[str, Any]], object]


def rt(doc: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = doc["members"]["rivertown_pd"]
    return member


def rename_member(doc: dict[str, Any]) -> None:
    doc["members"]["Rivertown PD"] = doc["members"].pop("rivertown_pd")


RECORD_TYPES = "[cad_call, rms_incident, arrest, warrant, field_interview, missing_person, hotline_tip]"

SCHEMA_ERRORS: list[tuple[str, Mutation, str]] = [
    ("enum", lambda d: rt(d)["shares"]["record_types"].__setitem__(1, "cad"),
     f"members.rivertown_pd.shares.record_types[1]: 'cad' is not one of {RECORD_TYPES}"),
    ("unknown member field", lambda d: rt(d).__setitem__("sharez", {}),
     "members.rivertown_pd: unknown field 'sharez'"),
    ("unknown top field", lambda d: d.__setitem__("id", "x"), "unknown field 'id'"),
    ("unknown nested field", lambda d: rt(d)["release"]["withhold"][0].__setitem__("role", ["victim"]),
     "members.rivertown_pd.release.withhold[0]: unknown field 'role'"),
    ("missing top field", lambda d: d.pop("valid_until"), "valid_until: missing"),
    ("missing member field", lambda d: rt(d).pop("shares"), "members.rivertown_pd.shares: missing"),
    ("missing nested field", lambda d: rt(d)["node"].pop("endpoint"),
     "members.rivertown_pd.node.endpoint: missing"),
    ("version zero", lambda d: d.__setitem__("version", 0), "version: got 0, want at least 1"),
    ("version float", lambda d: d.__setitem__("version", 3.0), "version: got 3.0, want an integer"),
    ("version bool", lambda d: d.__setitem__("version", True), "version: got true, want an integer"),
    ("version text", lambda d: d.__setitem__("version", "3"), "version: got '3', want an integer"),
    ("agreement id", lambda d: d.__setitem__("agreement", "Local Pilot"),
     "agreement: got 'Local Pilot', want an agreement id matching ^[a-z0-9][a-z0-9._-]{0,63}$"),
    ("title null", lambda d: d.__setitem__("title", None), "title: got null, want a string"),
    ("title empty", lambda d: d.__setitem__("title", ""), "title: got '', want a non-empty string"),
    ("title long", lambda d: d.__setitem__("title", "x" * 201),
     "title: got a string of 201 characters, want at most 200"),
    ("impossible date", lambda d: d.__setitem__("valid_from", "2026-02-30"),
     "valid_from: got '2026-02-30', want a date (YYYY-MM-DD)"),
    ("us date", lambda d: d.__setitem__("valid_from", "01/02/2026"),
     "valid_from: got '01/02/2026', want a date (YYYY-MM-DD)"),
    ("datetime", lambda d: d.__setitem__("valid_until", dt.datetime(2027, 1, 1, 9, 30)),
     "valid_until: got '2027-01-01T09:30:00', want a date (YYYY-MM-DD)"),
    ("no purposes", lambda d: d.__setitem__("purposes", []), "purposes: want at least 1 item, got 0"),
    ("purpose case", lambda d: d["purposes"].__setitem__(0, "Human_Trafficking"),
     "purposes[0]: got 'Human_Trafficking', want a purpose id matching ^[a-z][a-z0-9_]{0,62}$"),
    ("duplicate purpose", lambda d: d["purposes"].append("missing_person"),
     "purposes[4]: 'missing_person' is listed twice"),
    ("purposes not a list", lambda d: d.__setitem__("purposes", "violent_crime"),
     "purposes: got 'violent_crime', want a list"),
    ("one member", lambda d: d.__setitem__("members", {"rivertown_pd": rt(d)}),
     "members: want at least 2 members, got 1"),
    ("agency id", rename_member,
     "members: got key 'Rivertown PD', want an agency id matching ^[a-z][a-z0-9_]{1,62}$"),
    ("member not a mapping", lambda d: d["members"].__setitem__("rivertown_pd", None),
     "members.rivertown_pd: got null, want a mapping"),
    ("endpoint", lambda d: rt(d)["node"].__setitem__("endpoint", "rivertown"),
     "members.rivertown_pd.node.endpoint: got 'rivertown', want host:port matching "
     r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}$"),
    ("identity form", lambda d: rt(d)["node"].__setitem__("identity", "rivertown_pd"),
     "members.rivertown_pd.node.identity: got 'rivertown_pd', want a node identity matching "
     "^accord:agency:[a-z][a-z0-9_]{1,62}$"),
    ("issuer not https", lambda d: rt(d)["identity_provider"].__setitem__("issuer", "http://idp"),
     "members.rivertown_pd.identity_provider.issuer: got 'http://idp', want an https URL matching "
     r"^https://[^\s/?#]+(/[^\s?#]*)?$"),
    ("algorithm", lambda d: rt(d)["identity_provider"].__setitem__("algorithms", ["RS256"]),
     "members.rivertown_pd.identity_provider.algorithms[0]: 'RS256' is not one of [EdDSA, ES256]"),
    ("no algorithms", lambda d: rt(d)["identity_provider"].__setitem__("algorithms", []),
     "members.rivertown_pd.identity_provider.algorithms: want at least 1 item, got 0"),
    ("no keys", lambda d: rt(d)["identity_provider"].__setitem__("keys", {}),
     "members.rivertown_pd.identity_provider.keys: want at least 1 key, got 0"),
    ("kid", lambda d: rt(d)["identity_provider"].__setitem__("keys", {"dev 1": "k.pem"}),
     "members.rivertown_pd.identity_provider.keys: got key 'dev 1', want a key id matching "
     "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
    ("key path", lambda d: rt(d)["identity_provider"].__setitem__("keys", {"dev-1": "a\x00b.pem"}),
     "members.rivertown_pd.identity_provider.keys.dev-1: contains the control character U+0000; "
     "every value of an agreement is one line of text"),
    ("search role", lambda d: rt(d).__setitem__("search_roles", ["detective"]),
     "members.rivertown_pd.search_roles[0]: 'detective' is not one of "
     "[investigator, custodian, auditor, steward]"),
    ("duplicate release role", lambda d: rt(d).__setitem__("release_roles", ["custodian", "custodian"]),
     "members.rivertown_pd.release_roles[1]: 'custodian' is listed twice"),
    ("empty member purposes", lambda d: rt(d).__setitem__("purposes", []),
     "members.rivertown_pd.purposes: want at least 1 item, got 0"),
    ("shares missing record types", lambda d: rt(d).__setitem__("shares", {}),
     "members.rivertown_pd.shares.record_types: missing"),
    ("label", lambda d: rt(d)["shares"].__setitem__("exclude_labels", ["Sealed"]),
     "members.rivertown_pd.shares.exclude_labels[0]: got 'Sealed', want a label matching "
     "^[a-z][a-z0-9_]{0,39}$"),
    ("pointer field", lambda d: rt(d).__setitem__("pointer_fields", ["name"]),
     "members.rivertown_pd.pointer_fields[0]: 'name' is not one of [record_type, coarse_date, matched]"),
    ("release flag", lambda d: rt(d)["release"].__setitem__("case_required", "yes"),
     "members.rivertown_pd.release.case_required: got 'yes', want true or false"),
    ("approval record type", lambda d: rt(d)["release"].__setitem__("approval", {"record_types": ["tip"]}),
     f"members.rivertown_pd.release.approval.record_types[0]: 'tip' is not one of {RECORD_TYPES}"),
    ("withheld field", lambda d: rt(d)["release"]["withhold"][0]["fields"].append("ssn"),
     "members.rivertown_pd.release.withhold[0].fields[3]: 'ssn' is not one of "
     "[name, aliases, nicknames, dobs, phones, emails, addresses, summary, extra]"),
    ("no withheld fields", lambda d: rt(d)["release"]["withhold"][0].__setitem__("fields", []),
     "members.rivertown_pd.release.withhold[0].fields: want at least 1 item, got 0"),
    ("person role", lambda d: rt(d)["release"]["withhold"][0].__setitem__("roles", ["investigator"]),
     "members.rivertown_pd.release.withhold[0].roles[0]: 'investigator' is not one of "
     "[suspect, victim, witness, reporting_party, other]"),
    ("empty roles", lambda d: rt(d)["release"]["withhold"][0].__setitem__("roles", []),
     "members.rivertown_pd.release.withhold[0].roles: want at least 1 item, got 0"),
]


@pytest.mark.parametrize(("mutate", "message"), [(m, msg) for _, m, msg in SCHEMA_ERRORS],
                         ids=[name for name, _, _ in SCHEMA_ERRORS])
def test_schema_errors_name_file_and_field(pilot: Path, mutate: Mutation, message: str) -> None:
    doc = read(pilot)
    mutate(doc)
    with pytest.raises(ConfigError) as caught:
        Agreement.from_document(doc, pilot)
    assert str(caught.value) == f"{pilot}: {message}"


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda d: d.update(agreement="local-pilot\n"), "agreement"),
    (lambda d: d["members"]["rivertown_pd"]["node"].update(endpoint="127.0.0.1:7401\n"),
     "members.rivertown_pd.node.endpoint"),
    (lambda d: d["purposes"].append("missing_person\n"), "purposes[4]"),
])
def test_a_trailing_newline_is_refused(pilot: Path, mutate: Mutation, where: str) -> None:
    # The schema's patterns end in $, which Python's re also matches before a final newline.
    doc = read(pilot)
    mutate(doc)
    with pytest.raises(ConfigError) as caught:
        Agreement.from_document(doc, pilot)
    assert str(caught.value) == (f"{pilot}: {where}: contains the control character U+000A; "
                                 "every value of an agreement is one line of text")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (None, "the document is empty; want a mapping"),
        ([1, 2], "got [1, 2], want a mapping"),
        ("agreement", "got 'agreement', want a mapping"),
    ],
)
def test_document_that_is_not_a_mapping(pilot: Path, doc: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Agreement.from_document(doc, pilot)
    assert str(caught.value) == f"{pilot}: {message}"


def test_errors_are_reported_one_at_a_time_shallowest_first(pilot: Path) -> None:
    doc = read(pilot)
    rt(doc)["shares"]["record_types"] = ["cad"]
    doc.pop("title")
    with pytest.raises(ConfigError, match=r"local-pilot\.yaml: title: missing$"):
        Agreement.from_document(doc, pilot)


# ------------------------------------------------------------------- semantic errors


def wrong_identity(doc: dict[str, Any]) -> None:
    rt(doc)["node"]["identity"] = "accord:agency:lakeside_so"


def record_field_with_roles(doc: dict[str, Any]) -> None:
    rt(doc)["release"]["withhold"].append({"fields": ["dobs", "summary"], "roles": ["witness"]})


PURPOSES = "[human_trafficking, missing_person, violent_crime, victim_services]"

SEMANTIC_ERRORS: list[tuple[str, Mutation, str]] = [
    ("dates out of order", lambda d: d.__setitem__("valid_until", dt.date(2025, 12, 31)),
     "valid_until: 2025-12-31 is before valid_from 2026-01-01"),
    ("member purpose", lambda d: rt(d).__setitem__("purposes", ["violent_crime", "fraud"]),
     f"members.rivertown_pd.purposes[1]: 'fraud' is not a purpose of this agreement; want one of {PURPOSES}"),
    ("unless purpose", lambda d: rt(d)["release"]["withhold"][0].__setitem__("unless_purposes", ["audit"]),
     "members.rivertown_pd.release.withhold[0].unless_purposes[0]: 'audit' is not a purpose of this "
     f"agreement; want one of {PURPOSES}"),
    ("identity of another agency", wrong_identity,
     "members.rivertown_pd.node.identity: got 'accord:agency:lakeside_so', "
     "want 'accord:agency:rivertown_pd'"),
    ("port out of range", lambda d: rt(d)["node"].__setitem__("endpoint", "127.0.0.1:70000"),
     "members.rivertown_pd.node.endpoint: got '127.0.0.1:70000', want a port from 1 to 65535"),
    ("port zero", lambda d: rt(d)["node"].__setitem__("endpoint", "127.0.0.1:0"),
     "members.rivertown_pd.node.endpoint: got '127.0.0.1:0', want a port from 1 to 65535"),
    ("shared endpoint", lambda d: d["members"]["harbor_pd"]["node"].__setitem__("endpoint", "127.0.0.1:7401"),
     "members.harbor_pd.node.endpoint: '127.0.0.1:7401' is also rivertown_pd's endpoint; "
     "each member needs its own"),
    ("shared issuer", lambda d: d["members"]["lakeside_so"]["identity_provider"].__setitem__(
        "issuer", "https://idp.rivertown_pd.accord.test"),
     "members.lakeside_so.identity_provider.issuer: 'https://idp.rivertown_pd.accord.test' is also "
     "rivertown_pd's issuer; each member needs its own"),
    ("roles with a record field", record_field_with_roles,
     "members.rivertown_pd.release.withhold[1].roles: roles pick people, and 'summary' is a field of "
     "the record, not of a person; withhold record fields in a rule without roles"),
]


@pytest.mark.parametrize(("mutate", "message"), [(m, msg) for _, m, msg in SEMANTIC_ERRORS],
                         ids=[name for name, _, _ in SEMANTIC_ERRORS])
def test_semantic_errors_name_file_and_field(pilot: Path, mutate: Mutation, message: str) -> None:
    doc = read(pilot)
    mutate(doc)
    with pytest.raises(ConfigError) as caught:
        Agreement.from_document(doc, pilot)
    assert str(caught.value) == f"{pilot}: {message}"


def test_missing_key_file_names_the_resolved_path(pilot: Path, root: Path) -> None:
    (root / "idp" / "harbor_pd" / "public_key.pem").unlink()
    with pytest.raises(ConfigError) as caught:
        Agreement.load(pilot)
    resolved = (root / "idp" / "harbor_pd" / "public_key.pem").resolve()
    assert str(caught.value) == (
        f"{pilot}: members.harbor_pd.identity_provider.keys.dev-1: key file {resolved} not found"
    )


def test_key_path_that_is_a_folder_is_refused(pilot: Path, root: Path) -> None:
    doc = read(pilot)
    rt(doc)["identity_provider"]["keys"] = {"k.2": "../../idp"}
    with pytest.raises(ConfigError) as caught:
        Agreement.from_document(doc, pilot)
    assert str(caught.value) == (
        f"{pilot}: members.rivertown_pd.identity_provider.keys[\"k.2\"]: "
        f"key file {(root / 'idp').resolve()} is not a file"
    )


def test_key_paths_are_relative_to_the_agreement_file(pilot: Path, root: Path) -> None:
    moved = root / "elsewhere" / "local-pilot.yaml"
    moved.parent.mkdir()
    shutil.copy(pilot, moved)
    with pytest.raises(ConfigError, match=r"keys\.dev-1: key file .* not found"):
        Agreement.load(moved)


# ------------------------------------------------------------------------ file errors


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.yaml", "agreement: [unclosed\nversion: 1\n",
         "not valid YAML: line 2 column 8: expected ',' or ']', but got ':'"),
        ("b.yaml", "agreement: x\nversion: 1\nagreement: y\n",
         "not valid YAML: line 3 column 1: duplicate key 'agreement'"),
        ("c.yml", "a: b: c\n", "not valid YAML: line 1 column 5: mapping values are not allowed here"),
        ("d.yaml", "x: &base [1]\ny: *base\n",
         "not valid YAML: line 2 column 4: aliases (*name) are not allowed in agreement files"),
        ("e.yaml", "title: \x01\n",
         "not valid YAML: line 1 column 8: unacceptable character #x0001: "
         "special characters are not allowed"),
        ("f.json", '{"agreement": "x",}',
         "not valid JSON: line 1 column 19: Expecting property name enclosed in double quotes"),
        ("g.json", '{"version": 1, "version": 2}', "not valid JSON: duplicate key 'version'"),
        ("h.json", '{"version": NaN}', "not valid JSON: NaN is not allowed"),
        ("i.toml", "agreement = 'x'\n", "unknown extension '.toml'; want .yaml, .yml or .json"),
        ("agreement", "agreement: x\n", "unknown extension no extension; want .yaml, .yml or .json"),
    ],
)
def test_file_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Agreement.load(path)
    assert str(caught.value) == f"{path}: {message}"


def test_empty_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Agreement.load(path)
    assert str(caught.value) == f"{path}: the document is empty; want a mapping"


def test_file_over_one_mebibyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (1 << 20) + b"\n")
    with pytest.raises(ConfigError) as caught:
        Agreement.load(path)
    assert str(caught.value) == f"{path}: larger than 1048576 bytes (1 MiB); refusing to read it"


def test_file_of_exactly_one_mebibyte_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * ((1 << 20) - 1) + b"\n")
    with pytest.raises(ConfigError, match="the document is empty"):
        Agreement.load(path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        Agreement.load(path)
    assert str(caught.value) == f"{path}: not UTF-8 text: byte 10: invalid continuation byte"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as caught:
        Agreement.load(path)
    assert str(caught.value) == f"{path}: cannot read: No such file or directory"


def test_yaml_unsafe_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("title: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid YAML: line 1 column 8: could not determine"):
        Agreement.load(path)


# ------------------------------------------------------------------ backstop invariants


def test_member_built_in_code_is_still_checked(pilot: Path) -> None:
    member = Agreement.load(pilot).members["rivertown_pd"]
    with pytest.raises(ConfigError, match="identity 'accord:agency:harbor_pd' is not the agency's"):
        dataclasses.replace(member, identity="accord:agency:harbor_pd")
    with pytest.raises(ConfigError, match="exclude_labels must include 'sealed'"):
        dataclasses.replace(member, exclude_labels=frozenset({"juvenile"}))


def test_agreement_built_in_code_is_still_checked(pilot: Path) -> None:
    agreement = Agreement.load(pilot)
    with pytest.raises(ConfigError, match="valid_until is before valid_from"):
        dataclasses.replace(agreement, valid_until=dt.date(2025, 1, 1))
    with pytest.raises(ConfigError, match="names purposes it does not have"):
        dataclasses.replace(agreement, purposes=("human_trafficking",))
    with pytest.raises(ConfigError, match="want at least 2 members"):
        dataclasses.replace(agreement, members={"harbor_pd": agreement.members["harbor_pd"]})


# ---------------------------------------------------------------------- agreement sets


def test_set_of_both_examples(pilot: Path, coastal: Path) -> None:
    agreements = load_agreements([pilot, coastal])
    assert agreements.ids == ("coastal-task-force", "local-pilot")
    assert agreements.agencies == ("bay_county_so", "harbor_pd", "lakeside_so", "rivertown_pd", "tip_hotline")
    assert [a.id for a in agreements.for_agency("lakeside_so")] == ["coastal-task-force", "local-pilot"]
    assert [a.id for a in agreements.for_agency("bay_county_so")] == ["coastal-task-force"]
    assert agreements.for_agency("nobody") == ()
    pilot_agreement = agreements.get("local-pilot")
    assert pilot_agreement is not None and pilot_agreement.source == pilot
    assert agreements.get("nope") is None
    harbor = agreements.member("harbor_pd")
    assert harbor is not None and harbor.endpoint == "127.0.0.1:7403"
    assert agreements.member("nobody") is None
    data = agreements.to_policy_data()
    assert list(data) == ["agreements"]
    assert data["agreements"]["local-pilot"] == Agreement.load(pilot).to_policy_data()
    assert data["agreements"]["coastal-task-force"] == Agreement.load(coastal).to_policy_data()


@pytest.mark.parametrize(
    ("agency", "requested", "expected"),
    [
        ("rivertown_pd", None, "local-pilot"),
        ("rivertown_pd", "", "local-pilot"),
        ("bay_county_so", None, "coastal-task-force"),
        ("lakeside_so", "coastal-task-force", "coastal-task-force"),
        ("lakeside_so", "local-pilot", "local-pilot"),
        ("rivertown_pd", "local-pilot", "local-pilot"),
    ],
)
def test_resolve(pilot: Path, coastal: Path, agency: str, requested: str | None, expected: str) -> None:
    assert load_agreements([pilot, coastal]).resolve(agency, requested).id == expected


def test_resolve_ambiguous_names_the_choices(pilot: Path, coastal: Path) -> None:
    with pytest.raises(InvalidArgument) as caught:
        load_agreements([pilot, coastal]).resolve("lakeside_so", None)
    assert str(caught.value) == (
        "agreement: lakeside_so belongs to 2 agreements [coastal-task-force, local-pilot]; name one"
    )


@pytest.mark.parametrize(
    ("agency", "requested", "message"),
    [
        ("lakeside_so", "harbor-watch",
         "agreement: 'harbor-watch' is not an agreement lakeside_so belongs to; "
         "want one of [coastal-task-force, local-pilot]"),
        # Named but not a member: the same answer, so the caller learns nothing about it.
        ("rivertown_pd", "coastal-task-force",
         "agreement: 'coastal-task-force' is not an agreement rivertown_pd belongs to; "
         "want one of [local-pilot]"),
    ],
)
def test_resolve_unknown(pilot: Path, coastal: Path, agency: str, requested: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        load_agreements([pilot, coastal]).resolve(agency, requested)
    assert str(caught.value) == message


def test_resolve_for_an_agency_in_no_agreement(pilot: Path) -> None:
    with pytest.raises(PermissionDenied, match="agreement: bay_county_so belongs to no agreement"):
        load_agreements([pilot]).resolve("bay_county_so", None)


def test_no_agreements_is_refused() -> None:
    with pytest.raises(ConfigError, match="none given"):
        load_agreements([])


def test_duplicate_agreement_ids_are_refused(pilot: Path) -> None:
    copy_path = pilot.with_name("pilot-copy.yaml")
    shutil.copy(pilot, copy_path)
    with pytest.raises(ConfigError) as caught:
        load_agreements([pilot, copy_path])
    assert str(caught.value) == f"{copy_path}: agreement: 'local-pilot' is already defined in {pilot}"


@pytest.mark.parametrize(
    ("section", "key", "value", "field", "shown"),
    [
        ("node", "endpoint", "127.0.0.1:7499", "node.endpoint", "'127.0.0.1:7499'"),
        ("identity_provider", "issuer", "https://idp.harbor.example", "identity_provider.issuer",
         "'https://idp.harbor.example'"),
        ("identity_provider", "algorithms", ["ES256"], "identity_provider.algorithms", "[ES256]"),
    ],
)
def test_an_agency_is_the_same_in_every_agreement(
    pilot: Path, coastal: Path, section: str, key: str, value: object, field: str, shown: str
) -> None:
    doc = read(coastal)
    doc["members"]["harbor_pd"][section][key] = value
    write(coastal, doc)
    with pytest.raises(ConfigError) as caught:
        load_agreements([pilot, coastal])
    message = str(caught.value)
    # The coastal file sorts first, so it is the reference the pilot is compared with.
    assert message.startswith(f"{pilot}: members.harbor_pd.{field}: got ")
    assert f"but {coastal} says {shown}" in message
    assert message.endswith("an agency must have the same node and identity provider in every agreement")


def test_keys_must_agree_across_agreements(pilot: Path, coastal: Path, root: Path) -> None:
    shutil.copy(root / "idp" / "harbor_pd" / "public_key.pem", root / "idp" / "harbor_pd" / "other.pem")
    doc = read(coastal)
    doc["members"]["harbor_pd"]["identity_provider"]["keys"] = {"dev-1": "../../idp/harbor_pd/other.pem"}
    write(coastal, doc)
    with pytest.raises(ConfigError) as caught:
        load_agreements([pilot, coastal])
    keys = (root / "idp" / "harbor_pd").resolve()
    assert str(caught.value).startswith(
        f"{pilot}: members.harbor_pd.identity_provider.keys: got {{dev-1: {keys / 'public_key.pem'}}}, "
        f"but {coastal} says {{dev-1: {keys / 'other.pem'}}}; "
    )


def test_an_issuer_belongs_to_one_agency_across_agreements(pilot: Path, coastal: Path) -> None:
    doc = read(coastal)
    doc["members"]["bay_county_so"]["identity_provider"]["issuer"] = "https://idp.rivertown_pd.accord.test"
    write(coastal, doc)
    with pytest.raises(ConfigError) as caught:
        load_agreements([pilot, coastal])
    assert str(caught.value) == (
        f"{pilot}: members.rivertown_pd.identity_provider.issuer: 'https://idp.rivertown_pd.accord.test' "
        f"is already bay_county_so's issuer in {coastal}"
    )


def test_set_refuses_being_built_empty_directly() -> None:
    with pytest.raises(ConfigError):
        AgreementSet({})


# ------------------------------------------------------------------------ the schema


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(dict(SCHEMA))
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_record_types_match_node_records() -> None:
    assert list(SCHEMA["$defs"]["record_type"]["enum"]) == [t.value for t in NodeRecordType]


def test_schema_person_roles_match_node_records() -> None:
    assert list(SCHEMA["$defs"]["person_role"]["enum"]) == [r.value for r in Role]


def as_python(pattern: str) -> str:
    """A schema pattern as the code writes it: JSON Schema's "$" is the end, Python's "\\Z"."""
    assert pattern.endswith("$")
    return pattern[:-1] + r"\Z"


def test_schema_labels_match_node_records() -> None:
    assert as_python(SCHEMA["$defs"]["label"]["pattern"]) == _LABEL_RE.pattern


def test_schema_agrees_with_accord_identity_and_config() -> None:
    assert set(SCHEMA["$defs"]["user_role"]["enum"]) == ROLES
    assert set(SCHEMA["$defs"]["algorithm"]["enum"]) == ALLOWED_ALGORITHMS
    assert as_python(SCHEMA["$defs"]["agency_id"]["pattern"]) == AGENCY_RE.pattern


def test_schema_withheld_fields_are_person_and_record_fields() -> None:
    assert SCHEMA["$defs"]["withheld_field"]["enum"] == [
        *SCHEMA["$defs"]["person_field"]["enum"], *SCHEMA["$defs"]["record_field"]["enum"]
    ]
    assert agreement_module.PERSON_FIELDS == ("name", "aliases", "nicknames", "dobs", "phones", "emails",
                                              "addresses")


def test_every_object_in_the_schema_refuses_unknown_fields() -> None:
    def objects(node: object) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found.extend(objects(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(objects(value))
        return found

    schema_objects = objects(copy.deepcopy(dict(SCHEMA)))
    assert len(schema_objects) >= 8
    for node in schema_objects:
        assert "additionalProperties" in node, node.get("properties", node)


def test_the_member_model_and_the_policy_data_cover_the_same_fields(pilot: Path) -> None:
    member = Agreement.load(pilot).members["rivertown_pd"]
    assert isinstance(member, Member)
    data = member.to_policy_data()
    assert set(data) == {"name", "purposes", "search_roles", "release_roles", "shares", "pointer_fields",
                         "release", "node", "identity_provider", "pivot_on",
                         "deconfliction_contact"}
