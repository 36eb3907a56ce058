"""A small OpenID Connect provider for tests: authorization code with PKCE, over real HTTP.

It stands in for an agency's identity provider (Keycloak, Entra ID, Okta...):
``/authorize`` signs in the one person it is told about (no login form) and
redirects back with a one-time code; ``/token`` checks the client's
credentials, the redirect URI and the PKCE verifier, and answers with an ID
token (audience: the client) and an access token the hub accepts, both signed
with the agency's development key. ``misbehave`` makes it answer wrongly in
one named way, so tests can show the console refuses each.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer

from accord.identity import HUB_AUDIENCE, DevIdentityProvider

CLIENT_ID = "accord-console"
CLIENT_SECRET = "s3cret-for-tests"


@dataclass
class Grant:
    code_challenge: str
    redirect_uri: str
    nonce: str
    subject: str


@dataclass
class OidcProvider:
    idp: DevIdentityProvider
    redirect_uri: str
    subject: str = "det.oidc"
    roles: tuple[str, ...] = ("investigator",)
    clock: Any = None
    #: One of "", "wrong_nonce", "wrong_audience", "other_subject", "no_id_token",
    #: "refuse_code", "deny", "bad_signature", "not_json", "error_page".
    misbehave: str = ""
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def now(self) -> dt.datetime:
        return self.clock() if self.clock else dt.datetime.now(dt.UTC)

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") != self.redirect_uri:
            return web.Response(status=400, text="unknown client or redirect_uri")
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="want response_type=code with S256 PKCE")
        if "openid" not in q.get("scope", "").split():
            return web.Response(status=400, text="want the openid scope")
        if self.misbehave == "deny":
            raise web.HTTPFound(self.redirect_uri + "?" + urlencode(
                {"error": "access_denied", "state": q["state"]}))
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(q["code_challenge"], q["redirect_uri"], q.get("nonce", ""),
                                  self.subject)
        raise web.HTTPFound(self.redirect_uri + "?" + urlencode(
            {"code": code, "state": q["state"]}))

    async def token(self, request: web.Request) -> web.StreamResponse:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.grants.pop(form.get("code", ""), None)  # one use only
        if self.misbehave == "error_page":  # a proxy in front of the provider failing
            return web.Response(status=502, text="<html>Bad Gateway</html>",
                                content_type="text/html")
        if self.misbehave == "refuse_code" or grant is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(
            form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
        if (form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != grant.redirect_uri
                or challenge != grant.code_challenge):
            return web.json_response({"error": "invalid_grant"}, status=400)
        if self.misbehave == "not_json":
            return web.Response(text="<html>oops</html>", content_type="text/html")
        now = self.now()
        access = self.idp.issue(self.subject, self.roles, now, dt.timedelta(minutes=15))
        claims = {"iss": self.idp.issuer, "sub": grant.subject, "aud": CLIENT_ID,
                  "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 300,
                  "nonce": grant.nonce, "auth_time": int(now.timestamp())}
        if self.misbehave == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        if self.misbehave == "wrong_audience":
            claims["aud"] = "someone-else"
        if self.misbehave == "other_subject":
            claims["sub"] = "det.other"
        key = self.idp.key
        if self.misbehave == "bad_signature":
            key = DevIdentityProvider.create(self.idp.agency).key
        id_token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": self.idp.kid})
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                                  "expires_in": 900, "id_token": id_token}
        if self.misbehave == "no_id_token":
            del answer["id_token"]
        return web.json_response(answer, headers={"Cache-Control": "no-store"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        return app


async def start(provider: OidcProvider) -> TestServer:
    """Serve ``provider`` on a free loopback port."""
    server = TestServer(provider.app(), host="127.0.0.1")
    await server.start_server()
    return server


__all__ = ["CLIENT_ID", "CLIENT_SECRET", "HUB_AUDIENCE", "OidcProvider", "start"]
