"""End-to-end tests of the web console in headless Chromium.

They use Debian's chromium (``/usr/bin/chromium``, or ``ACCORD_CHROMIUM``)
through Playwright's async API, never a downloaded browser. Without a browser
they skip locally and fail under CI (``CI=true``), which must run them
(``.ci/run`` installs chromium).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    LiveFederation,
    console_on_any_port,
    start_federation,
    stop_federation,
)

CHROMIUM = Path(os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium"))


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) "
                "or set ACCORD_CHROMIUM")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"e2e tests must run in CI: {missing}")
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            # Root in containers has no user namespaces for the sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveFederation]:
    federation = await start_federation(tmp_path / "fed", node_config=console_on_any_port)
    try:
        yield federation
    finally:
        await stop_federation(federation)


@pytest.fixture
def screenshots() -> Path:
    """Where screenshots go: ACCORD_SCREENSHOTS, or a fresh temporary directory."""
    directory = Path(os.environ.get("ACCORD_SCREENSHOTS") or tempfile.mkdtemp(prefix="accord-e2e-"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory
