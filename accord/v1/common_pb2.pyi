from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentifierKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTIFIER_KIND_UNSPECIFIED: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_NAME: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_NAME_DOB: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_PHONE: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_EMAIL: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_PLATE: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_VIN: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_ADDRESS: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_GIVEN_NAME: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_FAMILY_NAME: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_GIVEN_PHONETIC: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_FAMILY_PHONETIC: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_GIVEN_CANONICAL: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_DOB: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_DOB_UNORDERED: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_BIRTH_YEAR: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_PHONE_MASKED: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_BLOCKING_KEY: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_NICKNAME: _ClassVar[IdentifierKind]

class AgreementLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGREEMENT_LEVEL_UNSPECIFIED: _ClassVar[AgreementLevel]
    AGREEMENT_LEVEL_EXACT: _ClassVar[AgreementLevel]
    AGREEMENT_LEVEL_APPROXIMATE: _ClassVar[AgreementLevel]

class AgreementBasis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGREEMENT_BASIS_UNSPECIFIED: _ClassVar[AgreementBasis]
    AGREEMENT_BASIS_SAME_VALUE: _ClassVar[AgreementBasis]
    AGREEMENT_BASIS_NICKNAME: _ClassVar[AgreementBasis]
    AGREEMENT_BASIS_PHONETIC: _ClassVar[AgreementBasis]
    AGREEMENT_BASIS_SIMILAR_SPELLING: _ClassVar[AgreementBasis]
    AGREEMENT_BASIS_DAY_MONTH_SWAPPED: _ClassVar[AgreementBasis]
    AGREEMENT_BASIS_SAME_YEAR: _ClassVar[AgreementBasis]
    AGREEMENT_BASIS_ONE_DIGIT_DIFFERS: _ClassVar[AgreementBasis]

class MatchStrength(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_STRENGTH_UNSPECIFIED: _ClassVar[MatchStrength]
    MATCH_STRENGTH_POSSIBLE: _ClassVar[MatchStrength]
    MATCH_STRENGTH_PROBABLE: _ClassVar[MatchStrength]
    MATCH_STRENGTH_STRONG: _ClassVar[MatchStrength]

class ReleaseState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELEASE_STATE_UNSPECIFIED: _ClassVar[ReleaseState]
    RELEASE_STATE_PENDING_APPROVAL: _ClassVar[ReleaseState]
    RELEASE_STATE_GRANTED: _ClassVar[ReleaseState]
    RELEASE_STATE_DENIED: _ClassVar[ReleaseState]
    RELEASE_STATE_DELIVERED: _ClassVar[ReleaseState]
    RELEASE_STATE_FAILED: _ClassVar[ReleaseState]
IDENTIFIER_KIND_UNSPECIFIED: IdentifierKind
IDENTIFIER_KIND_NAME: IdentifierKind
IDENTIFIER_KIND_NAME_DOB: IdentifierKind
IDENTIFIER_KIND_PHONE: IdentifierKind
IDENTIFIER_KIND_EMAIL: IdentifierKind
IDENTIFIER_KIND_PLATE: IdentifierKind
IDENTIFIER_KIND_VIN: IdentifierKind
IDENTIFIER_KIND_ADDRESS: IdentifierKind
IDENTIFIER_KIND_GIVEN_NAME: IdentifierKind
IDENTIFIER_KIND_FAMILY_NAME: IdentifierKind
IDENTIFIER_KIND_GIVEN_PHONETIC: IdentifierKind
IDENTIFIER_KIND_FAMILY_PHONETIC: IdentifierKind
IDENTIFIER_KIND_GIVEN_CANONICAL: IdentifierKind
IDENTIFIER_KIND_DOB: IdentifierKind
IDENTIFIER_KIND_DOB_UNORDERED: IdentifierKind
IDENTIFIER_KIND_BIRTH_YEAR: IdentifierKind
IDENTIFIER_KIND_PHONE_MASKED: IdentifierKind
IDENTIFIER_KIND_BLOCKING_KEY: IdentifierKind
IDENTIFIER_KIND_NICKNAME: IdentifierKind
AGREEMENT_LEVEL_UNSPECIFIED: AgreementLevel
AGREEMENT_LEVEL_EXACT: AgreementLevel
AGREEMENT_LEVEL_APPROXIMATE: AgreementLevel
AGREEMENT_BASIS_UNSPECIFIED: AgreementBasis
AGREEMENT_BASIS_SAME_VALUE: AgreementBasis
AGREEMENT_BASIS_NICKNAME: AgreementBasis
AGREEMENT_BASIS_PHONETIC: AgreementBasis
AGREEMENT_BASIS_SIMILAR_SPELLING: AgreementBasis
AGREEMENT_BASIS_DAY_MONTH_SWAPPED: AgreementBasis
AGREEMENT_BASIS_SAME_YEAR: AgreementBasis
AGREEMENT_BASIS_ONE_DIGIT_DIFFERS: AgreementBasis
MATCH_STRENGTH_UNSPECIFIED: MatchStrength
MATCH_STRENGTH_POSSIBLE: MatchStrength
MATCH_STRENGTH_PROBABLE: MatchStrength
MATCH_STRENGTH_STRONG: MatchStrength
RELEASE_STATE_UNSPECIFIED: ReleaseState
RELEASE_STATE_PENDING_APPROVAL: ReleaseState
RELEASE_STATE_GRANTED: ReleaseState
RELEASE_STATE_DENIED: ReleaseState
RELEASE_STATE_DELIVERED: ReleaseState
RELEASE_STATE_FAILED: ReleaseState

class BloomFilter(_message.Message):
    __slots__ = ("kind", "bits")
    KIND_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    kind: IdentifierKind
    bits: bytes
    def __init__(self, kind: _Optional[_Union[IdentifierKind, str]] = ..., bits: _Optional[bytes] = ...) -> None: ...

class FieldAgreement(_message.Message):
    __slots__ = ("kind", "level", "basis")
    KIND_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    kind: IdentifierKind
    level: AgreementLevel
    basis: AgreementBasis
    def __init__(self, kind: _Optional[_Union[IdentifierKind, str]] = ..., level: _Optional[_Union[AgreementLevel, str]] = ..., basis: _Optional[_Union[AgreementBasis, str]] = ...) -> None: ...

class Token(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: IdentifierKind
    value: bytes
    def __init__(self, kind: _Optional[_Union[IdentifierKind, str]] = ..., value: _Optional[bytes] = ...) -> None: ...

class MatchPointer(_message.Message):
    __slots__ = ("handle", "agency", "record_type", "matched", "coarse_date", "strength", "agreements")
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    COARSE_DATE_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    handle: str
    agency: str
    record_type: str
    matched: _containers.RepeatedScalarFieldContainer[IdentifierKind]
    coarse_date: str
    strength: MatchStrength
    agreements: _containers.RepeatedCompositeFieldContainer[FieldAgreement]
    def __init__(self, handle: _Optional[str] = ..., agency: _Optional[str] = ..., record_type: _Optional[str] = ..., matched: _Optional[_Iterable[_Union[IdentifierKind, str]]] = ..., coarse_date: _Optional[str] = ..., strength: _Optional[_Union[MatchStrength, str]] = ..., agreements: _Optional[_Iterable[_Union[FieldAgreement, _Mapping]]] = ...) -> None: ...

class Release(_message.Message):
    __slots__ = ("release_id", "pointer", "owner", "record_type", "requester_agency", "requester", "purpose", "case_number", "justification", "agreement", "state", "reasons", "requested_at", "decided_by", "decision_reason", "audit_seq", "requester_revoked")
    RELEASE_ID_FIELD_NUMBER: _ClassVar[int]
    POINTER_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_AGENCY_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SEQ_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_REVOKED_FIELD_NUMBER: _ClassVar[int]
    release_id: str
    pointer: str
    owner: str
    record_type: str
    requester_agency: str
    requester: str
    purpose: str
    case_number: str
    justification: str
    agreement: str
    state: ReleaseState
    reasons: _containers.RepeatedScalarFieldContainer[str]
    requested_at: str
    decided_by: str
    decision_reason: str
    audit_seq: int
    requester_revoked: bool
    def __init__(self, release_id: _Optional[str] = ..., pointer: _Optional[str] = ..., owner: _Optional[str] = ..., record_type: _Optional[str] = ..., requester_agency: _Optional[str] = ..., requester: _Optional[str] = ..., purpose: _Optional[str] = ..., case_number: _Optional[str] = ..., justification: _Optional[str] = ..., agreement: _Optional[str] = ..., state: _Optional[_Union[ReleaseState, str]] = ..., reasons: _Optional[_Iterable[str]] = ..., requested_at: _Optional[str] = ..., decided_by: _Optional[str] = ..., decision_reason: _Optional[str] = ..., audit_seq: _Optional[int] = ..., requester_revoked: _Optional[bool] = ...) -> None: ...

class LinkPath(_message.Message):
    __slots__ = ("via_pointer", "via_agency", "kind")
    VIA_POINTER_FIELD_NUMBER: _ClassVar[int]
    VIA_AGENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    via_pointer: str
    via_agency: str
    kind: IdentifierKind
    def __init__(self, via_pointer: _Optional[str] = ..., via_agency: _Optional[str] = ..., kind: _Optional[_Union[IdentifierKind, str]] = ...) -> None: ...

class LinkedPointer(_message.Message):
    __slots__ = ("pointer", "depth", "paths")
    POINTER_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    pointer: MatchPointer
    depth: int
    paths: _containers.RepeatedCompositeFieldContainer[LinkPath]
    def __init__(self, pointer: _Optional[_Union[MatchPointer, _Mapping]] = ..., depth: _Optional[int] = ..., paths: _Optional[_Iterable[_Union[LinkPath, _Mapping]]] = ...) -> None: ...

class DeconflictionNotice(_message.Message):
    __slots__ = ("agency", "agency_name", "contact", "searched_at", "kinds")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    AGENCY_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    SEARCHED_AT_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    agency: str
    agency_name: str
    contact: str
    searched_at: str
    kinds: _containers.RepeatedScalarFieldContainer[IdentifierKind]
    def __init__(self, agency: _Optional[str] = ..., agency_name: _Optional[str] = ..., contact: _Optional[str] = ..., searched_at: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[IdentifierKind, str]]] = ...) -> None: ...

class CountCell(_message.Message):
    __slots__ = ("agency", "record_type", "month", "county", "count")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPE_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    COUNTY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    agency: str
    record_type: str
    month: str
    county: str
    count: int
    def __init__(self, agency: _Optional[str] = ..., record_type: _Optional[str] = ..., month: _Optional[str] = ..., county: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...
