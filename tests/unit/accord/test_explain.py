"""Match explanations for investigators."""

from __future__ import annotations

from accord.explain import agreement_dicts, explain
from accord.v1 import common_pb2 as pb


def test_explanation_in_words_and_json() -> None:
    pointer = pb.MatchPointer(agreements=[
        pb.FieldAgreement(kind=pb.IDENTIFIER_KIND_DOB, level=pb.AGREEMENT_LEVEL_APPROXIMATE,
                          basis=pb.AGREEMENT_BASIS_DAY_MONTH_SWAPPED),
        pb.FieldAgreement(kind=pb.IDENTIFIER_KIND_FAMILY_NAME, level=pb.AGREEMENT_LEVEL_EXACT,
                          basis=pb.AGREEMENT_BASIS_SAME_VALUE),
        pb.FieldAgreement(kind=pb.IDENTIFIER_KIND_GIVEN_NAME, level=pb.AGREEMENT_LEVEL_APPROXIMATE,
                          basis=pb.AGREEMENT_BASIS_NICKNAME),
    ])
    assert explain(pointer) == (
        "given name approximate (nickname or other spelling of the name); family name exact; "
        "date of birth approximate (day and month swapped)")
    assert agreement_dicts(pointer) == [
        {"field": "given_name", "level": "approximate", "basis": "nickname"},
        {"field": "family_name", "level": "exact", "basis": "same_value"},
        {"field": "dob", "level": "approximate", "basis": "day_month_swapped"},
    ]


def test_no_explanation_is_empty() -> None:
    assert explain(pb.MatchPointer()) == ""
    assert agreement_dicts(pb.MatchPointer()) == []
