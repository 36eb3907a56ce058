from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
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

class MatchStrength(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_STRENGTH_UNSPECIFIED: _ClassVar[MatchStrength]
    MATCH_STRENGTH_POSSIBLE: _ClassVar[MatchStrength]
    MATCH_STRENGTH_PROBABLE: _ClassVar[MatchStrength]
    MATCH_STRENGTH_STRONG: _ClassVar[MatchStrength]
IDENTIFIER_KIND_UNSPECIFIED: IdentifierKind
IDENTIFIER_KIND_NAME: IdentifierKind
IDENTIFIER_KIND_NAME_DOB: IdentifierKind
IDENTIFIER_KIND_PHONE: IdentifierKind
IDENTIFIER_KIND_EMAIL: IdentifierKind
IDENTIFIER_KIND_PLATE: IdentifierKind
IDENTIFIER_KIND_VIN: IdentifierKind
IDENTIFIER_KIND_ADDRESS: IdentifierKind
MATCH_STRENGTH_UNSPECIFIED: MatchStrength
MATCH_STRENGTH_POSSIBLE: MatchStrength
MATCH_STRENGTH_PROBABLE: MatchStrength
MATCH_STRENGTH_STRONG: MatchStrength

class Token(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: IdentifierKind
    value: bytes
    def __init__(self, kind: _Optional[_Union[IdentifierKind, str]] = ..., value: _Optional[bytes] = ...) -> None: ...

class MatchPointer(_message.Message):
    __slots__ = ("handle", "agency", "record_type", "matched", "coarse_date", "strength")
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    COARSE_DATE_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    handle: str
    agency: str
    record_type: str
    matched: _containers.RepeatedScalarFieldContainer[IdentifierKind]
    coarse_date: str
    strength: MatchStrength
    def __init__(self, handle: _Optional[str] = ..., agency: _Optional[str] = ..., record_type: _Optional[str] = ..., matched: _Optional[_Iterable[_Union[IdentifierKind, str]]] = ..., coarse_date: _Optional[str] = ..., strength: _Optional[_Union[MatchStrength, str]] = ...) -> None: ...
