"""Composition of the console for a running node (called from ``node.server.start_node``)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.errors import ConfigError
from node.config import NodeConfig
from node.console.app import Console, RunningConsole, Settings, serve
from node.console.auth import DevSignIn, SignIn, agency_issuer, token_verifier
from node.console.backend import Backend, Gateway
from node.console.oidc import OidcSignIn
from node.store import NodeStore


def settings_for(config: NodeConfig, hub_keys: Sequence[Ed25519PublicKey]) -> Settings:
    agreements = config.agreements.for_agency(config.agency)
    members = [a.member(config.agency) for a in agreements]
    purposes = sorted({p for m in members if m is not None for p in m.purposes})
    return Settings(agency=config.agency, agreements=tuple(a.id for a in agreements),
                    purposes=tuple(purposes), hub_keys=tuple(hub_keys),
                    log_origin=config.log_origin, session_minutes=config.console.session_minutes,
                    token_minutes=config.console.session_minutes)


async def start_console(config: NodeConfig, gateway: Gateway, hub_channel: grpc.aio.Channel,
                        clock: Callable[[], dt.datetime],
                        hub_keys: Sequence[Ed25519PublicKey], *, store: NodeStore,
                        listen: str | None = None) -> RunningConsole:
    """Start the node's console on its configured address (``listen`` overrides it).

    ``store`` is the node's own: the auditor page pins the checkpoint the node
    accepted last, as ``accord audit verify --config`` does.
    """
    console_config = config.console
    sign_in: SignIn | None = None
    if console_config.dev_idp is not None:
        sign_in = DevSignIn.load(console_config.dev_idp, config.agency)
    verifier = token_verifier(config)
    oidc = None
    if console_config.oidc is not None:
        oidc = OidcSignIn(console_config.oidc, agency_issuer(config), verifier,
                          _client_secret(console_config.oidc.client_secret_file))
    context = None
    if console_config.tls_cert is not None and console_config.tls_key is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(console_config.tls_cert, console_config.tls_key)
    console = Console(settings_for(config, hub_keys),
                      Backend(gateway, hub_channel, store.last_checkpoint), sign_in,
                      verifier, clock, oidc=oidc)
    return await serve(console, listen or console_config.listen, context)


def _client_secret(path: Path | None) -> str | None:
    """The OIDC client secret, read from its file (secrets are referenced by path)."""
    if path is None:
        return None
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"console.oidc.client_secret_file: {path}: cannot read: {exc}") from exc
    if not secret:
        raise ConfigError(f"console.oidc.client_secret_file: {path}: is empty")
    return secret
