"""Why a pointer matched, in words an investigator can judge.

A node explains each pointer field by field (``MatchPointer.agreements``):
which fields agreed, exactly or approximately, and on what basis (a nickname,
the same sound, a similar spelling, day and month swapped...). These helpers
turn that into text and JSON for ``accord search``::

    from accord.explain import agreement_dicts, explain

    explain(pointer)
    # 'family name exact; given name approximate (nickname); date of birth
    #  approximate (day and month swapped)'
    agreement_dicts(pointer)
    # [{"field": "family_name", "level": "exact", "basis": "same_value"}, ...]

Pure functions of the proto; no identifier is ever in a pointer, so nothing
here can reveal one.
"""

from __future__ import annotations

from typing import Final

from accord.v1 import common_pb2

__all__ = ["agreement_dicts", "explain"]

_FIELDS: Final[dict[int, str]] = {
    common_pb2.IDENTIFIER_KIND_GIVEN_NAME: "given name",
    common_pb2.IDENTIFIER_KIND_FAMILY_NAME: "family name",
    common_pb2.IDENTIFIER_KIND_DOB: "date of birth",
    common_pb2.IDENTIFIER_KIND_PHONE: "phone",
    common_pb2.IDENTIFIER_KIND_EMAIL: "email",
    common_pb2.IDENTIFIER_KIND_ADDRESS: "address",
    common_pb2.IDENTIFIER_KIND_PLATE: "plate",
    common_pb2.IDENTIFIER_KIND_VIN: "VIN",
}
_BASES: Final[dict[int, str]] = {
    common_pb2.AGREEMENT_BASIS_SAME_VALUE: "same value",
    common_pb2.AGREEMENT_BASIS_NICKNAME: "nickname or other spelling of the name",
    common_pb2.AGREEMENT_BASIS_PHONETIC: "sounds the same",
    common_pb2.AGREEMENT_BASIS_SIMILAR_SPELLING: "similar spelling",
    common_pb2.AGREEMENT_BASIS_DAY_MONTH_SWAPPED: "day and month swapped",
    common_pb2.AGREEMENT_BASIS_SAME_YEAR: "same year only",
    common_pb2.AGREEMENT_BASIS_ONE_DIGIT_DIFFERS: "one digit differs",
}
#: Display order: names, then birth date, then contact details, then vehicles.
_ORDER: Final = list(_FIELDS)


def _lower(enum_name: str, prefix: str) -> str:
    return enum_name.removeprefix(prefix).lower()


def _sorted(pointer: common_pb2.MatchPointer) -> list[common_pb2.FieldAgreement]:
    return sorted(pointer.agreements,
                  key=lambda a: _ORDER.index(a.kind) if a.kind in _ORDER else len(_ORDER))


def agreement_dicts(pointer: common_pb2.MatchPointer) -> list[dict[str, str]]:
    """The explanation as JSON-ready dicts: field, level (exact/approximate), basis."""
    return [
        {
            "field": _lower(str(common_pb2.IdentifierKind.Name(a.kind)), "IDENTIFIER_KIND_"),
            "level": _lower(str(common_pb2.AgreementLevel.Name(a.level)), "AGREEMENT_LEVEL_"),
            "basis": _lower(str(common_pb2.AgreementBasis.Name(a.basis)), "AGREEMENT_BASIS_"),
        }
        for a in _sorted(pointer)
    ]


def explain(pointer: common_pb2.MatchPointer) -> str:
    """One line: each agreeing field, exact or approximate, and why.

    ``""`` when the pointer carries no explanation (the agreement withholds
    ``matched``, or an older node answered).
    """
    parts = []
    for a in _sorted(pointer):
        field = _FIELDS.get(a.kind, f"kind {a.kind}")
        if a.level == common_pb2.AGREEMENT_LEVEL_EXACT:
            parts.append(f"{field} exact")
        else:
            parts.append(f"{field} approximate ({_BASES.get(a.basis, 'unknown basis')})")
    return "; ".join(parts)
