"""Production sign-in through an OpenID Connect provider: the whole flow over real HTTP.

The console (a real aiohttp server on loopback, fake backend) and a small OIDC
provider (tests/support/oidc_provider.py, its own server) talk as a browser
makes them: the client follows the redirects from the console to the provider
and back. Each way the provider's answer can be wrong is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from yarl import URL

from accord.errors import ConfigError
from node.console.app import Console, make_app
from node.console.config import ConsoleConfig, OidcConfig
from node.console.oidc import BINDING_COOKIE, NOT_VERIFIED, PENDING_LIFETIME, OidcSignIn
from node.console.service import _client_secret
from tests.conftest import NOW
from tests.integration.conftest import start_federation, stop_federation
from tests.integration.console.test_console_http import FakeBackend, standalone_console
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, start

AGENCY = "lakeside_so"


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class World:
    console_url: str
    provider: OidcProvider
    provider_url: str
    clock: Clock
    browser: ClientSession
    console: Console

    @property
    def oidc(self) -> OidcSignIn:
        assert self.console.oidc is not None
        return self.console.oidc

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, str]:
        async with self.browser.get(self.console_url + path, **kwargs) as response:
            return response.status, str(response.url), await response.text()

    async def authorization_url(self) -> str:
        async with self.browser.get(self.console_url + "/signin/oidc",
                                    allow_redirects=False) as response:
            assert response.status == 303
            return response.headers["Location"]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = Clock()
    console, idp, issuer = standalone_console(FakeBackend(), clock, dev_sign_in=False)
    console_server = TestServer(make_app(console), host="127.0.0.1")
    await console_server.start_server()
    console_url = str(console_server.make_url("")).rstrip("/")
    provider = OidcProvider(idp, redirect_uri=console_url + "/signin/callback", clock=clock)
    provider_server = await start(provider)
    provider_url = str(provider_server.make_url("")).rstrip("/")
    console.oidc = OidcSignIn(
        OidcConfig(authorization_endpoint=provider_url + "/authorize",
                   token_endpoint=provider_url + "/token", client_id=CLIENT_ID,
                   redirect_uri=console_url + "/signin/callback"),
        issuer, console.verifier, CLIENT_SECRET)
    # The session cookie is Secure: treat the loopback console as a secure origin,
    # as browsers do.
    jar = CookieJar(unsafe=True, treat_as_secure_origin=console_url)
    async with ClientSession(cookie_jar=jar) as browser:
        yield World(console_url, provider, provider_url, clock, browser, console)
    await provider_server.close()
    await console_server.close()


def alert(html: str) -> str:
    match = re.search(r'<p class="error" role="alert">([^<]*)</p>', html)
    return match.group(1).replace("&#39;", "'") if match else ""


async def test_signing_in_through_the_provider(world: World) -> None:
    status, _, page = await world.get("/signin")
    assert status == 200 and 'href="/signin/oidc"' in page
    assert world.provider.idp.issuer in page

    status, url, page = await world.get("/signin/oidc")  # follows both redirects
    assert status == 200, page
    assert urlsplit(url).path == "/signin/callback"
    assert "Signed in" in page and "det.oidc" in page
    assert '<meta http-equiv="refresh" content="0; url=/search">' in page

    status, url, page = await world.get("/search")
    assert status == 200 and urlsplit(url).path == "/search"
    assert "det.oidc" in page and "investigator" in page
    # The code went to the token endpoint with the PKCE verifier; the client
    # secret travelled in the Authorization header, never in the form.
    (request,) = world.provider.token_requests
    assert request["grant_type"] == "authorization_code" and len(request["code_verifier"]) >= 43
    assert CLIENT_SECRET not in request.values() and "client_secret" not in request


async def test_the_authorization_request_carries_state_nonce_and_an_s256_challenge(
        world: World) -> None:
    first = parse_qs(urlsplit(await world.authorization_url()).query)
    second = parse_qs(urlsplit(await world.authorization_url()).query)
    assert first["response_type"] == ["code"] and first["client_id"] == [CLIENT_ID]
    assert first["code_challenge_method"] == ["S256"] and len(first["code_challenge"][0]) == 43
    assert first["scope"] == ["openid"]
    assert first["redirect_uri"] == [world.console_url + "/signin/callback"]
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name], f"{name} must be fresh for every sign-in"


async def test_the_binding_cookie_is_lax_http_only_and_scoped_to_the_callback(
        world: World) -> None:
    async with world.browser.get(world.console_url + "/signin/oidc",
                                 allow_redirects=False) as response:
        cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("accord_oidc=")
    for attribute in ("HttpOnly", "Path=/signin/callback", "SameSite=Lax", "Secure"):
        assert attribute in cookie


async def test_a_callback_replayed_is_refused(world: World) -> None:
    callback = await _callback_url(world)
    status, _, _ = await world.get(callback.removeprefix(world.console_url))
    assert status == 200
    await world.get("/signin")  # (a new binding would not help either)
    status, _, page = await world.get(callback.removeprefix(world.console_url))
    assert status == 400
    assert alert(page) == "sign-in: this sign-in is unknown, used or expired; start again"


async def test_a_callback_in_another_browser_is_refused(world: World) -> None:
    callback = await _callback_url(world)
    async with ClientSession() as other, other.get(callback) as response:
        assert response.status == 400
        assert alert(await response.text()) == ("sign-in: it was started in another browser; "
                                                "start again")
    # ...and the flow it belonged to is spent: the right browser cannot finish it now.
    status, _, _ = await world.get(callback.removeprefix(world.console_url))
    assert status == 400


async def test_a_flood_of_started_sign_ins_pushes_nobodys_sign_in_out(world: World) -> None:
    # Anyone can start sign-ins (a GET): kept in a table, 10,000 of them pushed
    # out the one someone was in the middle of. Now the browser holds its flow.
    callback = await _callback_url(world)
    for _ in range(12_000):
        world.oidc.begin(world.clock())
    status, _, _ = await world.get(callback.removeprefix(world.console_url))
    assert status == 200


async def test_an_altered_binding_cookie_is_another_browsers(world: World) -> None:
    callback = await _callback_url(world)
    cookie = world.browser.cookie_jar.filter_cookies(
        URL(world.console_url + "/signin/callback"))[BINDING_COOKIE].value
    altered = cookie[:-6] + ("AAAAAA" if not cookie.endswith("AAAAAA") else "BBBBBB")
    async with ClientSession() as other, other.get(
            callback, headers={"Cookie": f"{BINDING_COOKIE}={altered}"}) as response:
        assert response.status == 400
        assert alert(await response.text()) == ("sign-in: it was started in another browser; "
                                                "start again")


async def test_a_sign_in_left_too_long_expires(world: World) -> None:
    callback = await _callback_url(world)
    world.clock.now = NOW + PENDING_LIFETIME + dt.timedelta(seconds=1)
    status, _, page = await world.get(callback.removeprefix(world.console_url))
    assert status == 400 and "unknown, used or expired" in alert(page)
    assert world.provider.token_requests == []


async def test_the_provider_refusing_is_said_plainly(world: World) -> None:
    world.provider.misbehave = "deny"
    status, _, page = await world.get("/signin/oidc")
    assert status == 400
    assert alert(page) == "sign-in: the identity provider refused (access_denied)"
    status, url, _ = await world.get("/search")
    assert urlsplit(url).path == "/signin"


@pytest.mark.parametrize("misbehave", [
    "wrong_nonce", "wrong_audience", "other_subject", "no_id_token", "bad_signature",
    "not_json",
])
async def test_an_answer_that_fails_verification_signs_nobody_in(world: World,
                                                                 misbehave: str) -> None:
    world.provider.misbehave = misbehave
    status, _, page = await world.get("/signin/oidc")
    assert status == 401
    assert alert(page) == NOT_VERIFIED
    status, url, _ = await world.get("/search")
    assert urlsplit(url).path == "/signin"


async def test_a_code_the_token_endpoint_refuses_is_said_plainly(world: World) -> None:
    world.provider.misbehave = "refuse_code"
    status, _, page = await world.get("/signin/oidc")
    assert status == 400
    assert alert(page) == "sign-in: the identity provider refused the code (HTTP 400); start again"


async def test_a_refusal_that_is_not_json_is_still_a_refusal(world: World) -> None:
    world.provider.misbehave = "error_page"
    status, _, page = await world.get("/signin/oidc")
    assert status == 400
    assert alert(page) == "sign-in: the identity provider refused the code (HTTP 502); start again"


async def test_an_unreachable_token_endpoint_is_said_plainly(world: World) -> None:
    oidc = world.oidc  # the provider is up for /authorize...
    oidc.config = OidcConfig(
        authorization_endpoint=oidc.config.authorization_endpoint,
        token_endpoint="http://127.0.0.1:9/token",  # ...but nothing listens here
        client_id=CLIENT_ID, redirect_uri=oidc.config.redirect_uri)
    status, _, page = await world.get("/signin/oidc")
    assert status == 400
    assert alert(page) == ("sign-in: the identity provider's token endpoint did not answer; "
                           "try again later")


async def test_the_callback_is_not_found_without_oidc(world: World) -> None:
    world.console.oidc = None
    status, _, _ = await world.get("/signin/callback?state=x&code=y")
    assert status == 404
    status, _, page = await world.get("/signin")
    assert "/signin/oidc" not in page and "No sign-in is configured" in page


# --- helpers ---------------------------------------------------------------------------


async def _callback_url(world: World) -> str:
    """Start a sign-in and let the provider answer, without following it back."""
    authorize = await world.authorization_url()
    async with world.browser.get(authorize, allow_redirects=False) as response:
        assert response.status == 302
        return response.headers["Location"]


async def test_a_node_started_with_oidc_offers_it_and_reads_its_secret(tmp_path: Path) -> None:
    secret = tmp_path / "oidc_client_secret"
    secret.write_text(CLIENT_SECRET + "\n")
    oidc = OidcConfig(authorization_endpoint="https://idp.lakeside.gov/authorize",
                      token_endpoint="https://idp.lakeside.gov/token", client_id=CLIENT_ID,
                      redirect_uri="https://console.lakeside.gov/signin/callback",
                      client_secret_file=secret)

    def with_oidc(config: Any) -> Any:
        return replace(config, console=ConsoleConfig(enabled=True, listen="127.0.0.1:0",
                                                     oidc=oidc))

    federation = await start_federation(tmp_path / "fed", node_config=with_oidc)
    try:
        running = federation.nodes[AGENCY].console
        assert running is not None
        async with ClientSession() as browser:
            async with browser.get(running.url + "signin") as response:
                page = await response.text()
            assert 'href="/signin/oidc"' in page and "User id" not in page
            async with browser.get(running.url + "signin/oidc",
                                   allow_redirects=False) as response:
                location = response.headers["Location"]
        assert location.startswith("https://idp.lakeside.gov/authorize?")
    finally:
        await stop_federation(federation)


def test_an_empty_client_secret_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "secret"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match=re.escape(f"client_secret_file: {empty}: is empty")):
        _client_secret(empty)
    with pytest.raises(ConfigError, match="cannot read"):
        _client_secret(tmp_path / "missing")
