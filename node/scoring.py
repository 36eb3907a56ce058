"""Fellegi–Sunter scoring of a candidate person against a query, on keyed encodings.

A candidate found through a blocking key or an exact token is compared field
by field (given name, family name, date of birth, phone, email, address). Each
field lands on one *level*: the most informative agreement that holds
(exact, nickname, phonetic, similar spelling, day and month swapped, ...), a
disagreement, or missing (either side lacks the field). Every level carries a
Fellegi–Sunter weight ``log2(m / u)``, where ``m`` is how often true matches
show that level and ``u`` how often non-matches do; the score is the sum over
fields, plus fixed weights for a plate or VIN that matched exactly. A missing
field weighs nothing.

The weights in :data:`WEIGHTS` were estimated on labelled synthetic data of a
training seed that the benchmark never scores (``python -m
benchmarks.matching --fit``); docs/matching.md explains how, and how the
thresholds were chosen. Only keyed encodings are compared: the node never
needs the query's plaintext, and the plaintext of its own records is not read
either.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from accord.v1 import common_pb2
from node.bloom import dice
from node.encodings import Profile
from node.tokens import Kind


class Field(enum.Enum):
    """The compared fields; values are the ``IdentifierKind`` they are reported as."""

    GIVEN = Kind.GIVEN_NAME
    FAMILY = Kind.FAMILY_NAME
    DOB = Kind.DOB
    PHONE = Kind.PHONE
    EMAIL = Kind.EMAIL
    ADDRESS = Kind.ADDRESS


class Level(enum.Enum):
    """How one field compared; values are the ``AgreementBasis`` reported."""

    EXACT = common_pb2.AGREEMENT_BASIS_SAME_VALUE
    NICKNAME = common_pb2.AGREEMENT_BASIS_NICKNAME
    PHONETIC = common_pb2.AGREEMENT_BASIS_PHONETIC
    SIMILAR_HIGH = -1  # reported as SIMILAR_SPELLING
    SIMILAR = common_pb2.AGREEMENT_BASIS_SIMILAR_SPELLING
    SWAPPED = common_pb2.AGREEMENT_BASIS_DAY_MONTH_SWAPPED
    SAME_YEAR = common_pb2.AGREEMENT_BASIS_SAME_YEAR
    ONE_DIGIT = common_pb2.AGREEMENT_BASIS_ONE_DIGIT_DIFFERS
    DISAGREE = -2

    @property
    def basis(self) -> int:
        if self is Level.SIMILAR_HIGH:
            return common_pb2.AGREEMENT_BASIS_SIMILAR_SPELLING
        return int(self.value)


#: Dice coefficients of balanced filters at which spellings count as similar.
#: Unrelated names score about 0.55 to 0.75, one typo about 0.8 to 0.92.
SIMILAR_HIGH_DICE: Final = 0.86
SIMILAR_DICE: Final = 0.78
ADDRESS_SIMILAR_DICE: Final = 0.86

#: The levels each field can reach besides DISAGREE, with the encodings that
#: decide them.
_TOKEN_LEVELS: Final[dict[Field, tuple[tuple[Level, Kind], ...]]] = {
    Field.GIVEN: ((Level.EXACT, Kind.GIVEN_NAME), (Level.NICKNAME, Kind.GIVEN_CANONICAL),
                  (Level.PHONETIC, Kind.GIVEN_PHONETIC)),
    Field.FAMILY: ((Level.EXACT, Kind.FAMILY_NAME), (Level.PHONETIC, Kind.FAMILY_PHONETIC)),
    Field.DOB: ((Level.EXACT, Kind.DOB), (Level.SWAPPED, Kind.DOB_UNORDERED),
                (Level.SAME_YEAR, Kind.BIRTH_YEAR)),
    Field.PHONE: ((Level.EXACT, Kind.PHONE), (Level.ONE_DIGIT, Kind.PHONE_MASKED)),
    Field.EMAIL: ((Level.EXACT, Kind.EMAIL),),
    Field.ADDRESS: ((Level.EXACT, Kind.ADDRESS),),
}
#: A field is present on one side when that side has any of these encodings.
_PRESENT: Final[dict[Field, tuple[Kind, ...]]] = {
    Field.GIVEN: (Kind.GIVEN_NAME, Kind.GIVEN_CANONICAL, Kind.NICKNAME),
    Field.FAMILY: (Kind.FAMILY_NAME,),
    Field.DOB: (Kind.DOB,),
    Field.PHONE: (Kind.PHONE,),
    Field.EMAIL: (Kind.EMAIL,),
    Field.ADDRESS: (Kind.ADDRESS,),
}

Weights = Mapping[Field, Mapping[Level, float]]

#: log2(m/u) per field and level, estimated by ``python -m benchmarks.matching
#: --fit`` on training seed 101 (3,000 people, 2,000 records per source, the
#: REALISTIC error rates), never on the evaluation seed; see docs/matching.md.
#: One weight is configured instead: an exact address, learned as 27.5 from
#: synthetic people who each have an address of their own, is set to 12,
#: because real households share addresses.
WEIGHTS: Final[Weights] = {
    Field.GIVEN: {Level.EXACT: 7.7, Level.NICKNAME: 5.4, Level.PHONETIC: 4.1,
                  Level.SIMILAR_HIGH: 3.7, Level.SIMILAR: -0.2, Level.DISAGREE: -6.1},
    Field.FAMILY: {Level.EXACT: 7.7, Level.PHONETIC: 4.0, Level.SIMILAR_HIGH: 5.0,
                   Level.SIMILAR: -0.7, Level.DISAGREE: -10.9},
    Field.DOB: {Level.EXACT: 13.7, Level.SWAPPED: 10.2, Level.SAME_YEAR: -12.4,
                Level.DISAGREE: -17.3},
    Field.PHONE: {Level.EXACT: 19.5, Level.ONE_DIGIT: 2.7, Level.DISAGREE: -5.1},
    Field.EMAIL: {Level.EXACT: 20.0, Level.DISAGREE: -8.5},
    Field.ADDRESS: {Level.EXACT: 12.0, Level.SIMILAR_HIGH: -4.9, Level.DISAGREE: -15.3},
}

#: Configured weights of record-level vehicle agreements (plates and VINs are
#: not a person's, and a different vehicle says nothing against the person).
PLATE_WEIGHT: Final = 12.0
VIN_WEIGHT: Final = 14.0

#: Score thresholds. A record below POSSIBLE is not pointed to: 11.8 is the
#: lowest score from which pairs of the training data are linked with
#: precision 0.995. PROBABLE and STRONG keep the strengths exact tokens always
#: had (a full name alone stays possible at 15.4, a phone alone probable at
#: 19.5, name and birth date strong at 29.1); every pair of the training data
#: scoring 15.6 or more was a true match in 999 cases of 1000.
POSSIBLE: Final = 11.8
PROBABLE: Final = 17.0
STRONG: Final = 25.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """A candidate's score and the fields that agreed (with their level)."""

    score: float
    levels: Mapping[Field, Level]
    vehicles: frozenset[Kind] = frozenset()

    @property
    def agreements(self) -> list[tuple[Kind, Level]]:
        """(kind, level) of each field that agreed, in field order, then vehicles."""
        out: list[tuple[Kind, Level]] = [
            (f.value, lvl) for f, lvl in self.levels.items() if lvl is not Level.DISAGREE
        ]
        out += [(k, Level.EXACT) for k in sorted(self.vehicles)]
        return out

    def to_proto(self) -> list[common_pb2.FieldAgreement]:
        """The match explanation carried by a pointer."""
        return [
            common_pb2.FieldAgreement(
                kind=int(kind),  # type: ignore[arg-type]
                level=(common_pb2.AGREEMENT_LEVEL_EXACT if level is Level.EXACT
                       else common_pb2.AGREEMENT_LEVEL_APPROXIMATE),
                basis=level.basis,  # type: ignore[arg-type]
            )
            for kind, level in self.agreements
        ]


def _best_dice(a: Iterable[int], b: Iterable[int]) -> float:
    bs = tuple(b)
    return max((dice(x, y) for x in a for y in bs), default=0.0)


def _meet(a: Mapping[Kind, frozenset[bytes]], kind_a: Kind,
          b: Mapping[Kind, frozenset[bytes]], kind_b: Kind) -> bool:
    return kind_a in a and kind_b in b and not a[kind_a].isdisjoint(b[kind_b])


_NAMES: Final = (Field.GIVEN, Field.FAMILY)
_NAMES_PRESENT: Final = {Field.GIVEN: (Kind.GIVEN_NAME,), Field.FAMILY: (Kind.FAMILY_NAME,)}


def compare_fields(query: Profile, candidate: Profile, weights: Weights = WEIGHTS
                   ) -> dict[Field, Level]:
    """The level of every field present on both sides.

    When both sides have a given and a family name, the names are also
    compared crosswise (one side's given name with the other's family name,
    through the stored profile's swapped section) and the better reading of
    the two is kept: clerks do write the family name in the given-name field.
    """
    levels = _compare_fields(query, candidate, weights, _PRESENT)
    if not all(f in levels for f in _NAMES):
        return levels
    if (swapped := candidate.swapped()) is not None:
        crosswise = _compare_fields(query, swapped, weights, _NAMES_PRESENT)
    elif (swapped := query.swapped()) is not None:
        crosswise = _compare_fields(swapped, candidate, weights, _NAMES_PRESENT)
    else:
        return levels
    if (all(f in crosswise for f in _NAMES)
            and sum(weights[f][crosswise[f]] for f in _NAMES)
            > sum(weights[f][levels[f]] for f in _NAMES)):
        levels.update(crosswise)
    return levels


def _compare_fields(query: Profile, candidate: Profile, weights: Weights,
                    fields: Mapping[Field, tuple[Kind, ...]]) -> dict[Field, Level]:
    levels: dict[Field, Level] = {}
    qt, ct = query.tokens, candidate.tokens
    for field, present in fields.items():
        if not (any(k in qt for k in present) and any(k in ct for k in present)):
            continue
        met = [level for level, kind in _TOKEN_LEVELS[field]
               if kind in qt and kind in ct and not qt[kind].isdisjoint(ct[kind])]
        if field is Field.GIVEN and (_meet(qt, Kind.GIVEN_NAME, ct, Kind.NICKNAME)
                                     or _meet(qt, Kind.NICKNAME, ct, Kind.GIVEN_NAME)):
            met.append(Level.NICKNAME)  # one side's given name is the other's recorded nickname
        filter_kind = field.value
        if filter_kind in query.filters and filter_kind in candidate.filters:
            similarity = _best_dice(query.filters[filter_kind], candidate.filters[filter_kind])
            if field is Field.ADDRESS:
                if similarity >= ADDRESS_SIMILAR_DICE:
                    met.append(Level.SIMILAR_HIGH)
            elif similarity >= SIMILAR_HIGH_DICE:
                met.append(Level.SIMILAR_HIGH)
            elif similarity >= SIMILAR_DICE:
                met.append(Level.SIMILAR)
        table = weights[field]
        levels[field] = max(met, key=lambda lvl: table[lvl]) if met else Level.DISAGREE
    return levels


def compare(query: Profile, candidate: Profile, weights: Weights = WEIGHTS) -> Comparison:
    """Score one candidate person against the query."""
    levels = compare_fields(query, candidate, weights)
    return Comparison(sum(weights[f][lvl] for f, lvl in levels.items()), levels)


def compare_record(
    query: Profile,
    profiles: Iterable[Profile],
    exact_kinds: frozenset[Kind],
    weights: Weights = WEIGHTS,
) -> Comparison | None:
    """The best-scoring person of a record, plus vehicle agreements.

    An exact token that matched counts for its field whenever the profiles
    could not compare that field: the record was indexed with exact tokens
    only, or the query sent no field encodings for it. Returns None when
    nothing at all agreed.
    """
    vehicles = exact_kinds & {Kind.PLATE, Kind.VIN}
    bonus = PLATE_WEIGHT * (Kind.PLATE in vehicles) + VIN_WEIGHT * (Kind.VIN in vehicles)
    best: dict[Field, Level] = {}
    best_score = float("-inf")
    for profile in profiles:
        levels = compare_fields(query, profile, weights)
        score = sum(weights[f][lvl] for f, lvl in levels.items())
        if score > best_score:
            best, best_score = levels, score
    for field in _exact_fields(exact_kinds):
        best.setdefault(field, Level.EXACT)
    if not (vehicles or any(lvl is not Level.DISAGREE for lvl in best.values())):
        return None
    return Comparison(sum(weights[f][lvl] for f, lvl in best.items()) + bonus, best, vehicles)


def _exact_fields(kinds: frozenset[Kind]) -> list[Field]:
    fields = []
    if Kind.NAME in kinds:
        fields += [Field.GIVEN, Field.FAMILY]
    if Kind.NAME_DOB in kinds:
        fields.append(Field.DOB)
    for kind, field in ((Kind.PHONE, Field.PHONE), (Kind.EMAIL, Field.EMAIL),
                        (Kind.ADDRESS, Field.ADDRESS)):
        if kind in kinds:
            fields.append(field)
    return fields


_UNIQUE: Final = frozenset({Kind.PHONE, Kind.EMAIL, Kind.PLATE, Kind.VIN})


def legacy_strength(kinds: frozenset[Kind]) -> int:
    """The strength exact tokens alone give (the rules before fuzzy matching).

    * strong: name with date of birth, or two or more kinds of identifier;
    * probable: one unique identifier (phone, email, plate, VIN);
    * possible: a name alone, or an address alone.
    """
    exact = kinds - {Kind.BLOCKING_KEY}
    if Kind.NAME_DOB in exact or len(exact) >= 2:
        return common_pb2.MATCH_STRENGTH_STRONG
    if exact & _UNIQUE:
        return common_pb2.MATCH_STRENGTH_PROBABLE
    if exact:
        return common_pb2.MATCH_STRENGTH_POSSIBLE
    return common_pb2.MATCH_STRENGTH_UNSPECIFIED


def strength(score: float, exact_kinds: frozenset[Kind]) -> int:
    """The strength of a match, or MATCH_STRENGTH_UNSPECIFIED for no pointer.

    The score decides whether there is a pointer at all (``>= POSSIBLE``) and
    its band (``PROBABLE``, ``STRONG``); exact tokens keep the strength they
    always had (:func:`legacy_strength`) when the score does not contradict them.
    """
    if score < POSSIBLE:
        return common_pb2.MATCH_STRENGTH_UNSPECIFIED
    band = (common_pb2.MATCH_STRENGTH_STRONG if score >= STRONG
            else common_pb2.MATCH_STRENGTH_PROBABLE if score >= PROBABLE
            else common_pb2.MATCH_STRENGTH_POSSIBLE)
    return max(band, legacy_strength(exact_kinds))
