"""What the console asks of its node and of the hub, on behalf of the signed-in person.

Searches and releases go through the node's own gateway code in-process (the
query is tokenised here, the released record decrypted here); custodian,
auditor and dashboard calls go to the hub over the node's mTLS channel, with
the person's token, exactly as ``accord release approve`` or ``accord audit
list`` do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Protocol

import grpc

from accord.freetext import check_free_text
from accord.rpc import call
from accord.v1 import hub_pb2, hub_pb2_grpc, node_pb2

TIMEOUT = 30.0
#: Entries per ListEntries page (the hub's maximum).
PAGE = 5000
#: Most audit entries the auditor page reads for verification and charts.
MAX_ENTRIES = 200_000

#: The (size, root) of the hub checkpoint this node accepted last (with a
#: release), or None before the first: ``NodeStore.last_checkpoint``.
PinnedCheckpoint = Callable[[], tuple[int, bytes] | None]


class Gateway(Protocol):
    """The node's gateway, in-process (``node.server.GatewayServicer``)."""

    async def search(self, request: node_pb2.LocalSearchRequest,
                     metadata: list[tuple[str, str]]) -> node_pb2.LocalSearchResponse: ...

    async def request_release(self, request: node_pb2.LocalRequestReleaseRequest,
                              metadata: list[tuple[str, str]]) -> hub_pb2.RequestReleaseResponse: ...

    async def fetch_release(self, request: hub_pb2.FetchReleaseRequest,
                            metadata: list[tuple[str, str]]
                            ) -> node_pb2.LocalFetchReleaseResponse: ...

    async def add_watch(self, request: node_pb2.LocalAddWatchRequest,
                        metadata: list[tuple[str, str]]) -> hub_pb2.AddWatchResponse: ...

    def label_watches(self, watches: Iterable[hub_pb2.Watch]) -> None: ...

    @property
    def region(self) -> str:
        """How free text's phone numbers are read (the node's default region)."""
        ...


def bearer(token: str, request_id: str = "") -> list[tuple[str, str]]:
    metadata = [("authorization", f"Bearer {token}")]
    if request_id:
        metadata.append(("x-request-id", request_id))
    return metadata


class Backend:
    """Every remote operation the console performs; one seam to fake in tests."""

    def __init__(self, gateway: Gateway, hub_channel: grpc.aio.Channel,
                 pinned: PinnedCheckpoint) -> None:
        self._gateway = gateway
        self._pinned = pinned
        self._hub = hub_pb2_grpc.HubServiceStub(hub_channel)
        self._audit = hub_pb2_grpc.AuditServiceStub(hub_channel)
        self._log = hub_pb2_grpc.LogServiceStub(hub_channel)

    async def search(self, token: str, request: node_pb2.LocalSearchRequest
                     ) -> node_pb2.LocalSearchResponse:
        return await self._gateway.search(request, bearer(token))

    async def request_release(self, token: str, request: node_pb2.LocalRequestReleaseRequest
                              ) -> hub_pb2.RequestReleaseResponse:
        return await self._gateway.request_release(request, bearer(token))

    async def fetch_release(self, token: str, release_id: str
                            ) -> node_pb2.LocalFetchReleaseResponse:
        return await self._gateway.fetch_release(
            hub_pb2.FetchReleaseRequest(release_id=release_id), bearer(token))

    async def add_watch(self, token: str, request: node_pb2.LocalAddWatchRequest
                        ) -> hub_pb2.AddWatchResponse:
        return await self._gateway.add_watch(request, bearer(token))

    async def list_watches(self, token: str) -> hub_pb2.ListWatchesResponse:
        response: hub_pb2.ListWatchesResponse = await call(
            self._hub.ListWatches, hub_pb2.ListWatchesRequest(include_inactive=True),
            timeout=TIMEOUT, metadata=bearer(token))
        await asyncio.to_thread(self._gateway.label_watches, response.watches)  # kept here
        return response

    async def remove_watch(self, token: str, watch_id: str) -> hub_pb2.RemoveWatchResponse:
        response: hub_pb2.RemoveWatchResponse = await call(
            self._hub.RemoveWatch, hub_pb2.RemoveWatchRequest(watch_id=watch_id),
            timeout=TIMEOUT, metadata=bearer(token))
        await asyncio.to_thread(self._gateway.label_watches, [response.watch])
        return response

    async def notifications(self, token: str) -> hub_pb2.ListNotificationsResponse:
        response: hub_pb2.ListNotificationsResponse = await call(
            self._hub.ListNotifications, hub_pb2.ListNotificationsRequest(limit=1000),
            timeout=TIMEOUT, metadata=bearer(token))
        return response

    async def list_releases(self, token: str, state: int = 0) -> hub_pb2.ListReleasesResponse:
        response: hub_pb2.ListReleasesResponse = await call(
            self._hub.ListReleases,
            hub_pb2.ListReleasesRequest(state=state),  # type: ignore[arg-type]
            timeout=TIMEOUT, metadata=bearer(token))
        return response

    async def decide(self, token: str, release_id: str, approve: bool,
                     reason: str) -> hub_pb2.DecideReleaseResponse:
        # The hub keeps it (off the event loop: see the gateway's request_release).
        await asyncio.to_thread(check_free_text, "reason", reason, self._gateway.region)
        response: hub_pb2.DecideReleaseResponse = await call(
            self._hub.DecideRelease,
            hub_pb2.DecideReleaseRequest(release_id=release_id, approve=approve, reason=reason),
            timeout=TIMEOUT, metadata=bearer(token))
        return response

    async def aggregate(self, token: str, agreement: str, purpose: str
                        ) -> hub_pb2.AggregateCountsResponse:
        response: hub_pb2.AggregateCountsResponse = await call(
            self._hub.AggregateCounts,
            hub_pb2.AggregateCountsRequest(agreement=agreement, purpose=purpose),
            timeout=TIMEOUT, metadata=bearer(token))
        return response

    async def entries(self, token: str, filters: dict[str, str], start: int = 1,
                      limit: int = MAX_ENTRIES) -> tuple[list[bytes], str]:
        """Audit entries matching ``filters`` from ``start`` on, and the latest checkpoint."""
        found: list[bytes] = []
        checkpoint = ""
        while len(found) < limit:
            response: hub_pb2.ListEntriesResponse = await call(
                self._audit.ListEntries,
                hub_pb2.ListEntriesRequest(start_seq=start, limit=min(PAGE, limit - len(found)),
                                           **filters),
                timeout=TIMEOUT, metadata=bearer(token))
            found.extend(response.entries)
            checkpoint = response.checkpoint
            if not response.next_seq:
                break
            start = response.next_seq
        return found, checkpoint

    async def checkpoints(self, token: str) -> list[str]:
        notes: list[str] = []
        start = 1
        while True:
            response: hub_pb2.ListCheckpointsResponse = await call(
                self._audit.ListCheckpoints,
                hub_pb2.ListCheckpointsRequest(start_size=start, limit=10_000),
                timeout=TIMEOUT, metadata=bearer(token))
            notes.extend(response.checkpoints)
            if not response.next_size:
                return notes
            start = response.next_size

    async def pinned_checkpoint(self) -> tuple[int, bytes] | None:
        """The checkpoint this node accepted, which the log must contain (None: none yet)."""
        return await asyncio.to_thread(self._pinned)

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        response: hub_pb2.GetConsistencyProofResponse = await call(
            self._log.GetConsistencyProof,
            hub_pb2.GetConsistencyProofRequest(old_size=old_size, new_size=new_size),
            timeout=TIMEOUT)
        return list(response.proof)

    async def inclusion_proof(self, seq: int, tree_size: int) -> list[bytes]:
        response: hub_pb2.GetInclusionProofResponse = await call(
            self._log.GetInclusionProof,
            hub_pb2.GetInclusionProofRequest(seq=seq, tree_size=tree_size), timeout=TIMEOUT)
        return list(response.proof)
