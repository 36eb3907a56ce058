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

class WatchState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WATCH_STATE_UNSPECIFIED: _ClassVar[WatchState]
    WATCH_STATE_ACTIVE: _ClassVar[WatchState]
    WATCH_STATE_EXPIRED: _ClassVar[WatchState]
    WATCH_STATE_REMOVED: _ClassVar[WatchState]
    WATCH_STATE_ENDED: _ClassVar[WatchState]

class NotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_WATCH_MATCH: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_DECONFLICTION: _ClassVar[NotificationKind]
NODE_STATUS_CODE_UNSPECIFIED: NodeStatusCode
NODE_STATUS_CODE_OK: NodeStatusCode
NODE_STATUS_CODE_UNAVAILABLE: NodeStatusCode
NODE_STATUS_CODE_TIMED_OUT: NodeStatusCode
NODE_STATUS_CODE_DENIED: NodeStatusCode
NODE_STATUS_CODE_ERROR: NodeStatusCode
WATCH_STATE_UNSPECIFIED: WatchState
WATCH_STATE_ACTIVE: WatchState
WATCH_STATE_EXPIRED: WatchState
WATCH_STATE_REMOVED: WatchState
WATCH_STATE_ENDED: WatchState
NOTIFICATION_KIND_UNSPECIFIED: NotificationKind
NOTIFICATION_KIND_WATCH_MATCH: NotificationKind
NOTIFICATION_KIND_DECONFLICTION: NotificationKind

class ListCheckpointsRequest(_message.Message):
    __slots__ = ("start_size", "limit")
    START_SIZE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    start_size: int
    limit: int
    def __init__(self, start_size: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListCheckpointsResponse(_message.Message):
    __slots__ = ("checkpoints", "next_size")
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_SIZE_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedScalarFieldContainer[str]
    next_size: int
    def __init__(self, checkpoints: _Optional[_Iterable[str]] = ..., next_size: _Optional[int] = ...) -> None: ...

class RequestReleaseRequest(_message.Message):
    __slots__ = ("pointer", "case_number", "purpose", "justification", "requester_key", "request_key", "requester_key_signature", "requester_certificate")
    POINTER_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_KEY_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    pointer: str
    case_number: str
    purpose: str
    justification: str
    requester_key: bytes
    request_key: str
    requester_key_signature: bytes
    requester_certificate: bytes
    def __init__(self, pointer: _Optional[str] = ..., case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., justification: _Optional[str] = ..., requester_key: _Optional[bytes] = ..., request_key: _Optional[str] = ..., requester_key_signature: _Optional[bytes] = ..., requester_certificate: _Optional[bytes] = ...) -> None: ...

class RequestReleaseResponse(_message.Message):
    __slots__ = ("release",)
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    release: _common_pb2.Release
    def __init__(self, release: _Optional[_Union[_common_pb2.Release, _Mapping]] = ...) -> None: ...

class FetchReleaseRequest(_message.Message):
    __slots__ = ("release_id",)
    RELEASE_ID_FIELD_NUMBER: _ClassVar[int]
    release_id: str
    def __init__(self, release_id: _Optional[str] = ...) -> None: ...

class FetchReleaseResponse(_message.Message):
    __slots__ = ("release", "ciphertext", "grant_id", "withheld")
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    release: _common_pb2.Release
    ciphertext: bytes
    grant_id: str
    withheld: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, release: _Optional[_Union[_common_pb2.Release, _Mapping]] = ..., ciphertext: _Optional[bytes] = ..., grant_id: _Optional[str] = ..., withheld: _Optional[_Iterable[str]] = ...) -> None: ...

class ListReleasesRequest(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: _common_pb2.ReleaseState
    def __init__(self, state: _Optional[_Union[_common_pb2.ReleaseState, str]] = ...) -> None: ...

class ListReleasesResponse(_message.Message):
    __slots__ = ("releases",)
    RELEASES_FIELD_NUMBER: _ClassVar[int]
    releases: _containers.RepeatedCompositeFieldContainer[_common_pb2.Release]
    def __init__(self, releases: _Optional[_Iterable[_Union[_common_pb2.Release, _Mapping]]] = ...) -> None: ...

class DecideReleaseRequest(_message.Message):
    __slots__ = ("release_id", "approve", "reason")
    RELEASE_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    release_id: str
    approve: bool
    reason: str
    def __init__(self, release_id: _Optional[str] = ..., approve: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class DecideReleaseResponse(_message.Message):
    __slots__ = ("release",)
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    release: _common_pb2.Release
    def __init__(self, release: _Optional[_Union[_common_pb2.Release, _Mapping]] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCheckpointResponse(_message.Message):
    __slots__ = ("checkpoint",)
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    def __init__(self, checkpoint: _Optional[str] = ...) -> None: ...

class GetInclusionProofRequest(_message.Message):
    __slots__ = ("seq", "tree_size")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    tree_size: int
    def __init__(self, seq: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class GetInclusionProofResponse(_message.Message):
    __slots__ = ("proof", "tree_size", "entry")
    PROOF_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    tree_size: int
    entry: bytes
    def __init__(self, proof: _Optional[_Iterable[bytes]] = ..., tree_size: _Optional[int] = ..., entry: _Optional[bytes] = ...) -> None: ...

class GetConsistencyProofRequest(_message.Message):
    __slots__ = ("old_size", "new_size")
    OLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEW_SIZE_FIELD_NUMBER: _ClassVar[int]
    old_size: int
    new_size: int
    def __init__(self, old_size: _Optional[int] = ..., new_size: _Optional[int] = ...) -> None: ...

class GetConsistencyProofResponse(_message.Message):
    __slots__ = ("proof",)
    PROOF_FIELD_NUMBER: _ClassVar[int]
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, proof: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ListEntriesRequest(_message.Message):
    __slots__ = ("start_seq", "limit", "actor", "agency", "case_number", "purpose", "event", "outcome", "since", "until")
    START_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    start_seq: int
    limit: int
    actor: str
    agency: str
    case_number: str
    purpose: str
    event: str
    outcome: str
    since: str
    until: str
    def __init__(self, start_seq: _Optional[int] = ..., limit: _Optional[int] = ..., actor: _Optional[str] = ..., agency: _Optional[str] = ..., case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., event: _Optional[str] = ..., outcome: _Optional[str] = ..., since: _Optional[str] = ..., until: _Optional[str] = ...) -> None: ...

class ListEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_seq", "checkpoint")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_SEQ_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedScalarFieldContainer[bytes]
    next_seq: int
    checkpoint: str
    def __init__(self, entries: _Optional[_Iterable[bytes]] = ..., next_seq: _Optional[int] = ..., checkpoint: _Optional[str] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("case_number", "purpose", "tokens", "agreement", "filters", "depth")
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    case_number: str
    purpose: str
    tokens: _containers.RepeatedCompositeFieldContainer[_common_pb2.Token]
    agreement: str
    filters: _containers.RepeatedCompositeFieldContainer[_common_pb2.BloomFilter]
    depth: int
    def __init__(self, case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., tokens: _Optional[_Iterable[_Union[_common_pb2.Token, _Mapping]]] = ..., agreement: _Optional[str] = ..., filters: _Optional[_Iterable[_Union[_common_pb2.BloomFilter, _Mapping]]] = ..., depth: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("search_id", "pointers", "nodes", "audit_seq", "agreement", "linked", "notices", "sweep_nodes")
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    POINTERS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SEQ_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    LINKED_FIELD_NUMBER: _ClassVar[int]
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    SWEEP_NODES_FIELD_NUMBER: _ClassVar[int]
    search_id: str
    pointers: _containers.RepeatedCompositeFieldContainer[_common_pb2.MatchPointer]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeStatus]
    audit_seq: int
    agreement: str
    linked: _containers.RepeatedCompositeFieldContainer[_common_pb2.LinkedPointer]
    notices: _containers.RepeatedCompositeFieldContainer[_common_pb2.DeconflictionNotice]
    sweep_nodes: _containers.RepeatedCompositeFieldContainer[NodeStatus]
    def __init__(self, search_id: _Optional[str] = ..., pointers: _Optional[_Iterable[_Union[_common_pb2.MatchPointer, _Mapping]]] = ..., nodes: _Optional[_Iterable[_Union[NodeStatus, _Mapping]]] = ..., audit_seq: _Optional[int] = ..., agreement: _Optional[str] = ..., linked: _Optional[_Iterable[_Union[_common_pb2.LinkedPointer, _Mapping]]] = ..., notices: _Optional[_Iterable[_Union[_common_pb2.DeconflictionNotice, _Mapping]]] = ..., sweep_nodes: _Optional[_Iterable[_Union[NodeStatus, _Mapping]]] = ...) -> None: ...

class AddWatchRequest(_message.Message):
    __slots__ = ("case_number", "purpose", "tokens", "agreement", "filters", "days", "label")
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    case_number: str
    purpose: str
    tokens: _containers.RepeatedCompositeFieldContainer[_common_pb2.Token]
    agreement: str
    filters: _containers.RepeatedCompositeFieldContainer[_common_pb2.BloomFilter]
    days: int
    label: str
    def __init__(self, case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., tokens: _Optional[_Iterable[_Union[_common_pb2.Token, _Mapping]]] = ..., agreement: _Optional[str] = ..., filters: _Optional[_Iterable[_Union[_common_pb2.BloomFilter, _Mapping]]] = ..., days: _Optional[int] = ..., label: _Optional[str] = ...) -> None: ...

class Watch(_message.Message):
    __slots__ = ("watch_id", "case_number", "purpose", "agreement", "label", "created_at", "expires_at", "state", "kinds", "notifications", "last_checked_at", "audit_seq", "ended_reasons")
    WATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SEQ_FIELD_NUMBER: _ClassVar[int]
    ENDED_REASONS_FIELD_NUMBER: _ClassVar[int]
    watch_id: str
    case_number: str
    purpose: str
    agreement: str
    label: str
    created_at: str
    expires_at: str
    state: WatchState
    kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.IdentifierKind]
    notifications: int
    last_checked_at: str
    audit_seq: int
    ended_reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, watch_id: _Optional[str] = ..., case_number: _Optional[str] = ..., purpose: _Optional[str] = ..., agreement: _Optional[str] = ..., label: _Optional[str] = ..., created_at: _Optional[str] = ..., expires_at: _Optional[str] = ..., state: _Optional[_Union[WatchState, str]] = ..., kinds: _Optional[_Iterable[_Union[_common_pb2.IdentifierKind, str]]] = ..., notifications: _Optional[int] = ..., last_checked_at: _Optional[str] = ..., audit_seq: _Optional[int] = ..., ended_reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class AddWatchResponse(_message.Message):
    __slots__ = ("watch",)
    WATCH_FIELD_NUMBER: _ClassVar[int]
    watch: Watch
    def __init__(self, watch: _Optional[_Union[Watch, _Mapping]] = ...) -> None: ...

class ListWatchesRequest(_message.Message):
    __slots__ = ("include_inactive",)
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    include_inactive: bool
    def __init__(self, include_inactive: _Optional[bool] = ...) -> None: ...

class ListWatchesResponse(_message.Message):
    __slots__ = ("watches",)
    WATCHES_FIELD_NUMBER: _ClassVar[int]
    watches: _containers.RepeatedCompositeFieldContainer[Watch]
    def __init__(self, watches: _Optional[_Iterable[_Union[Watch, _Mapping]]] = ...) -> None: ...

class RemoveWatchRequest(_message.Message):
    __slots__ = ("watch_id",)
    WATCH_ID_FIELD_NUMBER: _ClassVar[int]
    watch_id: str
    def __init__(self, watch_id: _Optional[str] = ...) -> None: ...

class RemoveWatchResponse(_message.Message):
    __slots__ = ("watch",)
    WATCH_FIELD_NUMBER: _ClassVar[int]
    watch: Watch
    def __init__(self, watch: _Optional[_Union[Watch, _Mapping]] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("notification_id", "kind", "created_at", "case_number", "watch_id", "pointer", "deconfliction", "audit_seq")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    WATCH_ID_FIELD_NUMBER: _ClassVar[int]
    POINTER_FIELD_NUMBER: _ClassVar[int]
    DECONFLICTION_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SEQ_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    kind: NotificationKind
    created_at: str
    case_number: str
    watch_id: str
    pointer: _common_pb2.MatchPointer
    deconfliction: _common_pb2.DeconflictionNotice
    audit_seq: int
    def __init__(self, notification_id: _Optional[str] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., created_at: _Optional[str] = ..., case_number: _Optional[str] = ..., watch_id: _Optional[str] = ..., pointer: _Optional[_Union[_common_pb2.MatchPointer, _Mapping]] = ..., deconfliction: _Optional[_Union[_common_pb2.DeconflictionNotice, _Mapping]] = ..., audit_seq: _Optional[int] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("since", "limit")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    since: str
    limit: int
    def __init__(self, since: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications",)
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ...) -> None: ...

class AggregateCountsRequest(_message.Message):
    __slots__ = ("agreement", "purpose")
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    agreement: str
    purpose: str
    def __init__(self, agreement: _Optional[str] = ..., purpose: _Optional[str] = ...) -> None: ...

class AggregateCountsResponse(_message.Message):
    __slots__ = ("by_record_type", "by_agency", "by_month", "by_county", "nodes", "suppressed_cells", "min_cell", "audit_seq", "agreement")
    BY_RECORD_TYPE_FIELD_NUMBER: _ClassVar[int]
    BY_AGENCY_FIELD_NUMBER: _ClassVar[int]
    BY_MONTH_FIELD_NUMBER: _ClassVar[int]
    BY_COUNTY_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_CELLS_FIELD_NUMBER: _ClassVar[int]
    MIN_CELL_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SEQ_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    by_record_type: _containers.RepeatedCompositeFieldContainer[_common_pb2.CountCell]
    by_agency: _containers.RepeatedCompositeFieldContainer[_common_pb2.CountCell]
    by_month: _containers.RepeatedCompositeFieldContainer[_common_pb2.CountCell]
    by_county: _containers.RepeatedCompositeFieldContainer[_common_pb2.CountCell]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeStatus]
    suppressed_cells: int
    min_cell: int
    audit_seq: int
    agreement: str
    def __init__(self, by_record_type: _Optional[_Iterable[_Union[_common_pb2.CountCell, _Mapping]]] = ..., by_agency: _Optional[_Iterable[_Union[_common_pb2.CountCell, _Mapping]]] = ..., by_month: _Optional[_Iterable[_Union[_common_pb2.CountCell, _Mapping]]] = ..., by_county: _Optional[_Iterable[_Union[_common_pb2.CountCell, _Mapping]]] = ..., nodes: _Optional[_Iterable[_Union[NodeStatus, _Mapping]]] = ..., suppressed_cells: _Optional[int] = ..., min_cell: _Optional[int] = ..., audit_seq: _Optional[int] = ..., agreement: _Optional[str] = ...) -> None: ...
