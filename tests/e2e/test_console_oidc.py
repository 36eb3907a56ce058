"""OIDC sign-in in a real browser, with the provider on another site.

The console's session cookie is SameSite=Strict, which a browser withholds on
navigations that began at another site, such as the provider's redirect back.
aiohttp's client ignores SameSite, so only a browser shows that the callback's
page hands over to the console and the person arrives signed in. The provider
is served as ``localhost`` and the console as ``127.0.0.1``: different sites.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from node.console.app import make_app
from node.console.config import OidcConfig
from node.console.oidc import OidcSignIn
from tests.integration.console.test_console_http import FakeBackend, standalone_console
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, start

try:
    from playwright.async_api import expect
except ImportError:  # the browser fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]

AGENCY = "lakeside_so"


@pytest.fixture
async def console_url() -> AsyncIterator[str]:
    console, idp, issuer = standalone_console(FakeBackend(), _now, dev_sign_in=False)
    console_server = TestServer(make_app(console), host="127.0.0.1")
    await console_server.start_server()
    base = f"http://127.0.0.1:{console_server.port}"
    provider = OidcProvider(idp, redirect_uri=base + "/signin/callback",
                            roles=("investigator", "auditor"))
    provider_server = await start(provider)
    provider_base = f"http://localhost:{provider_server.port}"
    console.oidc = OidcSignIn(
        OidcConfig(authorization_endpoint=provider_base + "/authorize",
                   token_endpoint=provider_base + "/token", client_id=CLIENT_ID,
                   redirect_uri=base + "/signin/callback"),
        issuer, console.verifier, CLIENT_SECRET)
    try:
        yield base
    finally:
        await provider_server.close()
        await console_server.close()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def test_oidc_sign_in_lands_signed_in(browser: Any, console_url: str,
                                            screenshots: Path) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{console_url}/signin")
    await page.get_by_role("link", name="Sign in with your agency account").click()
    # Through the provider (another site) and back: the callback's page moves on to
    # the search page, and the Strict session cookie comes with that navigation.
    await page.wait_for_url(f"{console_url}/search", timeout=20_000)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Search the federation")
    await expect(page.get_by_text("det.oidc").first).to_be_visible()
    await expect(page.get_by_role("link", name="Auditor")).to_be_visible()
    await page.screenshot(path=str(screenshots / "oidc-signed-in.png"), full_page=True)
    await page.goto(f"{console_url}/audit")
    await expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    await context.close()
