"""The console's story in a real browser, on a real federation: sign-in, search,
release request, custodian approval, reading the release, audit verification,
and the dashboard."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

try:
    from playwright.async_api import expect

    # A loaded CI machine is slower than a laptop: give each page its time.
    expect.set_options(timeout=20_000)
except ImportError:  # the browser fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]

from node.records import Person, Role
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation
from tests.integration.test_search import cad_call, tip
from tests.integration.test_sweep import harbor_interview

CASE = "LS-2026-0117"


def url(live: LiveFederation, agency: str) -> str:
    console = live.nodes[agency].console
    assert console is not None, f"{agency}'s console is not running"
    return console.url.rstrip("/")


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
    .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
    .map(e => e.name)"""


async def assert_accessible(page: Any) -> None:
    """Every form control has a label, and the page has one main landmark and one h1."""
    assert await page.evaluate(UNLABELLED) == []
    assert await page.locator("main").count() == 1
    assert await page.locator("h1").count() == 1


async def sign_in(browser: Any, base: str, subject: str, roles: tuple[str, ...]) -> Any:
    context = await browser.new_context()
    context.set_default_timeout(30_000)
    page = await context.new_page()
    await page.goto(f"{base}/signin")
    await page.get_by_label("User id").fill(subject)
    for role in ("auditor", "custodian", "investigator", "steward"):
        await page.get_by_label(role, exact=True).set_checked(role in roles)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text(subject, exact=False).first).to_be_visible()
    return page


async def test_console_story(browser: Any, live: LiveFederation, screenshots: Path) -> None:
    live.ingest("rivertown_pd", [cad_call()])
    # Enough September calls for one dashboard cell to pass suppression (>= 11).
    others = (Person(role=Role.OTHER, name="Dana Whitfield"),)
    live.ingest("rivertown_pd", [replace(cad_call(f"CAD-2026-9{i:03d}"), people=others)
                                 for i in range(12)])
    live.ingest("tip_hotline", [tip()])
    lakeside, hotline = url(live, "lakeside_so"), url(live, "tip_hotline")

    # --- the investigator searches -----------------------------------------------------
    inv = await sign_in(browser, lakeside, "det.morales", ("investigator",))
    await expect(inv).to_have_url(re.compile(r"/search$"))
    await inv.get_by_label("Case number").fill(CASE)
    await inv.get_by_label("Purpose").select_option("human_trafficking")
    await inv.get_by_label("Person's name").fill("Jazmin Ramirez")
    await inv.get_by_label("Date of birth").fill("1999-03-04")
    await inv.get_by_label(re.compile("Second-level sweep")).check()
    await inv.get_by_role("button", name="Search").click()
    await expect(inv.get_by_role("heading", name=re.compile("rivertown_pd"))).to_be_visible()
    # The call's phone leads, through the sweep, to the hotline's tip.
    sweep = inv.locator("#sweep-results")
    await expect(sweep).to_contain_text("tip_hotline hotline_tip")
    await expect(sweep).to_contain_text("rivertown_pd cad_call")
    await assert_accessible(inv)
    await inv.screenshot(path=str(screenshots / "1-search.png"), full_page=True)

    # --- she asks for the hotline tip: it waits for the hotline's custodian ------------
    await sweep.get_by_label(re.compile("Justification")).first.fill(
        "victim identification in an active trafficking case")
    await sweep.get_by_role("button", name="Request release").first.click()
    await expect(inv.locator("#release-state")).to_have_text("pending_approval")
    tip_release = inv.url
    await inv.screenshot(path=str(screenshots / "2-release-pending.png"), full_page=True)

    # --- the hotline's custodian approves ---------------------------------------------
    cust = await sign_in(browser, hotline, "cust.lee", ("custodian",))
    await cust.goto(f"{hotline}/custodian")
    await expect(cust.get_by_role("heading", name=re.compile("hotline_tip for det.morales"))).to_be_visible()
    await assert_accessible(cust)
    await cust.screenshot(path=str(screenshots / "3-custodian.png"), full_page=True)
    await cust.get_by_label(re.compile("Reason")).first.fill("active trafficking case, victim safety")
    await cust.get_by_role("button", name="Approve").first.click()
    await expect(cust.get_by_role("status").first).to_contain_text("approved: now granted")

    # --- she reads the released record, withheld fields marked -------------------------
    await inv.goto(tip_release)
    await expect(inv.locator("#release-state")).to_have_text("granted")
    await inv.get_by_role("button", name=re.compile("Collect")).click()
    await expect(inv.get_by_role("heading", name="Released record")).to_be_visible()
    await expect(inv.locator("#release-state")).to_have_text("delivered")
    await expect(inv.get_by_text("TIP-88213")).to_be_visible()
    await expect(inv.locator(".withheld").first).to_be_visible()  # the victim's phone
    await inv.screenshot(path=str(screenshots / "4-release-record.png"), full_page=True)

    # --- she watches the phone; a record ingested later is reported --------------------
    await inv.goto(f"{lakeside}/search")
    await inv.get_by_label("Case number").fill(CASE)
    await inv.get_by_label("Phone").fill("503-555-0142")
    await inv.get_by_role("button", name="Search").click()
    await inv.get_by_label("Label").fill("Jazzy's phone")
    await inv.get_by_role("button", name="Watch", exact=True).click()
    await expect(inv).to_have_url(re.compile(r"/watches$"))
    await expect(inv.locator("#watches")).to_contain_text("Jazzy's phone")
    live.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=1))
    assert await live.hub.watches.check_all(NOW + dt.timedelta(hours=2)) == 1
    await inv.reload()
    await expect(inv.locator("#notifications")).to_contain_text(
        "harbor_pd holds a field_interview")
    await expect(inv.locator("#notifications").get_by_role(
        "button", name="Request release")).to_be_visible()
    await assert_accessible(inv)
    await inv.screenshot(path=str(screenshots / "4b-watches.png"), full_page=True)

    # --- an auditor verifies the log and an entry's inclusion proof ---------------------
    aud = await sign_in(browser, lakeside, "aud.kim", ("auditor",))
    await aud.goto(f"{lakeside}/audit")
    await expect(aud.locator("#verification")).to_contain_text("Log verified")
    # Lakeside only asked for records; the hotline released one and so pinned the
    # checkpoint it accepted then, which its auditor page verifies the log against.
    await expect(aud.locator("#pinned")).to_have_text(
        "Pinned: nothing (the node has accepted no checkpoint yet).")
    pinned = live.nodes["tip_hotline"].store.last_checkpoint()
    assert pinned is not None
    hotline_aud = await sign_in(browser, hotline, "aud.li", ("auditor",))
    await hotline_aud.goto(f"{hotline}/audit")
    await expect(hotline_aud.locator("#verification")).to_contain_text("Log verified")
    await expect(hotline_aud.locator("#pinned")).to_have_text(
        f"Pinned: the node's accepted checkpoint at size {pinned[0]}.")
    await expect(aud.locator("#entries")).to_contain_text("release_delivered")
    await expect(aud.locator("#investigators")).to_contain_text("det.morales")
    await assert_accessible(aud)
    await aud.screenshot(path=str(screenshots / "5-audit.png"), full_page=True)
    await aud.locator("#entries a").last.click()
    await expect(aud.locator("#inclusion")).to_contain_text("Verified")
    # The auditor's own browser checks the proof and the hub's signature again...
    check = aud.locator("#browser-check")
    await expect(check).to_have_attribute("data-verified", "yes")
    await expect(aud.locator("#browser-result")).to_contain_text(
        "Verified in this browser: entry #")
    await aud.screenshot(path=str(screenshots / "6-audit-entry.png"), full_page=True)
    # ...and would say so if the entry it was shown were not the one the hub logged.
    await aud.evaluate("""() => {
        const section = document.getElementById("browser-check");
        section.dataset.entry = btoa(atob(section.dataset.entry).replace("ok", "ko"));
        return window.accordVerifyEntry();
    }""")
    await expect(check).to_have_attribute("data-verified", "no")
    await expect(aud.locator("#browser-result")).to_contain_text(
        "Not verified in this browser: the proof does not lead to the signed root")

    # --- the dashboard: counts under policy, small cells suppressed ---------------------
    await aud.goto(f"{lakeside}/dashboard?purpose=human_trafficking")
    chart = aud.locator("figure", has_text="Records by agency")
    await expect(chart).to_contain_text("rivertown_pd")
    await expect(chart).not_to_contain_text("tip_hotline")  # one tip: suppressed
    await expect(aud.get_by_text(re.compile(r"\d+ cell\(s\) suppressed"))).to_be_visible()
    await assert_accessible(aud)
    await aud.screenshot(path=str(screenshots / "7-dashboard.png"), full_page=True)

    # Keyboard: the skip link is the first stop and moves focus to the content.
    await aud.keyboard.press("Tab")
    await expect(aud.get_by_role("link", name="Skip to content")).to_be_focused()
    print(f"screenshots in {screenshots}")
