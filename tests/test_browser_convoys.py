"""A convoy's life in Debian's Chromium, in Arabic and in English: a coordinator schedules it from the
page (a taken code refused next to its field), plans the week, checks a person in at departure and
closes boarding through the confirmation page; a monitor checks the person in at arrival and reads the
missed-arrival alarm. Every new page gets `check_page`: direction, no untranslated text, axe-core.

SQLite only, as tests/test_browser_pages.py; with AWDA_SCREENSHOTS=<folder> each page is saved there.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.convoys import booking, checkin
from awda.convoys import services as convoys
from awda.convoys.commands import CheckInIn, ConvoyIn, PlanWeekIn
from awda.db import utcnow
from awda.households import intentions, services
from awda.households.services import Registered
from awda.runtime import Runtime
from tests import factories
from tests.conftest import make_user
from tests.test_browser_pages import check_page, context, sign_in  # noqa: F401 - fixtures and helpers
from tests.test_verify_page import browser, server  # noqa: F401 - fixtures shared with /verify

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("gazetteer"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
TEXTS = {
    "ar": {"scheduled": "جُدولت القافلة.", "departed": "أُغلق الصعود: القافلة في الطريق."},
    "en": {"scheduled": "The convoy is scheduled.", "departed": "Boarding is closed: the convoy is on the road."},
}


def _waiting(runtime: Runtime, session: Session) -> Registered:
    """A household waiting for a month that has re-confirmed, so its people may board this week."""
    command = factories.household(registered_on=date.today() - timedelta(days=30))
    registered = services.register_household(session, runtime.vault, SYSTEM, command)
    assert registered.intention_uid is not None
    intentions.reconfirm_intention(session, SYSTEM, registered.intention_uid)
    return registered


def _late_convoy(runtime: Runtime, session: Session) -> None:
    """CV-LATE left long enough ago for the alarm, and nobody on it is confirmed at arrival."""
    late = _waiting(runtime, session)
    today = date.today()
    convoy = ConvoyIn(code="CV-LATE", site="RUKBAN", departs_on=today, destinations=["C4301"], seats=9)
    convoys.schedule_convoy(session, SYSTEM, convoy)
    year, week, _ = today.isocalendar()
    booking.plan_week(session, SYSTEM, PlanWeekIn(week=f"{year}-W{week:02d}", notify=False))
    left = utcnow() - timedelta(hours=runtime.settings.arrival_alarm_hours + 6)
    checkin.check_in_departure(session, SYSTEM, "CV-LATE", CheckInIn(persons=late.person_uids, at=left), 7)
    booking.depart_convoy(session, SYSTEM, "CV-LATE", 7)


def schedule_from_the_page(page: Page, server: str, locale: str) -> None:  # noqa: F811
    page.goto(f"{server}/convoys")
    check_page(page, locale, "convoys-schedule")
    page.fill("#code", "CV-LATE")  # taken: refused next to the field, everything typed kept
    page.select_option("#site", "RUKBAN")
    page.fill("#destinations", "C4301")
    page.fill("#seats", "9")
    page.click("#schedule button[type=submit]")
    assert page.locator("#code-error").is_visible()
    assert page.input_value("#destinations") == "C4301"
    check_page(page, locale, "convoy-schedule-errors")
    page.fill("#code", "CV-BROWSER")
    page.click("#schedule button[type=submit]")
    page.wait_for_url("**/convoys/CV-BROWSER?done=scheduled")
    assert TEXTS[locale]["scheduled"] in page.inner_text(".notice")


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_schedule_plan_board_close_boarding_and_arrive(
    context: BrowserContext,  # noqa: F811
    server: str,  # noqa: F811
    runtime: Runtime,
    session: Session,
    locale: str,
) -> None:
    _late_convoy(runtime, session)
    head = _waiting(runtime, session).person_uids[0]
    make_user(session, f"coordinator-{locale}", "coordinator", ("RUKBAN",))
    make_user(session, f"monitor-{locale}", "monitor", ("RUKBAN",))
    page = context.new_page()
    sign_in(page, server, f"coordinator-{locale}")
    schedule_from_the_page(page, server, locale)
    page.goto(f"{server}/convoys")
    page.click("form[action='/convoys/plan'] button")
    page.wait_for_url("**/convoys?done=planned")
    page.goto(f"{server}/convoys/CV-BROWSER")
    page.check(f"#departures input[value='{head}']")
    page.click("#departures button[type=submit]")
    page.wait_for_url("**/convoys/CV-BROWSER?done=departures")
    page.click("a[href='/convoys/CV-BROWSER/depart']")
    check_page(page, locale, "convoy-depart")
    page.click("button.danger")
    page.wait_for_url("**/convoys/CV-BROWSER?done=departed&released=0")
    assert page.get_attribute("[data-convoy-status]", "data-convoy-status") == "departed"
    assert TEXTS[locale]["departed"] in page.inner_text(".notice")
    check_page(page, locale, "convoy-departed")

    context.clear_cookies()
    sign_in(page, server, f"monitor-{locale}")
    page.goto(f"{server}/convoys/CV-BROWSER")
    page.check(f"#arrivals input[value='{head}']")
    page.click("#arrivals button[type=submit]")
    page.wait_for_url("**/convoys/CV-BROWSER?done=arrivals")
    assert page.locator(f"#arrivals input[value='{head}']").is_checked()
    page.click("nav a[href='/convoys/missing']")
    page.wait_for_url("**/convoys/missing")
    page.wait_for_load_state()
    assert page.locator("[data-missing]").count() == 1
    assert page.get_attribute("[data-missing]", "data-missing") == "CV-LATE"
    check_page(page, locale, "convoys-missing")
