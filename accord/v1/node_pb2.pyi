from accord.v1 import common_pb2 as _common_pb2
from accord.v1 import hub_pb2 as _hub_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PrepareReleaseRequest(_message.Message):
    __slots__ = ("pointer", "requesting_agency", "requester", "requester_roles", "purpose", "agreement", "case_number", "justification")
    POINTER_FIELD_NUMBER: _ClassVar[int]
    REQUESTING_AGENCY_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_ROLES_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    pointer: str
    requesting_agency: str
    requester: str
    requester_roles: _containers.RepeatedScalarFieldContainer[str]
    purpose: str
    agreement: str
    case_number: str
    justification: str
    def __init__(self, pointer: _Optional[str] = ..., requesting_agency: _Optional[str] = ..., requester: _Optional[str] = ..., requester_roles: _Optional[_Iterable[str]] = ..., purpose: _Optional[str] = ..., agreement: _Optional[str] = ..., case_number: _Optional[str] = ..., justification: _Optional[str] = ...) -> None: ...

class PrepareReleaseResponse(_message.Message):
    __slots__ = ("allow", "needs_approval", "reasons")
    ALLOW_FIELD_NUMBER: _ClassVar[int]
    NEEDS_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    allow: bool
    needs_approval: bool
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, allow: _Optional[bool] = ..., needs_approval: _Optional[bool] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("grant", "audit_entry", "checkpoint", "inclusion_proof", "requester_key_signature", "requester_certificate")
    GRANT_FIELD_NUMBER: _ClassVar[int]
    AUDIT_ENTRY_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_KEY_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    grant: bytes
    audit_entry: bytes
    checkpoint: str
    inclusion_proof: _containers.RepeatedScalarFieldContainer[bytes]
    requester_key_signature: bytes
    requester_certificate: bytes
    def __init__(self, grant: _Optional[bytes] = ..., audit_entry: _Optional[bytes] = ..., checkpoint: _Optional[str] = ..., inclusion_proof: _Optional[_Iterable[bytes]] = ..., requester_key_signature: _Optional[bytes] = ..., requester_certificate: _Optional[bytes] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ("ciphertext", "withheld")
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    ciphertext: bytes
    withheld: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ciphertext: _Optional[bytes] = ..., withheld: _Optional[_Iterable[str]] = ...) -> None: ...

class MatchTokensRequest(_message.Message):
    __slots__ = ("search_id", "requesting_agency", "purpose", "tokens", "max_pointers", "agreement", "record_types", "filters", "updated_after")
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTING_AGENCY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTERS_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPES_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    search_id: str
    requesting_agency: str
    purpose: str
    tokens: _containers.RepeatedCompositeFieldContainer[_common_pb2.Token]
    max_pointers: int
    agreement: str
    record_types: _containers.RepeatedScalarFieldContainer[str]
    filters: _containers.RepeatedCompositeFieldContainer[_common_pb2.BloomFilter]
    updated_after: str
    def __init__(self, search_id: _Optional[str] = ..., requesting_agency: _Optional[str] = ..., purpose: _Optional[str] = ..., tokens: _Optional[_Iterable[_Union[_common_pb2.Token, _Mapping]]] = ..., max_pointers: _Optional[int] = ..., agreement: _Optional[str] = ..., record_types: _Optional[_Iterable[str]] = ..., filters: _Optional[_Iterable[_Union[_common_pb2.BloomFilter, _Mapping]]] = ..., updated_after: _Optional[str] = ...) -> None: ...

class MatchTokensResponse(_message.Message):
    __slots__ = ("pointers", "truncated")
    POINTERS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    pointers: _containers.RepeatedCompositeFieldContainer[_common_pb2.MatchPointer]
    truncated: bool
    def __init__(self, pointers: _Optional[_Iterable[_Union[_common_pb2.MatchPointer, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class LocalRequestReleaseRequest(_message.Message):
    __slots__ = ("pointer", "case_number", "purpose", "justification")
    POINTER_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    pointer: str
    case_number: str
    purpose: str
    justification: str
    def __init__(self, pointer: _Optional[str] = ..., case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., justification: _Optional[str] = ...) -> None: ...

class LocalFetchReleaseResponse(_message.Message):
    __slots__ = ("release", "record_json", "withheld")
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    RECORD_JSON_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    release: _common_pb2.Release
    record_json: str
    withheld: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, release: _Optional[_Union[_common_pb2.Release, _Mapping]] = ..., record_json: _Optional[str] = ..., withheld: _Optional[_Iterable[str]] = ...) -> None: ...

class LocalSearchRequest(_message.Message):
    __slots__ = ("case_number", "purpose", "name", "dob", "phone", "email", "plate", "address", "vin", "agreement", "depth")
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
    DEPTH_FIELD_NUMBER: _ClassVar[int]
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
    depth: int
    def __init__(self, case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., name: _Optional[str] = ..., dob: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., plate: _Optional[str] = ..., address: _Optional[str] = ..., vin: _Optional[str] = ..., agreement: _Optional[str] = ..., depth: _Optional[int] = ...) -> None: ...

class LocalSearchResponse(_message.Message):
    __slots__ = ("result", "sent_kinds")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SENT_KINDS_FIELD_NUMBER: _ClassVar[int]
    result: _hub_pb2.SearchResponse
    sent_kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.IdentifierKind]
    def __init__(self, result: _Optional[_Union[_hub_pb2.SearchResponse, _Mapping]] = ..., sent_kinds: _Optional[_Iterable[_Union[_common_pb2.IdentifierKind, str]]] = ...) -> None: ...

class PivotRequest(_message.Message):
    __slots__ = ("search_id", "requesting_agency", "purpose", "agreement", "handles", "max_tokens")
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTING_AGENCY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    HANDLES_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    search_id: str
    requesting_agency: str
    purpose: str
    agreement: str
    handles: _containers.RepeatedScalarFieldContainer[str]
    max_tokens: int
    def __init__(self, search_id: _Optional[str] = ..., requesting_agency: _Optional[str] = ..., purpose: _Optional[str] = ..., agreement: _Optional[str] = ..., handles: _Optional[_Iterable[str]] = ..., max_tokens: _Optional[int] = ...) -> None: ...

class PivotToken(_message.Message):
    __slots__ = ("handle", "token")
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    handle: str
    token: _common_pb2.Token
    def __init__(self, handle: _Optional[str] = ..., token: _Optional[_Union[_common_pb2.Token, _Mapping]] = ...) -> None: ...

class PivotResponse(_message.Message):
    __slots__ = ("tokens", "truncated")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[PivotToken]
    truncated: bool
    def __init__(self, tokens: _Optional[_Iterable[_Union[PivotToken, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class SweepTokensRequest(_message.Message):
    __slots__ = ("search_id", "requesting_agency", "purpose", "agreement", "record_types", "tokens", "max_pointers")
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTING_AGENCY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPES_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTERS_FIELD_NUMBER: _ClassVar[int]
    search_id: str
    requesting_agency: str
    purpose: str
    agreement: str
    record_types: _containers.RepeatedScalarFieldContainer[str]
    tokens: _containers.RepeatedCompositeFieldContainer[_common_pb2.Token]
    max_pointers: int
    def __init__(self, search_id: _Optional[str] = ..., requesting_agency: _Optional[str] = ..., purpose: _Optional[str] = ..., agreement: _Optional[str] = ..., record_types: _Optional[_Iterable[str]] = ..., tokens: _Optional[_Iterable[_Union[_common_pb2.Token, _Mapping]]] = ..., max_pointers: _Optional[int] = ...) -> None: ...

class SweepHit(_message.Message):
    __slots__ = ("pointer", "tokens")
    POINTER_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    pointer: _common_pb2.MatchPointer
    tokens: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, pointer: _Optional[_Union[_common_pb2.MatchPointer, _Mapping]] = ..., tokens: _Optional[_Iterable[int]] = ...) -> None: ...

class SweepTokensResponse(_message.Message):
    __slots__ = ("hits", "truncated")
    HITS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SweepHit]
    truncated: bool
    def __init__(self, hits: _Optional[_Iterable[_Union[SweepHit, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class LocalAddWatchRequest(_message.Message):
    __slots__ = ("case_number", "purpose", "name", "dob", "phone", "email", "plate", "address", "vin", "agreement", "days", "label")
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
    DAYS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
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
    days: int
    label: str
    def __init__(self, case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., name: _Optional[str] = ..., dob: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., plate: _Optional[str] = ..., address: _Optional[str] = ..., vin: _Optional[str] = ..., agreement: _Optional[str] = ..., days: _Optional[int] = ..., label: _Optional[str] = ...) -> None: ...

class CountRecordsRequest(_message.Message):
    __slots__ = ("requesting_agency", "record_types", "exclude_labels", "min_cell", "agreement", "purpose")
    REQUESTING_AGENCY_FIELD_NUMBER: _ClassVar[int]
    RECORD_TYPES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_LABELS_FIELD_NUMBER: _ClassVar[int]
    MIN_CELL_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    requesting_agency: str
    record_types: _containers.RepeatedScalarFieldContainer[str]
    exclude_labels: _containers.RepeatedScalarFieldContainer[str]
    min_cell: int
    agreement: str
    purpose: str
    def __init__(self, requesting_agency: _Optional[str] = ..., record_types: _Optional[_Iterable[str]] = ..., exclude_labels: _Optional[_Iterable[str]] = ..., min_cell: _Optional[int] = ..., agreement: _Optional[str] = ..., purpose: _Optional[str] = ...) -> None: ...

class CountRecordsResponse(_message.Message):
    __slots__ = ("cells", "suppressed_cells")
    CELLS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_CELLS_FIELD_NUMBER: _ClassVar[int]
    cells: _containers.RepeatedCompositeFieldContainer[_common_pb2.CountCell]
    suppressed_cells: int
    def __init__(self, cells: _Optional[_Iterable[_Union[_common_pb2.CountCell, _Mapping]]] = ..., suppressed_cells: _Optional[int] = ...) -> None: ...
