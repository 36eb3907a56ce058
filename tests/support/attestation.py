"""Release requests made by hand in tests, attested as the agency's node would attest them."""

from __future__ import annotations

from accord.attestation import Attester
from accord.v1 import hub_pb2
from node.config import NodeConfig


def attested(request: hub_pb2.RequestReleaseRequest, node: NodeConfig
             ) -> hub_pb2.RequestReleaseRequest:
    """``request`` with ``node``'s attestation of its requester key (see accord.attestation)."""
    attester = Attester.load(node.agency, node.tls.cert, node.tls.key)
    request.requester_key_signature = attester.attest(request.pointer, request.requester_key)
    request.requester_certificate = attester.certificate
    return request
