"""Monitoring after return in Debian's Chromium, in Arabic and in English: a monitor records the arrival
of a household that returned on its own from its page (which schedules its follow-ups), records an
incident from the household page, finds it on the incident list with a filter and opens it; a
coordinator gives the household's follow-ups to that monitor and escalates the households not reached,
through the confirmation page. On every page the direction, no untranslated text, and an axe-core check.

Monitors record arrivals, contacts and incidents; giving follow-ups away and escalating is the
coordinators' work (`assign_followups`), so the second half signs in as a coordinator. SQLite only, as
tests/test_browser_pages.py; the same pages run on both engines in tests/test_pages_arrivals.py,
tests/test_pages_followups.py and tests/test_pages_incidents.py. AWDA_SCREENSHOTS=<folder> saves a
screenshot of each page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.households import services
from awda.monitoring import followups
from awda.runtime import Runtime
from tests import factories
from tests.conftest import make_user
from tests.test_browser_pages import VIEWPORT, check_page, context, sign_in  # noqa: F401 - fixtures
from tests.test_verify_page import TIMEOUT_MS, browser, server  # noqa: F401 - fixtures shared with /verify

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("gazetteer"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def _record_the_arrival(page: Page, server: str, locale: str, household: str) -> None:  # noqa: F811
    """Through the household page's form: every member and the intention's destination are the defaults."""
    page.goto(f"{server}/households/{household}")
    assert page.locator("#followups").count() == 0
    page.click("#record-arrival summary")
    assert page.locator("input[name=arrival_members]:checked").count() == 3
    assert page.input_value("#arrival_place") == "C4301"
    page.fill("#arrival_on", "2025-01-10")
    check_page(page, locale, "household-arrival")
    page.click("#record-arrival button[type=submit]")
    page.wait_for_url("**?done=arrived&scheduled=5#followups")
    assert page.locator(".notice[role=status]").count() == 1
    assert page.locator("#followups form[action$='/outcome']").count() == 5  # the default schedule
    check_page(page, locale, "household-arrived")


def _record_and_find_an_incident(page: Page, server: str, locale: str, household: str) -> None:  # noqa: F811
    page.goto(f"{server}/households/{household}")
    page.click("#record-incident summary")
    page.check("input[name=members][value='2']")
    page.select_option("#type", "detention")
    page.fill("#occurred_on", "2025-03-04")
    page.click("#record-incident button[type=submit]")
    page.wait_for_url("**/incidents/*?done=recorded")
    recorded = page.url.split("/incidents/")[1].split("?")[0]
    page.click("nav.site-nav a[href='/incidents']")
    page.select_option("#type", "detention")
    page.fill("#since", "2025-03-01")
    page.click("form[action='/incidents'] button[type=submit]")
    page.wait_for_url("**/incidents?type=detention*")
    assert page.locator("tr[data-incident]").count() == 1
    check_page(page, locale, "incidents")
    page.click(f"tr[data-incident='{recorded}'] a[href='/incidents/{recorded}']")
    page.wait_for_url(f"**/incidents/{recorded}")
    assert page.get_attribute("[data-verification]", "data-verification") == "reported"


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_incidents_assignment_and_escalation(
    browser: Browser,  # noqa: F811
    context: BrowserContext,  # noqa: F811
    server: str,  # noqa: F811
    runtime: Runtime,
    session: Session,
    locale: str,
) -> None:
    household = services.register_household(session, runtime.vault, SYSTEM, factories.household()).household_uid
    make_user(session, f"monitor-m-{locale}", "monitor", ("RUKBAN",))
    make_user(session, f"coordinator-m-{locale}", "coordinator", ("RUKBAN",))
    page = context.new_page()
    sign_in(page, server, f"monitor-m-{locale}")
    _record_the_arrival(page, server, locale, household)
    assert len(followups.followups_of_household(session, SYSTEM, household)) == 5
    _record_and_find_an_incident(page, server, locale, household)

    coordinating = browser.new_context(locale=locale, viewport=VIEWPORT)  # type: ignore[arg-type]
    coordinating.set_default_timeout(TIMEOUT_MS)
    page = coordinating.new_page()
    sign_in(page, server, f"coordinator-m-{locale}")
    page.goto(f"{server}/households/{household}#followups")
    page.select_option("#monitor", f"monitor-m-{locale}")
    check_page(page, locale, "followups-assign")
    page.click("form[action$='/followups/monitor'] button[type=submit]")
    page.wait_for_url("**?done=assigned#followups")
    assert page.locator(f"td[data-monitor='monitor-m-{locale}']").count() == 5

    page.click("nav.site-nav a[href='/followups/unreached']")
    page.wait_for_url("**/followups/unreached")
    page.wait_for_load_state()
    assert page.locator(f"a[href='/households/{household}#followups']").count() == 1
    check_page(page, locale, "unreached")
    page.click("a[href^='/followups/unreached/escalate']")
    page.wait_for_url("**/followups/unreached/escalate?after_days=45")
    check_page(page, locale, "unreached-escalate")
    page.click("form[action='/followups/unreached/escalate'] button[type=submit]")
    page.wait_for_url("**/followups/unreached?after_days=45&escalated=1")
    assert page.locator(".notice[role=status]").count() == 1
    check_page(page, locale, "unreached-escalated")
    assert all(item["escalated"] for item in followups.followups_of_household(session, SYSTEM, household))
    coordinating.close()
