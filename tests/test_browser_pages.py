"""The field team's pages in Debian's Chromium, in Arabic and in English: sign in, register a household,
open it, re-confirm and withdraw its intention, review a duplicate pair; issue and revoke a card, plan a
week and board a convoy; record an incident. On every page the direction, no untranslated text, and an
axe-core accessibility check; the registration page's weight on first load.

SQLite only: the same pages run on both engines in tests/test_pages_households.py. With
AWDA_SCREENSHOTS=<folder> the test also saves a screenshot of each page there (docs/web.md).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Response
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.convoys import services as convoys
from awda.convoys.commands import ConvoyIn
from awda.households import intentions, services
from awda.runtime import Runtime
from tests import factories
from tests.cards_support import CardWorld, card_world
from tests.conftest import PASSWORD, make_user
from tests.test_pages_households import _pair
from tests.test_verify_page import TIMEOUT_MS, browser, server  # noqa: F401 - fixtures shared with /verify

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("gazetteer"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
PAGE_BUDGET = 100_000  # bytes transferred for the registration page on a first load
VIEWPORT = {"width": 900, "height": 700}
AXE = Axe()
# Text outside the places where Latin letters belong (codes, isolated values, English spans).
UNTRANSLATED = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!/[A-Za-z]/.test(node.textContent)) continue;
    if (node.parentElement.closest('code, bdi, script, style, noscript, [lang="en"], [dir="ltr"]')) continue;
    found.push(node.textContent.trim());
  }
  if (/[A-Za-z]/.test(document.title.replace('awda', ''))) found.push(document.title);
  return found;
}"""
TEXTS = {
    "ar": {"registered": "سُجِّلت الأسرة.", "withdrawn": "مسحوبة", "merged": "مدموج", "undone": "أُلغي الدمج"},
    "en": {
        "registered": "The household is registered.",
        "withdrawn": "Withdrawn",
        "merged": "Merged",
        "undone": "undone",
    },
}


@pytest.fixture
def context(browser: Browser, locale: str) -> Iterator[BrowserContext]:  # noqa: F811 - the imported fixture
    opened = browser.new_context(locale=locale, viewport=VIEWPORT)  # type: ignore[arg-type]
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    opened.close()


def check_page(page: Page, locale: str, name: str) -> None:
    """The page's direction, translation and accessibility; saved as a screenshot when asked."""
    page.wait_for_load_state()  # a click that navigates returns once the next page starts loading
    assert page.get_attribute("html", "lang") == locale
    assert page.get_attribute("html", "dir") == ("rtl" if locale == "ar" else "ltr")
    if locale == "ar":
        found = page.evaluate(UNTRANSLATED)
        assert found == [], f"{name}: {found}"
    results = AXE.run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    folder = os.environ.get("AWDA_SCREENSHOTS")
    if folder:  # a 64-colour palette keeps the files small for the repository
        shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        shot.quantize(colors=64).save(Path(folder) / f"{name}-{locale}.png", optimize=True)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/home")


def signed_in_page(
    context: BrowserContext, base: str, session: Session, username: str, role: str, sites: tuple[str, ...] = ("RUKBAN",)
) -> Page:
    """A new page of a new user with this role and these sites, signed in."""
    make_user(session, username, role, sites)
    page = context.new_page()
    sign_in(page, base, username)
    return page


def issue_card(page: Page, base: str, world: CardWorld) -> None:
    """Issue a card to the household's head from its page, as a coordinator does; ends on the card's page."""
    page.goto(f"{base}/households/{world.household.household_uid}")
    page.select_option("#person", world.head)
    page.click("form[action='/cards'] button")
    page.wait_for_url("**/cards/*?done=issued")


def fill_household(page: Page) -> None:
    page.select_option("#site_code", "RUKBAN")
    page.check("input[name=purposes][value=movement]")
    page.select_option("#m1_sex", "male")
    page.fill("#m1_birth_year", "1979")
    page.fill("#m1_given_name_ar", factories.HEAD_NAME_AR)
    page.fill("#m1_family_name_ar", factories.FAMILY_AR)
    page.fill("#m1_given_name_lat", factories.HEAD_NAME_LAT)
    page.fill("#m1_phone", factories.HEAD_PHONE)
    page.select_option("#m2_relationship", "spouse")
    page.select_option("#m2_sex", "female")
    page.fill("#m2_birth_date", "1984-03-02")
    page.fill("#m2_given_name_ar", "خديجة")
    page.select_option("#intention_kind", "return")
    page.fill("#origin_pcode", "C4402")
    page.fill("#destination_pcode", "C4001")


def first_load_bytes(browser: Browser, context: BrowserContext, url: str) -> int:  # noqa: F811
    """Bytes a fresh browser (no cache, the same session) transfers to show `url`: HTML, CSS, everything."""
    fresh = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    fresh.add_cookies(context.cookies())
    responses: list[Response] = []
    page = fresh.new_page()
    page.on("response", lambda response: responses.append(response))  # noqa: PLW0108 - a bound method is refused
    page.goto(url, wait_until="load")
    total = 0
    for response in responses:
        sizes = response.request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    fresh.close()
    assert len(responses) >= 2  # the page and its stylesheet at least
    return total


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_register_open_change_and_review(
    browser: Browser,  # noqa: F811
    context: BrowserContext,
    server: str,  # noqa: F811
    runtime: Runtime,
    session: Session,
    locale: str,
) -> None:
    texts = TEXTS[locale]
    _pair(runtime, session)
    services.register_household(session, runtime.vault, SYSTEM, factories.household())  # one on a waiting list
    make_user(session, f"officer-{locale}", "registrar", ("RUKBAN",))
    page = context.new_page()
    page.goto(f"{server}/login")
    check_page(page, locale, "login")
    sign_in(page, server, f"officer-{locale}")
    check_page(page, locale, "home")
    page.keyboard.press("Tab")  # the keyboard reaches the skip link first, then the navigation
    assert page.evaluate("document.activeElement.className") == "skip-link"

    page.goto(f"{server}/households/new")
    check_page(page, locale, "register")
    assert first_load_bytes(browser, context, f"{server}/households/new") < PAGE_BUDGET
    fill_household(page)
    page.click("button[name=add_member]")  # posts the form back: one more row, nothing lost
    assert page.locator("fieldset.member").count() == 3
    assert page.input_value("#m1_given_name_ar") == factories.HEAD_NAME_AR
    page.fill("#m3_given_name_ar", "Maryam")  # Latin letters in an Arabic field: refused next to it
    page.select_option("#m3_relationship", "daughter")
    page.select_option("#m3_sex", "female")
    page.click("form.form > .actions:last-child button[type=submit]")
    assert page.locator("#m3_given_name_ar-error").is_visible()
    check_page(page, locale, "register-errors")
    page.fill("#m3_given_name_ar", "مريم")
    page.fill("#m3_birth_date", "2012-04-09")
    page.click("form.form > .actions:last-child button[type=submit]")
    page.wait_for_url("**/households/*?done=registered")
    assert page.inner_text(".notice") == texts["registered"]
    assert factories.HEAD_NAME_AR in page.inner_text("table.list")
    check_page(page, locale, "household")

    page.click("form[action$='/reconfirm'] button")
    page.wait_for_url("**done=reconfirmed**")
    page.select_option("select[name=to]", "withdrawn")
    page.click("form[action$='/status'] button[type=submit]")
    assert page.locator("input[name=confirmed]").count() == 1  # a page of its own asks first
    check_page(page, locale, "withdraw-confirm")
    page.select_option("#reason", "stayed")
    page.click("button.danger")
    page.wait_for_url("**done=status**")
    assert page.inner_text("[data-status]") == texts["withdrawn"]

    page.goto(f"{server}/households")
    check_page(page, locale, "households")
    page.goto(f"{server}/waitlists")
    check_page(page, locale, "waitlists")
    page.click("table.list a")
    page.wait_for_url("**/waitlists/*/*")
    page.wait_for_load_state()
    assert page.locator("table.list tbody tr").count() == 1
    check_page(page, locale, "waitlist")
    page.goto(f"{server}/scorecards")
    check_page(page, locale, "scorecards")
    page.goto(f"{server}/linkage")
    check_page(page, locale, "linkage")
    page.click("table.list a")
    check_page(page, locale, "linkage-pair")
    page.click("button[value=merge]")
    page.wait_for_url("**done=merged**")
    assert page.inner_text("[data-pair-status]") == texts["merged"]
    page.click("a[href$='/undo']")
    check_page(page, locale, "linkage-undo")
    page.click("button.danger")
    page.wait_for_url("**/linkage?done=undone")
    assert texts["undone"] in page.inner_text(".notice")


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_issue_and_revoke_a_card_then_board_a_convoy(
    context: BrowserContext,
    server: str,  # noqa: F811
    runtime: Runtime,
    session: Session,
    locale: str,
) -> None:
    world = card_world(runtime, session)
    page = signed_in_page(context, server, session, f"coordinator-{locale}", "coordinator")
    issue_card(page, server, world)
    assert page.get_attribute("[data-card-status]", "data-card-status") == "valid"
    check_page(page, locale, "card")
    page.click("a[href$='/revoke']")
    check_page(page, locale, "card-revoke")
    page.select_option("#reason", "lost")
    page.click("button.danger")
    page.wait_for_url("**/cards/*?done=revoked")
    assert page.get_attribute("[data-card-status]", "data-card-status") == "revoked"
    convoy = ConvoyIn(code="CV-WEB", site="RUKBAN", departs_on=date.today(), destinations=["C4301"], seats=9)
    convoys.schedule_convoy(session, SYSTEM, convoy)
    assert world.household.intention_uid is not None
    intentions.reconfirm_intention(session, SYSTEM, world.household.intention_uid)
    page.goto(f"{server}/convoys")
    page.click("form[action='/convoys/plan'] button")
    page.wait_for_url("**/convoys?done=planned")
    check_page(page, locale, "convoys")
    page.click("a[href='/convoys/CV-WEB']")
    page.check(f"#departures input[value='{world.head}']")
    check_page(page, locale, "convoy")
    page.click("#departures button[type=submit]")
    page.wait_for_url("**/convoys/CV-WEB?done=departures")
    assert page.locator(f"#departures input[value='{world.head}']").is_checked()


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_record_an_incident(
    context: BrowserContext,
    server: str,  # noqa: F811
    runtime: Runtime,
    session: Session,
    locale: str,
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    make_user(session, f"monitor-{locale}", "monitor", ("RUKBAN",))
    page = context.new_page()
    sign_in(page, server, f"monitor-{locale}")
    page.goto(f"{server}/households/{registered.household_uid}")
    page.click("#record-incident summary")
    page.check("input[name=members][value='1']")
    page.select_option("#type", "arrest")
    page.fill("#occurred_on", "2025-03-04")
    page.fill("#place", "C4001")
    check_page(page, locale, "household-incident")
    page.click("#record-incident button[type=submit]")
    page.wait_for_url("**/incidents/*?done=recorded")
    assert page.get_attribute("[data-verification]", "data-verification") == "reported"
    check_page(page, locale, "incident")
    page.goto(f"{server}/followups")
    check_page(page, locale, "followups")
