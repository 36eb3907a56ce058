from accord.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeStatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_STATUS_CODE_UNSPECIFIED: _ClassVar[NodeStatusCode]
    NODE_STATUS_CODE_OK: _ClassVar[NodeStatusCode]
    NODE_STATUS_CODE_UNAVAILABLE: _ClassVar[NodeStatusCode]
    NODE_STATUS_CODE_TIMED_OUT: _ClassVar[NodeStatusCode]
    NODE_STATUS_CODE_DENIED: _ClassVar[NodeStatusCode]
    NODE_STATUS_CODE_ERROR: _ClassVar[NodeStatusCode]
NODE_STATUS_CODE_UNSPECIFIED: NodeStatusCode
NODE_STATUS_CODE_OK: NodeStatusCode
NODE_STATUS_CODE_UNAVAILABLE: NodeStatusCode
NODE_STATUS_CODE_TIMED_OUT: NodeStatusCode
NODE_STATUS_CODE_DENIED: NodeStatusCode
NODE_STATUS_CODE_ERROR: NodeStatusCode

class SearchRequest(_message.Message):
    __slots__ = ("case_number", "purpose", "tokens", "agreement")
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    case_number: str
    purpose: str
    tokens: _containers.RepeatedCompositeFieldContainer[_common_pb2.Token]
    agreement: str
    def __init__(self, case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., tokens: _Optional[_Iterable[_Union[_common_pb2.Token, _Mapping]]] = ..., agreement: _Optional[str] = ...) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("agency", "code", "pointers", "latency_ms", "detail")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    POINTERS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    agency: str
    code: NodeStatusCode
    pointers: int
    latency_ms: int
    detail: str
    def __init__(self, agency: _Optional[str] = ..., code: _Optional[_Union[NodeStatusCode, str]] = ..., pointers: _Optional[int] = ..., latency_ms: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("search_id", "pointers", "nodes", "audit_seq", "agreement")
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    POINTERS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SEQ_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    search_id: str
    pointers: _containers.RepeatedCompositeFieldContainer[_common_pb2.MatchPointer]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeStatus]
    audit_seq: int
    agreement: str
    def __init__(self, search_id: _Optional[str] = ..., pointers: _Optional[_Iterable[_Union[_common_pb2.MatchPointer, _Mapping]]] = ..., nodes: _Optional[_Iterable[_Union[NodeStatus, _Mapping]]] = ..., audit_seq: _Optional[int] = ..., agreement: _Optional[str] = ...) -> None: ...
