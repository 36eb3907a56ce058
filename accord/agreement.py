"""Data-sharing agreements: what the members of a federation agreed to share.

An agreement file (YAML, or JSON with the same structure; chosen by the
extension ``.yaml``, ``.yml`` or ``.json``) names the agreement's purposes and
members, and for each member its node, its identity provider, what it shares,
what a pointer may show and the rules a release must follow::

    agreement: local-pilot                 # lowercase id
    version: 3                             # positive integer
    title: Tri-county anti-trafficking pilot
    valid_from: 2026-01-01
    valid_until: 2027-12-31                # inclusive
    purposes: [human_trafficking, missing_person, violent_crime, victim_services]
    members:                               # at least two
      rivertown_pd:
        name: Rivertown Police Department
        node: {endpoint: "127.0.0.1:7401", identity: "accord:agency:rivertown_pd"}
        identity_provider:
          issuer: https://idp.rivertown_pd.accord.test
          algorithms: [EdDSA]              # default [EdDSA]
          keys: {dev-1: ../idp/rivertown_pd/public_key.pem}   # relative to this file
        purposes: [human_trafficking]      # default: all of the agreement's
        search_roles: [investigator]       # default [investigator]
        release_roles: [investigator]      # default [investigator]
        shares: {record_types: [cad_call], exclude_labels: [juvenile]}  # "sealed" always excluded
        pointer_fields: [record_type, coarse_date, matched]            # default: all three
        release:
          case_required: true              # default true
          justification_required: true     # default true
          approval: {record_types: [hotline_tip], labels: [confidential_source]}
          withhold:
            - {fields: [phones, addresses, emails], roles: [victim], unless_purposes: [victim_services]}

Loading is two steps, both precise about the file and the field at fault:
the JSON Schema in ``agreement_schema.json`` (draft 2020-12) checks the shape,
then :meth:`Agreement.from_document` checks what a schema cannot say (dates in
order, member purposes within the agreement's, node identities matching their
agency, key files present) and builds frozen objects with every default filled
in. :meth:`Agreement.to_policy_data` is the normalised form the Rego policies
in ``policies/`` read; its shape is a contract with them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import yaml  # type: ignore[import-untyped, unused-ignore]

from accord.errors import ConfigError, InvalidArgument, PermissionDenied
from accord.tls import agency_identity

#: Where the JSON Schema of an agreement file lives (shipped beside this module).
SCHEMA_PATH = Path(__file__).with_name("agreement_schema.json")

#: Agreement files larger than this are refused unread: they are a few KiB.
MAX_FILE_BYTES = 1 << 20

_SUFFIXES = {".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}

#: "sealed" records are never shared, whatever an agreement says.
ALWAYS_EXCLUDED = "sealed"


def _load_schema() -> dict[str, Any]:
    try:
        schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # a broken installation, not a user error
        raise ConfigError(f"{SCHEMA_PATH}: cannot read the agreement schema: {exc}") from exc
    return schema


SCHEMA: Mapping[str, Any] = MappingProxyType(_load_schema())


def _enum(name: str) -> tuple[str, ...]:
    return tuple(SCHEMA["$defs"][name]["enum"])


# The vocabularies, read from the schema so there is one list of each. The
# record types and person roles repeat node.records.RecordType and Role (accord
# must not import node); a unit test keeps them equal.
RECORD_TYPES = _enum("record_type")
PERSON_ROLES = _enum("person_role")
USER_ROLES = _enum("user_role")
ALGORITHMS = _enum("algorithm")
POINTER_FIELDS = _enum("pointer_field")
PERSON_FIELDS = _enum("person_field")
RECORD_FIELDS = _enum("record_field")
PIVOT_KINDS = _enum("pivot_kind")

DEFAULT_ALGORITHMS = ("EdDSA",)
DEFAULT_ROLES = ("investigator",)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class WithholdRule:
    """Fields a release leaves out, for people in some roles, unless the purpose is one of some."""

    fields: frozenset[str]
    roles: frozenset[str] = frozenset(PERSON_ROLES)
    unless_purposes: frozenset[str] = frozenset()

    def to_policy_data(self) -> dict[str, Any]:
        return {
            "fields": sorted(self.fields),
            "roles": sorted(self.roles),
            "unless_purposes": sorted(self.unless_purposes),
        }


@dataclass(frozen=True, slots=True)
class ReleaseRules:
    """What a request to release a member's record must carry, and what it leaves out."""

    case_required: bool = True
    justification_required: bool = True
    #: Releases of these record types, or of records with these labels, wait
    #: for the owning agency's approval.
    approval_record_types: frozenset[str] = frozenset()
    approval_labels: frozenset[str] = frozenset()
    withhold: tuple[WithholdRule, ...] = ()

    def to_policy_data(self) -> dict[str, Any]:
        return {
            "case_required": self.case_required,
            "justification_required": self.justification_required,
            "approval": {
                "record_types": sorted(self.approval_record_types),
                "labels": sorted(self.approval_labels),
            },
            "withhold": [rule.to_policy_data() for rule in self.withhold],
        }


@dataclass(frozen=True, slots=True)
class Member:
    """One agency's part in an agreement, with every default filled in."""

    agency: str
    name: str
    endpoint: str
    identity: str
    issuer: str
    algorithms: frozenset[str]
    #: kid -> PEM public key file, resolved against the agreement file's folder.
    jwt_keys: Mapping[str, Path]
    purposes: frozenset[str]
    search_roles: frozenset[str]
    release_roles: frozenset[str]
    record_types: frozenset[str]
    #: Always includes "sealed".
    exclude_labels: frozenset[str]
    pointer_fields: frozenset[str]
    release: ReleaseRules = field(default_factory=ReleaseRules)
    #: Which identifiers in this member's records a sweep may follow (none by default).
    pivot_on: frozenset[str] = frozenset()
    #: How others reach this member's investigators about a shared subject;
    #: empty: the member takes no part in deconfliction.
    deconfliction_contact: str = ""

    def __post_init__(self) -> None:
        # A backstop for objects built in code: the loader reports these
        # precisely, with the file and field, before it gets here.
        if self.identity != agency_identity(self.agency):
            raise ConfigError(f"member {self.agency}: identity {self.identity!r} is not the agency's")
        if ALWAYS_EXCLUDED not in self.exclude_labels:
            raise ConfigError(f"member {self.agency}: exclude_labels must include {ALWAYS_EXCLUDED!r}")
        object.__setattr__(self, "jwt_keys", MappingProxyType(dict(self.jwt_keys)))

    def to_policy_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "purposes": sorted(self.purposes),
            "search_roles": sorted(self.search_roles),
            "release_roles": sorted(self.release_roles),
            "shares": {
                "record_types": sorted(self.record_types),
                "exclude_labels": sorted(self.exclude_labels),
            },
            "pointer_fields": sorted(self.pointer_fields),
            "release": self.release.to_policy_data(),
            "pivot_on": sorted(self.pivot_on),
            "deconfliction_contact": self.deconfliction_contact,
            "node": {"endpoint": self.endpoint, "identity": self.identity},
            "identity_provider": {"issuer": self.issuer, "algorithms": sorted(self.algorithms)},
        }


@dataclass(frozen=True, slots=True)
class Agreement:
    """A data-sharing agreement, parsed and checked; see the module docstring."""

    id: str
    version: int
    title: str
    valid_from: dt.date
    valid_until: dt.date
    #: In file order.
    purposes: tuple[str, ...]
    #: agency id -> member, in file order.
    members: Mapping[str, Member]
    source: Path
    #: How deep a search may sweep (1: no sweeps).
    max_depth: int = 1
    #: Deconfliction window in days (0: no deconfliction).
    deconfliction_days: int = 0

    def __post_init__(self) -> None:
        # A backstop for objects built in code; the loader reports these precisely.
        if self.valid_until < self.valid_from:
            raise ConfigError(f"agreement {self.id}: valid_until is before valid_from")
        if len(self.members) < 2:
            raise ConfigError(f"agreement {self.id}: want at least 2 members")
        for agency, member in self.members.items():
            if member.agency != agency:
                raise ConfigError(f"agreement {self.id}: member {agency!r} is named {member.agency!r}")
            stray = member.purposes.union(*(r.unless_purposes for r in member.release.withhold))
            if not stray <= set(self.purposes):
                raise ConfigError(f"agreement {self.id}: member {agency} names purposes it does not have")
        object.__setattr__(self, "members", MappingProxyType(dict(self.members)))

    @classmethod
    def load(cls, path: Path) -> Agreement:
        """Read, check and parse an agreement file (``.yaml``, ``.yml`` or ``.json``)."""
        return cls.from_document(read_document(path), path)

    @classmethod
    def from_document(cls, doc: Any, source: Path) -> Agreement:
        """Check a parsed document (as from ``yaml.safe_load`` or ``json.loads``) and build it.

        ``source`` names the file in error messages, and relative key paths are
        resolved against its folder.
        """
        return _Parser(source).agreement(doc)

    def is_valid_on(self, day: dt.date) -> bool:
        """Whether ``day`` falls within the agreement's term (both ends included).

        Takes a date, not a datetime: which calendar day "now" is depends on a
        time zone, and that is the caller's choice.
        """
        if isinstance(day, dt.datetime):
            raise TypeError("is_valid_on takes a date; pass now.date() in the time zone you mean")
        return self.valid_from <= day <= self.valid_until

    def member(self, agency: str) -> Member | None:
        return self.members.get(agency)

    def to_policy_data(self) -> dict[str, Any]:
        """The normalised JSON the Rego policies read: defaults filled, lists sorted."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "purposes": list(self.purposes),
            "sweeps": {"max_depth": self.max_depth},
            "deconfliction": {"window_days": self.deconfliction_days},
            "members": {agency: m.to_policy_data() for agency, m in self.members.items()},
        }


# ------------------------------------------------------------------ several agreements


@dataclass(frozen=True, slots=True)
class AgreementSet:
    """The agreements a hub serves, checked against each other; build with :func:`load_agreements`."""

    agreements: Mapping[str, Agreement]

    def __post_init__(self) -> None:
        if not self.agreements:
            # An empty set would make every search fail for an obscure reason; refuse it at start.
            raise ConfigError("agreements: none given; want at least one agreement file")
        object.__setattr__(
            self, "agreements", MappingProxyType(dict(sorted(self.agreements.items())))
        )
        _check_consistent(tuple(self.agreements.values()))

    @classmethod
    def of(cls, agreements: Iterable[Agreement]) -> AgreementSet:
        """A set of already-parsed agreements; refuses duplicate ids and inconsistent members."""
        by_id: dict[str, Agreement] = {}
        for agreement in agreements:
            other = by_id.get(agreement.id)
            if other is not None:
                raise ConfigError(
                    f"{agreement.source}: agreement: {agreement.id!r} is already defined in {other.source}"
                )
            by_id[agreement.id] = agreement
        return cls(by_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """The agreement ids, sorted."""
        return tuple(self.agreements)

    @property
    def agencies(self) -> tuple[str, ...]:
        """Every agency that is a member of at least one agreement, sorted."""
        return tuple(sorted({a for agreement in self.agreements.values() for a in agreement.members}))

    def get(self, agreement_id: str) -> Agreement | None:
        return self.agreements.get(agreement_id)

    def for_agency(self, agency: str) -> tuple[Agreement, ...]:
        """The agreements ``agency`` is a member of, sorted by id."""
        return tuple(a for a in self.agreements.values() if agency in a.members)

    def member(self, agency: str) -> Member | None:
        """The agency's membership in its first agreement (by id), or None.

        Its node (endpoint, identity) and identity provider (issuer, algorithms,
        keys) are the same in every agreement; that is checked at load. Its
        purposes, shares and rules differ per agreement: read those from the
        agreement in question.
        """
        mine = self.for_agency(agency)
        return mine[0].members[agency] if mine else None

    def resolve(self, agency: str, requested: str | None) -> Agreement:
        """The agreement a request from ``agency`` is made under.

        ``requested`` names it; when it is None or empty (proto3's unset
        string), the agency's only agreement is taken. Names outside the
        agency's own agreements are refused without saying whether they exist.
        """
        mine = self.for_agency(agency)
        choices = "[" + ", ".join(a.id for a in mine) + "]"
        if requested:
            chosen = self.agreements.get(requested)
            if chosen is None or agency not in chosen.members:
                raise InvalidArgument(
                    f"agreement: {requested!r} is not an agreement {agency} belongs to; "
                    f"want one of {choices}"
                )
            return chosen
        if not mine:
            raise PermissionDenied(f"agreement: {agency} belongs to no agreement")
        if len(mine) > 1:
            raise InvalidArgument(
                f"agreement: {agency} belongs to {len(mine)} agreements {choices}; name one"
            )
        return mine[0]

    def to_policy_data(self) -> dict[str, Any]:
        """``{"agreements": {id: Agreement.to_policy_data()}}``, the Rego policies' data."""
        return {"agreements": {i: a.to_policy_data() for i, a in self.agreements.items()}}


def load_agreements(paths: Iterable[Path]) -> AgreementSet:
    """Load agreement files and check them against each other (see :class:`AgreementSet`)."""
    return AgreementSet.of(Agreement.load(path) for path in paths)


def _check_consistent(agreements: Sequence[Agreement]) -> None:
    """An agency has one node and one identity provider, whichever agreement names it."""
    seen: dict[str, tuple[Agreement, Member]] = {}
    issuers: dict[str, tuple[Agreement, Member]] = {}
    for agreement in agreements:
        for agency, member in agreement.members.items():
            if agency in seen:
                first, was = seen[agency]
                for where, mine, theirs in zip(_FIXED, _fixed(member), _fixed(was), strict=True):
                    if mine != theirs:
                        raise ConfigError(
                            f"{agreement.source}: members.{agency}.{where}: got {mine}, "
                            f"but {first.source} says {theirs}; an agency must have the same "
                            f"node and identity provider in every agreement"
                        )
            else:
                seen[agency] = (agreement, member)
            owner = issuers.setdefault(member.issuer, (agreement, member))
            if owner[1].agency != agency:
                raise ConfigError(
                    f"{agreement.source}: members.{agency}.identity_provider.issuer: "
                    f"{member.issuer!r} is already {owner[1].agency}'s issuer in {owner[0].source}"
                )


#: What an agency keeps the same across agreements, and how :func:`_fixed` shows it.
_FIXED = ("node.endpoint", "node.identity", "identity_provider.issuer", "identity_provider.algorithms",
          "identity_provider.keys")


def _fixed(member: Member) -> tuple[str, ...]:
    keys = ", ".join(f"{kid}: {path}" for kid, path in sorted(member.jwt_keys.items()))
    return (repr(member.endpoint), repr(member.identity), repr(member.issuer),
            _choices(sorted(member.algorithms)), f"{{{keys}}}")


# ------------------------------------------------------------------------ reading files


class _NoDuplicatesLoader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]
    """YAML's safe loader, refusing duplicate keys (YAML keeps the last one silently)
    and aliases (``*name``, which can make a small file expand without bound)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call, unused-ignore]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in agreement files", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable; the constructor below reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _RefusedJson(ValueError):
    """Valid to Python's json module, refused here: duplicate keys, NaN and Infinity."""


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RefusedJson(f"duplicate key {key!r}")
        result[key] = value
    return result


def _json_constant(name: str) -> Any:
    raise _RefusedJson(f"{name} is not allowed")


def read_document(path: Path) -> Any:
    """The parsed content of an agreement file, not yet checked.

    Refuses unknown extensions, files over :data:`MAX_FILE_BYTES`, text that is
    not UTF-8, syntax errors (with line and column), duplicate keys and YAML
    aliases.
    """
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        got = repr(path.suffix) if path.suffix else "no extension"
        raise ConfigError(f"{path}: unknown extension {got}; want .yaml, .yml or .json")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES} bytes (1 MiB); refusing to read it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: byte {exc.start}: {exc.reason}") from exc
    if kind == "JSON":
        try:
            return json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise ConfigError(f"{path}: not valid JSON: {where}: {exc.msg}") from exc
        except _RefusedJson as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
        except RecursionError as exc:
            raise ConfigError(f"{path}: not valid JSON: nested too deeply") from exc
    try:
        return yaml.load(text, Loader=_NoDuplicatesLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML: {where}{problem}") from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        character = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        problem = f"unacceptable character {character}: {exc.reason}"
        raise ConfigError(f"{path}: not valid YAML: line {line} column {column}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from exc


# ---------------------------------------------------------------------- schema checking


def _is_integer(_checker: Any, instance: Any) -> bool:
    # JSON Schema counts 3.0 as an integer; a version number of 3.0 is a mistake.
    return isinstance(instance, int) and not isinstance(instance, bool)


_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date", raises=ValueError)  # type: ignore[untyped-decorator, unused-ignore]
def _is_date(instance: object) -> bool:
    if isinstance(instance, str):
        dt.date.fromisoformat(instance)
    return True


@cache
def _validator() -> Any:
    base = jsonschema.Draft202012Validator
    base.check_schema(dict(SCHEMA))
    integers = base.TYPE_CHECKER.redefine("integer", _is_integer)
    cls = jsonschema.validators.extend(base, type_checker=integers)  # type: ignore[no-untyped-call, unused-ignore]
    return cls(dict(SCHEMA), format_checker=_FORMATS)


def _dates_to_text(value: Any) -> Any:
    """YAML reads an unquoted 2026-01-01 as a date; the schema checks text."""
    if isinstance(value, dt.date):  # datetimes too: their text then fails the date pattern
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    return value


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


def _field(parts: Iterable[Any]) -> str:
    """A field path as people write it: ``members.rivertown_pd.shares.record_types[1]``."""
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, default=str)}]"
    return out


def _show(value: Any) -> str:
    """A value in an error message, short, in the file's own terms."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list) and any(isinstance(v, list | dict) for v in value):
        return "a list"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
}


def _choices(values: Iterable[Any]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _schema_error(error: Any) -> tuple[list[Any], str]:
    """(field path, message) for a jsonschema error, in the words of this file format."""
    path = list(error.absolute_path)
    kind, want, instance, schema = error.validator, error.validator_value, error.instance, error.schema
    if kind == "required":
        missing = [key for key in want if key not in instance]
        return [*path, missing[0]], "missing"
    if kind == "additionalProperties":
        known = schema.get("properties", {})
        unknown = [key for key in instance if key not in known]
        if unknown:
            return path, f"unknown field {_show(unknown[0])}"
    if "propertyNames" in error.absolute_schema_path:
        what = schema.get("description", "a string")
        pattern = f" matching {want}" if kind == "pattern" else ""
        return path, f"got key {_show(instance)}, want {what}{pattern}"
    if kind == "type":
        if not path and instance is None:
            return path, "the document is empty; want a mapping"
        return path, f"got {_show(instance)}, want {_TYPE_NAMES.get(want, want)}"
    if kind == "enum":
        return path, f"{_show(instance)} is not one of {_choices(want)}"
    if kind == "format" or (kind == "pattern" and schema.get("format") == "date"):
        return path, f"got {_show(instance)}, want a date (YYYY-MM-DD)"
    if kind == "pattern":
        return path, f"got {_show(instance)}, want {schema.get('description', 'a string')} matching {want}"
    if kind == "uniqueItems":
        index = next((i for i, v in enumerate(instance) if v in instance[:i]), None)
        if index is not None:
            return [*path, index], f"{_show(instance[index])} is listed twice"
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        bound = "at least" if kind.startswith("min") else "at most"
        noun = path[-1] if path and isinstance(path[-1], str) and kind.endswith("Properties") else "items"
        if want == 1:
            noun = noun.removesuffix("s")
        return path, f"want {bound} {want} {noun}, got {len(instance)}"
    if kind == "minimum":
        return path, f"got {_show(instance)}, want at least {want}"
    if kind == "minLength":
        return path, f"got {_show(instance)}, want a non-empty string"
    if kind == "maxLength":
        return path, f"got a string of {len(instance)} characters, want at most {want}"
    return path, str(error.message)


# ----------------------------------------------------------------------------- parsing


def _first_control_character(value: Any, parts: list[Any]) -> tuple[list[Any], str] | None:
    """Where the first key or text with a control character is, and the character.

    Checked before the schema: its patterns end in ``$``, which Python's
    ``re`` (and so jsonschema) also matches before a final newline, so
    ``"local-pilot\\n"`` would pass for an agreement id.
    """
    if isinstance(value, str):
        found = _CONTROL.search(value)
        return (parts, found.group()) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            found_key = _CONTROL.search(key) if isinstance(key, str) else None
            if found_key:
                return [*parts, key], found_key.group()
            inner = _first_control_character(item, [*parts, key])
            if inner is not None:
                return inner
    if isinstance(value, list):
        for i, item in enumerate(value):
            inner = _first_control_character(item, [*parts, i])
            if inner is not None:
                return inner
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Parser:
    """Turns one checked document into an :class:`Agreement`; every error names file and field."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, parts: Sequence[Any], message: str) -> ConfigError:
        field_path = _field(parts)
        if not field_path:
            return ConfigError(f"{self.source}: {message}")
        return ConfigError(f"{self.source}: {field_path}: {message}")

    def agreement(self, raw: Any) -> Agreement:
        doc = _dates_to_text(raw)
        control = _first_control_character(doc, [])
        if control is not None:
            parts, char = control
            raise self.fail(parts, f"contains the control character U+{ord(char):04X}; "
                                   "every value of an agreement is one line of text")
        error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
        if error is not None:
            raise self.fail(*_schema_error(error))
        # From here on the document has the schema's shape.
        valid_from = dt.date.fromisoformat(doc["valid_from"])
        valid_until = dt.date.fromisoformat(doc["valid_until"])
        if valid_until < valid_from:
            raise self.fail(["valid_until"], f"{valid_until} is before valid_from {valid_from}")
        purposes: tuple[str, ...] = tuple(doc["purposes"])
        members = {agency: self.member(agency, m, purposes) for agency, m in doc["members"].items()}
        self.check_distinct(members, "endpoint", lambda m: m.endpoint, "node.endpoint")
        self.check_distinct(members, "issuer", lambda m: m.issuer, "identity_provider.issuer")
        return Agreement(
            id=doc["agreement"],
            version=doc["version"],
            title=doc["title"],
            valid_from=valid_from,
            valid_until=valid_until,
            purposes=purposes,
            members=members,
            source=self.source,
            max_depth=doc.get("sweeps", {}).get("max_depth", 1),
            deconfliction_days=doc.get("deconfliction", {}).get("window_days", 0),
        )

    def subset(self, parts: list[Any], values: Sequence[str], allowed: Sequence[str]) -> frozenset[str]:
        for i, value in enumerate(values):
            if value not in allowed:
                raise self.fail(
                    [*parts, i],
                    f"{value!r} is not a purpose of this agreement; want one of {_choices(allowed)}",
                )
        return frozenset(values)

    def member(self, agency: str, doc: Mapping[str, Any], purposes: Sequence[str]) -> Member:
        at = ["members", agency]
        node, idp, shares = doc["node"], doc["identity_provider"], doc["shares"]
        identity = node["identity"]
        if identity != agency_identity(agency):
            raise self.fail([*at, "node", "identity"], f"got {identity!r}, want {agency_identity(agency)!r}")
        endpoint = node["endpoint"]
        port = int(endpoint.rpartition(":")[2])
        if not 1 <= port <= 65535:
            raise self.fail([*at, "node", "endpoint"], f"got {endpoint!r}, want a port from 1 to 65535")
        keys: dict[str, Path] = {}
        for kid, name in idp["keys"].items():
            key_path = (self.source.parent / name).resolve()
            if not key_path.is_file():
                problem = "is not a file" if key_path.exists() else "not found"
                raise self.fail([*at, "identity_provider", "keys", kid], f"key file {key_path} {problem}")
            keys[kid] = key_path
        member_purposes = self.subset([*at, "purposes"], doc.get("purposes", purposes), purposes)
        return Member(
            agency=agency,
            name=doc["name"],
            endpoint=endpoint,
            identity=identity,
            issuer=idp["issuer"],
            algorithms=frozenset(idp.get("algorithms", DEFAULT_ALGORITHMS)),
            jwt_keys=keys,
            purposes=member_purposes,
            search_roles=frozenset(doc.get("search_roles", DEFAULT_ROLES)),
            release_roles=frozenset(doc.get("release_roles", DEFAULT_ROLES)),
            record_types=frozenset(shares["record_types"]),
            exclude_labels=frozenset([*shares.get("exclude_labels", ()), ALWAYS_EXCLUDED]),
            pointer_fields=frozenset(doc.get("pointer_fields", POINTER_FIELDS)),
            release=self.release([*at, "release"], doc.get("release", {}), purposes),
            pivot_on=frozenset(doc.get("pivot_on", ())),
            deconfliction_contact=doc.get("deconfliction_contact", "").strip(),
        )

    def release(self, at: list[Any], doc: Mapping[str, Any], purposes: Sequence[str]) -> ReleaseRules:
        approval = doc.get("approval", {})
        return ReleaseRules(
            case_required=doc.get("case_required", True),
            justification_required=doc.get("justification_required", True),
            approval_record_types=frozenset(approval.get("record_types", ())),
            approval_labels=frozenset(approval.get("labels", ())),
            withhold=tuple(self.withhold([*at, "withhold", i], rule, purposes)
                           for i, rule in enumerate(doc.get("withhold", ()))),
        )

    def withhold(self, at: list[Any], doc: Mapping[str, Any], purposes: Sequence[str]) -> WithholdRule:
        fields: list[str] = doc["fields"]
        if "roles" in doc:
            record_fields = [f for f in fields if f in RECORD_FIELDS]
            if record_fields:
                raise self.fail(
                    [*at, "roles"],
                    f"roles pick people, and {record_fields[0]!r} is a field of the record, not of a "
                    f"person; withhold record fields in a rule without roles",
                )
        return WithholdRule(
            fields=frozenset(fields),
            roles=frozenset(doc.get("roles", PERSON_ROLES)),
            unless_purposes=self.subset([*at, "unless_purposes"], doc.get("unless_purposes", ()), purposes),
        )

    def check_distinct(
        self, members: Mapping[str, Member], what: str, get: Callable[[Member], str], where: str
    ) -> None:
        owners: dict[str, str] = {}
        for agency, member in members.items():
            value = get(member)
            if value in owners:
                raise self.fail(
                    ["members", agency, *where.split(".")],
                    f"{value!r} is also {owners[value]}'s {what}; each member needs its own",
                )
            owners[value] = agency

