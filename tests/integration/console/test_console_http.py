"""The console's HTTP security: CSRF, cookies, CSP, roles from the token, sessions.

A real aiohttp server on loopback with a fake backend (no federation needed):
what is tested here is the console's own boundary.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from accord import merkle
from accord.checkpoint import Checkpoint, Ed25519Signer, sign_checkpoint
from accord.identity import DevIdentityProvider, IssuerConfig, TokenVerifier
from accord.v1 import common_pb2, hub_pb2, node_pb2
from node.console.app import CSP, Console, Settings, make_app
from node.console.auth import SESSION_COOKIE, DevSignIn
from tests.conftest import NOW

AGENCY = "lakeside_so"


class FakeBackend:
    """Records calls; answers like a hub with nothing in it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def search(self, token: str, request: node_pb2.LocalSearchRequest
                     ) -> node_pb2.LocalSearchResponse:
        self.calls.append(("search", token))
        return node_pb2.LocalSearchResponse(result=hub_pb2.SearchResponse(search_id="s1",
                                                                          audit_seq=1))

    async def list_releases(self, token: str, state: int = 0) -> hub_pb2.ListReleasesResponse:
        self.calls.append(("list_releases", token))
        return hub_pb2.ListReleasesResponse(releases=[common_pb2.Release(
            release_id="rel_1", state=common_pb2.RELEASE_STATE_PENDING_APPROVAL)])

    async def decide(self, token: str, release_id: str, approve: bool,
                     reason: str) -> hub_pb2.DecideReleaseResponse:
        self.calls.append(("decide", token))
        return hub_pb2.DecideReleaseResponse(release=common_pb2.Release(
            release_id=release_id, state=common_pb2.RELEASE_STATE_GRANTED))

    async def entries(self, token: str, filters: dict[str, str], start: int = 1,
                      limit: int = 0) -> tuple[list[bytes], str]:
        self.calls.append(("entries", token))
        return [], ""

    async def checkpoints(self, token: str) -> list[str]:
        return []

    async def pinned_checkpoint(self) -> tuple[int, bytes] | None:
        return None

    async def list_releases_broken(self, token: str, state: int = 0) -> None:
        raise ValueError("Jazmin Ramirez, 503-555-0142")  # what a bug might carry


def standalone_console(backend: FakeBackend, clock: Callable[[], dt.datetime], *,
                       dev_sign_in: bool, hub_keys: tuple[Ed25519PublicKey, ...] = (),
                       ) -> tuple[Console, DevIdentityProvider, IssuerConfig]:
    """A console of AGENCY on ``backend``, trusting a fresh development provider's key.

    Also returns that provider and its issuer, for tests that sign tokens or
    plug in another sign-in.
    """
    idp = DevIdentityProvider.create(AGENCY)
    issuer = IssuerConfig(agency=AGENCY, issuer=idp.issuer, keys={idp.kid: idp.key.public_key()})
    console = Console(Settings(agency=AGENCY, agreements=("local-pilot",),
                               purposes=("human_trafficking",), hub_keys=hub_keys,
                               log_origin="accord-hub", session_minutes=30),
                      backend, DevSignIn(idp) if dev_sign_in else None,  # type: ignore[arg-type]
                      TokenVerifier({idp.issuer: issuer}), clock)
    return console, idp, issuer


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
async def client(backend: FakeBackend) -> AsyncIterator[TestClient[Any, Any]]:
    console, _, _ = standalone_console(backend, lambda: NOW, dev_sign_in=True)
    server = TestServer(make_app(console))
    await server.start_server()
    # The console's cookie is Secure: let the client treat the loopback server as a
    # secure origin, as browsers do for loopback.
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    async with TestClient(server, cookie_jar=jar) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def sign_in(client: TestClient[Any, Any], *roles: str, subject: str = "det.a") -> str:
    page = await (await client.get("/signin")).text()
    response = await client.post("/signin", data={
        "csrf_token": csrf_of(page), "subject": subject, "role": list(roles)},
        allow_redirects=False)
    assert response.status == 303, await response.text()
    return csrf_of(await (await client.get("/releases")).text())


# --- CSRF ------------------------------------------------------------------------------


async def test_sign_in_without_csrf_token_is_refused(client: TestClient[Any, Any]) -> None:
    await client.get("/signin")
    response = await client.post("/signin", data={"subject": "det.a", "role": "investigator"},
                                 allow_redirects=False)
    assert response.status == 403
    assert "Request refused" in await response.text()


async def test_post_with_wrong_csrf_token_is_refused(client: TestClient[Any, Any],
                                                     backend: FakeBackend) -> None:
    await sign_in(client, "investigator")
    response = await client.post("/search", data={"csrf_token": "forged", "case_number": "C-1",
                                                  "purpose": "human_trafficking", "phone": "5"})
    assert response.status == 403
    assert not [c for c in backend.calls if c[0] == "search"]


async def test_post_from_another_origin_is_refused(client: TestClient[Any, Any],
                                                   backend: FakeBackend) -> None:
    token = await sign_in(client, "custodian")
    response = await client.post("/custodian/rel_1", data={
        "csrf_token": token, "decision": "approve", "reason": "ok"},
        headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert response.status == 403
    assert not [c for c in backend.calls if c[0] == "decide"]


async def test_post_without_a_session_is_refused(client: TestClient[Any, Any]) -> None:
    async with ClientSession() as fresh:  # no cookie at all
        response = await fresh.post(client.make_url("/signout"), data={"csrf_token": "x"})
        assert response.status == 403


async def test_valid_csrf_token_is_accepted(client: TestClient[Any, Any],
                                            backend: FakeBackend) -> None:
    token = await sign_in(client, "custodian")
    response = await client.post("/custodian/rel_1", data={
        "csrf_token": token, "decision": "approve", "reason": "victim safety"},
        allow_redirects=False)
    assert response.status == 303
    assert [c[0] for c in backend.calls].count("decide") == 1


# --- cookies and headers ----------------------------------------------------------------


async def test_session_cookie_is_secure_httponly_strict_and_rotated(
    client: TestClient[Any, Any],
) -> None:
    first = await client.get("/signin")
    before = first.cookies[SESSION_COOKIE]
    for flag in ("secure", "httponly"):
        assert before[flag], flag
    assert before["samesite"] == "Strict" and before["path"] == "/"
    response = await client.post("/signin", data={
        "csrf_token": csrf_of(await first.text()), "subject": "det.a", "role": "investigator"},
        allow_redirects=False)
    after = response.cookies[SESSION_COOKIE]
    assert after.value != before.value  # a new session id on sign-in
    assert after["secure"] and after["httponly"] and after["samesite"] == "Strict"
    # The cookie is a random id: no token, no claims.
    assert "." not in after.value and len(after.value) >= 40


@pytest.mark.parametrize("path", ["/signin", "/search", "/static/console.css", "/nowhere"])
async def test_every_answer_has_a_strict_csp(client: TestClient[Any, Any], path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "default-src 'none'" in CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


async def test_pages_load_nothing_from_elsewhere(client: TestClient[Any, Any]) -> None:
    await sign_in(client, "investigator", "auditor", "custodian")
    for path in ("/search", "/releases", "/custodian", "/dashboard"):
        html = await (await client.get(path)).text()
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert "<script>" not in html and " style=" not in html, path


# --- access control: roles from the token ------------------------------------------------


async def test_signed_out_users_are_sent_to_sign_in(client: TestClient[Any, Any]) -> None:
    for path in ("/search", "/custodian", "/audit", "/dashboard", "/releases"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/signin", path


async def test_an_investigator_cannot_open_custodian_or_auditor_pages(
    client: TestClient[Any, Any], backend: FakeBackend,
) -> None:
    token = await sign_in(client, "investigator")
    for path in ("/custodian", "/audit", "/audit/entries/1"):
        response = await client.get(path)
        assert response.status == 403, path
        assert "needs the" in await response.text()
    response = await client.post("/custodian/rel_1", data={
        "csrf_token": token, "decision": "approve", "reason": "x"})
    assert response.status == 403
    assert not [c for c in backend.calls if c[0] in ("decide", "entries")]
    nav = await (await client.get("/search")).text()
    assert 'href="/custodian"' not in nav and 'href="/audit"' not in nav


async def test_a_custodian_cannot_search_but_can_decide(client: TestClient[Any, Any]) -> None:
    await sign_in(client, "custodian")
    assert (await client.get("/search")).status == 403
    assert (await client.get("/custodian")).status == 200
    assert (await client.get("/audit")).status == 403


async def test_the_backend_gets_the_signed_in_users_token(
    client: TestClient[Any, Any], backend: FakeBackend,
) -> None:
    await sign_in(client, "auditor", subject="aud.kim")
    assert (await client.get("/audit")).status == 200
    token = backend.calls[-1][1]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "aud.kim" and claims["roles"] == ["auditor"]


async def test_unknown_roles_are_refused_at_sign_in(client: TestClient[Any, Any]) -> None:
    page = await (await client.get("/signin")).text()
    response = await client.post("/signin", data={
        "csrf_token": csrf_of(page), "subject": "det.a", "role": "admin"})
    assert response.status == 400
    assert "roles" in await response.text()


async def test_sign_out_ends_the_session(client: TestClient[Any, Any]) -> None:
    token = await sign_in(client, "investigator")
    response = await client.post("/signout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/search", allow_redirects=False)).status == 303


async def test_sessions_expire_with_the_token() -> None:
    from node.console.auth import Sessions

    sessions = Sessions(dt.timedelta(minutes=30))
    s = sessions.new(NOW)
    assert sessions.get(s.id, NOW + dt.timedelta(minutes=29)) is s
    assert sessions.get(s.id, NOW + dt.timedelta(minutes=31)) is None


async def test_unexpected_errors_are_opaque_and_never_logged_in_full(
    client: TestClient[Any, Any], backend: FakeBackend, capsys: pytest.CaptureFixture[str],
) -> None:
    await sign_in(client, "investigator")
    backend.list_releases = backend.list_releases_broken  # type: ignore[method-assign,assignment]
    response = await client.get("/releases")
    assert response.status == 500
    body = await response.text()
    assert "Jazmin" not in body and "503-555" not in body
    assert response.headers["Content-Security-Policy"] == CSP
    captured = capsys.readouterr()
    assert "console_error" in captured.out + captured.err
    assert "Jazmin" not in captured.out + captured.err


# --- input errors: precise, never the opaque 500 --------------------------------------


@pytest.mark.parametrize(("path", "roles", "fields", "problem"), [
    ("/search", ("investigator",),
     {"case_number": "C-1", "purpose": "human_trafficking", "name": "x" * 257},
     "name: longer than 256 characters"),
    ("/releases", ("investigator",),
     {"pointer": "ptr_1", "case_number": "C-1", "purpose": "human_trafficking",
      "justification": "j" * 1001},
     "justification: longer than 1000 characters"),
    ("/watches", ("investigator",),
     {"case_number": "C-1", "purpose": "human_trafficking", "phone": "5" * 257},
     "phone: longer than 256 characters"),
    ("/custodian/rel_1", ("custodian",), {"decision": "approve", "reason": "r" * 1001},
     "reason: longer than 1000 characters"),
])
async def test_a_field_too_long_is_refused_with_its_name(
    client: TestClient[Any, Any], backend: FakeBackend, path: str, roles: tuple[str, ...],
    fields: dict[str, str], problem: str,
) -> None:
    token = await sign_in(client, *roles)
    response = await client.post(path, data={"csrf_token": token, **fields},
                                 allow_redirects=False)
    assert response.status == 400
    assert problem in await response.text()
    assert [c[0] for c in backend.calls if c[0] not in ("list_releases",)] == []


@pytest.mark.parametrize("days", ["\u00b2", "4294967296", "0", "91", "-3", "ten"])
async def test_a_watch_with_bad_days_is_refused_with_a_precise_error(
    client: TestClient[Any, Any], days: str,
) -> None:
    token = await sign_in(client, "investigator")
    response = await client.post("/watches", data={
        "csrf_token": token, "case_number": "C-1", "purpose": "human_trafficking",
        "phone": "503-555-0142", "days": days}, allow_redirects=False)
    assert response.status == 400
    body = await response.text()
    assert "Watch not set" in body
    assert "want a number of days from 1 to 90" in body


# --- sessions: anonymous visitors cannot push signed-in people out ----------------------


def test_a_flood_of_anonymous_sessions_does_not_sign_anyone_out() -> None:
    from accord.identity import Principal
    from node.console.auth import Sessions

    sessions = Sessions(dt.timedelta(minutes=30), limit=50)
    principal = Principal(subject="det.a", agency=AGENCY, roles=frozenset({"investigator"}), token_id="jti-1",
                          expires_at=NOW + dt.timedelta(minutes=30))
    signed = sessions.sign_in(sessions.new(NOW), "token", principal, NOW)
    anonymous = [sessions.new(NOW) for _ in range(200)]  # cookieless requests, say
    assert sessions.get(signed.id, NOW) is signed
    # The table stays bounded: the oldest anonymous sessions went instead.
    assert sessions.get(anonymous[0].id, NOW) is None
    assert sessions.get(anonymous[-1].id, NOW) is anonymous[-1]
    assert len([s for s in anonymous if sessions.get(s.id, NOW) is not None]) == 49


def test_signed_in_sessions_beyond_the_limit_drop_the_oldest() -> None:
    from accord.identity import Principal
    from node.console.auth import Sessions

    sessions = Sessions(dt.timedelta(minutes=30), limit=3)
    principal = Principal(subject="det.a", agency=AGENCY, roles=frozenset({"investigator"}), token_id="jti-1",
                          expires_at=NOW + dt.timedelta(minutes=30))
    signed = [sessions.sign_in(sessions.new(NOW), f"t{i}", principal, NOW) for i in range(4)]
    assert [sessions.get(s.id, NOW) is not None for s in signed] == [False, True, True, True]


# --- the auditor page with a log that is not what it should be ----------------------------


async def test_an_entry_that_is_not_json_fails_verification_visibly(
    client: TestClient[Any, Any], backend: FakeBackend,
) -> None:
    async def entries(token: str, filters: dict[str, str], start: int = 1,
                      limit: int = 0) -> tuple[list[bytes], str]:
        return [b'{"seq": 1, "event": "search"}', b"\xff not json"], ""

    backend.entries = entries  # type: ignore[method-assign]
    await sign_in(client, "auditor")
    response = await client.get("/audit")
    assert response.status == 200
    body = await response.text()
    assert "Log does NOT verify:</strong> no signed checkpoint" in body
    assert 'href="/audit/entries/1"' in body  # the entry that parses is still listed


class SignedLog(FakeBackend):
    """A hub's log of three entries under one signed checkpoint; entry #2 altered since."""

    def __init__(self) -> None:
        super().__init__()
        self.signer = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
        logged = [json.dumps({"seq": i, "event": "search", "outcome": "ok"},
                             sort_keys=True).encode() for i in (1, 2, 3)]
        self.tree = merkle.MemoryTree()
        for entry in logged:
            self.tree.append(entry)
        self.note = sign_checkpoint(Checkpoint("accord-hub", 3, self.tree.root()),
                                    self.signer).to_text()
        self.stored = [logged[0], b"\xff altered", logged[2]]

    async def entries(self, token: str, filters: dict[str, str], start: int = 1,
                      limit: int = 0) -> tuple[list[bytes], str]:
        return self.stored[start - 1:start - 1 + (limit or len(self.stored))], self.note

    async def checkpoints(self, token: str) -> list[str]:
        return [self.note]

    async def inclusion_proof(self, seq: int, tree_size: int) -> list[bytes]:
        return merkle.inclusion_proof(seq - 1, tree_size, self.tree)


async def test_an_altered_entry_that_is_not_json_shows_as_not_verified() -> None:
    backend = SignedLog()
    console, _, _ = standalone_console(backend, lambda: NOW, dev_sign_in=True,
                                       hub_keys=(backend.signer.public_key(),))
    async with TestServer(make_app(console)) as server:
        jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
        client: TestClient[Any, Any] = TestClient(server, cookie_jar=jar)
        async with client:
            await sign_in(client, "auditor")
            listing = await (await client.get("/audit")).text()
            assert "Log does NOT verify:</strong> entry #2: not a valid entry" in listing
            response = await client.get("/audit/entries/2")
            assert response.status == 200
            page = await response.text()
            assert "Not verified:</strong> the proof does not verify" in page
            assert "Audit entry #2" in page
            assert (await client.get("/audit/entries/3")).status == 200
