from accord.v1 import common_pb2 as _common_pb2
from accord.v1 import hub_pb2 as _hub_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MatchTokensRequest(_message.Message):
    __slots__ = ("search_id", "requesting_agency", "purpose", "tokens", "max_pointers", "agreement", "record_types")
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTING_AGENCY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTERS_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPES_FIELD_NUMBER: _ClassVar[int]
    search_id: str
    requesting_agency: str
    purpose: str
    tokens: _containers.RepeatedCompositeFieldContainer[_common_pb2.Token]
    max_pointers: int
    agreement: str
    record_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, search_id: _Optional[str] = ..., requesting_agency: _Optional[str] = ..., purpose: _Optional[str] = ..., tokens: _Optional[_Iterable[_Union[_common_pb2.Token, _Mapping]]] = ..., max_pointers: _Optional[int] = ..., agreement: _Optional[str] = ..., record_types: _Optional[_Iterable[str]] = ...) -> None: ...

class MatchTokensResponse(_message.Message):
    __slots__ = ("pointers", "truncated")
    POINTERS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    pointers: _containers.RepeatedCompositeFieldContainer[_common_pb2.MatchPointer]
    truncated: bool
    def __init__(self, pointers: _Optional[_Iterable[_Union[_common_pb2.MatchPointer, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class LocalSearchRequest(_message.Message):
    __slots__ = ("case_number", "purpose", "name", "dob", "phone", "email", "plate", "address", "vin", "agreement")
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOB_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PLATE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VIN_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    case_number: str
    purpose: str
    name: str
    dob: str
    phone: str
    email: str
    plate: str
    address: str
    vin: str
    agreement: str
    def __init__(self, case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., name: _Optional[str] = ..., dob: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., plate: _Optional[str] = ..., address: _Optional[str] = ..., vin: _Optional[str] = ..., agreement: _Optional[str] = ...) -> None: ...

class LocalSearchResponse(_message.Message):
    __slots__ = ("result", "sent_kinds")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SENT_KINDS_FIELD_NUMBER: _ClassVar[int]
    result: _hub_pb2.SearchResponse
    sent_kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.IdentifierKind]
    def __init__(self, result: _Optional[_Union[_hub_pb2.SearchResponse, _Mapping]] = ..., sent_kinds: _Optional[_Iterable[_Union[_common_pb2.IdentifierKind, str]]] = ...) -> None: ...
