"""Convoys from the pages: the list, scheduling a convoy, planning a week, the manifest with check-in at
departure and at arrival, closing boarding after a confirmation page, the printable manifest and the
missed-arrival alarm; on both engines, through the real app.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.convoys import booking, checkin, waitlists
from awda.convoys import services as convoys
from awda.convoys.commands import CheckInIn, ConvoyIn, PlanWeekIn
from awda.db import utcnow
from awda.households import intentions, services
from awda.households.services import Registered
from awda.runtime import Runtime
from tests import factories
from tests.test_pages_households import (  # noqa: F401 - fixtures
    ARABIC,
    ENGLISH,
    TestClient,
    app,
    arabic_page_problems,
    client,
    field_errors,
    sign_in,
    token_of,
    untranslated,
)

pytestmark = pytest.mark.usefixtures("gazetteer")


def test_plan_a_week_then_check_in_at_departure_and_arrival(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    command = factories.household(registered_on=date.today() - timedelta(days=30))
    registered = services.register_household(session, runtime.vault, SYSTEM, command)
    assert registered.intention_uid is not None
    intentions.reconfirm_intention(session, SYSTEM, registered.intention_uid)
    departs = date.today() + timedelta(days=2)
    convoy = ConvoyIn(code="CV-PAGES", site="RUKBAN", departs_on=departs, destinations=["C4301"], seats=5)
    convoys.schedule_convoy(session, SYSTEM, convoy)
    sign_in(client, session, "coord-convoy", "coordinator")
    listed = client.get("/convoys", headers=ARABIC)
    assert listed.status_code == 200 and arabic_page_problems(listed.text) == []
    week = re.search(r'<option value="(\d{4}-W\d{2})" selected>', listed.text)
    assert week is not None
    planned = client.post("/convoys/plan", data={"csrf_token": token_of(listed), "week": week.group(1)})
    assert planned.headers["location"] == "/convoys?done=planned"
    page = client.get("/convoys/CV-PAGES", headers=ARABIC)
    assert page.status_code == 200 and arabic_page_problems(page.text) == []
    assert f'<bdi lang="ar">{factories.HEAD_NAME_AR} {factories.FAMILY_AR}</bdi>' in page.text
    head = registered.person_uids[0]
    token = token_of(page)
    nobody = client.post("/convoys/CV-PAGES/departures", data={"csrf_token": token})
    assert nobody.headers["location"] == "/convoys/CV-PAGES?problem=checkin"
    boarded = client.post("/convoys/CV-PAGES/departures", data={"csrf_token": token, "persons": [head]})
    assert boarded.headers["location"] == "/convoys/CV-PAGES?done=departures"
    after = client.get("/convoys/CV-PAGES").text
    assert re.search(rf'name="persons" value="{head}" disabled checked', after)
    arrived = client.post("/convoys/CV-PAGES/arrivals", data={"csrf_token": token, "persons": [head]})
    assert arrived.headers["location"] == "/convoys/CV-PAGES?done=arrivals"
    pdf = client.get("/convoys/CV-PAGES/manifest.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_a_registrar_reads_convoys_but_does_not_plan_or_board(
    client: TestClient,  # noqa: F811 - the imported fixture
    session: Session,
) -> None:
    convoy = ConvoyIn(code="CV-READ", site="RUKBAN", departs_on=date.today(), destinations=["C4301"], seats=5)
    convoys.schedule_convoy(session, SYSTEM, convoy)
    sign_in(client, session, "reg-convoy", "registrar")
    listed = client.get("/convoys", headers=ENGLISH)
    assert "CV-READ" in listed.text and 'action="/convoys/plan"' not in listed.text
    page = client.get("/convoys/CV-READ")
    assert page.status_code == 200 and "/departures" not in page.text
    data = {"csrf_token": token_of(page), "week": "2026-W01"}
    assert client.post("/convoys/plan", data=data).status_code == 403
    assert client.get("/convoys/CV-NONE").status_code == 404


# ---- Scheduling, closing boarding, the missed-arrival alarm

SCHEDULE_FORM = {
    "code": "cv-new",
    "site": "RUKBAN",
    "departs_on": (date.today() + timedelta(days=3)).isoformat(),
    "destinations": "C4301, c4311",
    "seats": "40",
    "agreement": "",
    "guarantor": "",
}
# What the Arabic catalogue says next to the refused fields (tests/test_pages.py keeps it complete).
SEATS_AR = "أدخل عدد المقاعد، عددًا صحيحًا من 1 إلى 10,000."
CODE_TAKEN_AR = "توجد قافلة مجدولة بهذا الرمز من قبل: اختر رمزًا آخر."
DEPARTED_AR = "أُغلق الصعود إلى هذه القافلة من قبل: لقد غادرت. لم يتغيّر شيء."


def _booked(runtime: Runtime, session: Session, code: str, households: int = 1) -> list[Registered]:
    """Households waiting since a month ago, booked (by the week's plan) on a convoy leaving today."""
    registered = [
        services.register_household(
            session, runtime.vault, SYSTEM, factories.household(registered_on=date.today() - timedelta(days=30))
        )
        for _ in range(households)
    ]
    today = date.today()
    convoy = ConvoyIn(code=code, site="RUKBAN", departs_on=today, destinations=["C4301"], seats=20)
    convoys.schedule_convoy(session, SYSTEM, convoy)
    year, week, _ = today.isocalendar()
    booking.plan_week(session, SYSTEM, PlanWeekIn(week=f"{year}-W{week:02d}", notify=False))
    return registered


def _intention(registered: Registered) -> str:
    assert registered.intention_uid is not None
    return registered.intention_uid


def test_scheduling_a_convoy_from_the_page(
    client: TestClient,  # noqa: F811 - the imported fixture
    session: Session,
) -> None:
    sign_in(client, session, "coord-schedule", "coordinator")
    listed = client.get("/convoys", headers=ARABIC)
    assert 'action="/convoys"' in listed.text and arabic_page_problems(listed.text) == []
    token = token_of(listed)
    refused = client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token, "seats": "0"}, headers=ARABIC)
    assert refused.status_code == 422 and field_errors(refused.text) == {"seats": SEATS_AR}
    assert 'value="C4301, c4311"' in refused.text and 'value="cv-new"' in refused.text  # kept as typed
    assert arabic_page_problems(refused.text) == []
    unknown = client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token, "destinations": "C4301 C9999"})
    assert unknown.status_code == 422 and list(field_errors(unknown.text)) == ["destinations"]
    done = client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/convoys/CV-NEW?done=scheduled"
    page = client.get(done.headers["location"], headers=ENGLISH)
    assert "The convoy is scheduled." in page.text and 'data-convoy-status="scheduled"' in page.text
    view = convoys.convoy_view(session, SYSTEM, "CV-NEW")
    assert (view["origin"], view["destinations"], view["seats"]) == ("RUKBAN", ["C4301", "C4311"], 40)
    again = client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token}, headers=ARABIC)
    assert again.status_code == 422 and field_errors(again.text) == {"code": CODE_TAKEN_AR}
    outside = client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token, "code": "CV-2", "site": "ATMEH"})
    assert outside.status_code == 422 and list(field_errors(outside.text)) == ["site"]
    too_long = client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token, "code": "C" * 65})
    assert too_long.status_code == 422 and list(field_errors(too_long.text)) == ["code"]  # refused, not cut
    for code in ("CV/2", "CV?2", "CV#2", "-CV2", "CV 2"):  # a code goes into paths and file names
        odd = client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token, "code": code})
        assert odd.status_code == 422 and list(field_errors(odd.text)) == ["code"], code


def test_a_registrar_may_not_schedule_or_close_boarding(
    client: TestClient,  # noqa: F811 - the imported fixture
    session: Session,
) -> None:
    convoy = ConvoyIn(code="CV-NOPE", site="RUKBAN", departs_on=date.today(), destinations=["C4301"], seats=5)
    convoys.schedule_convoy(session, SYSTEM, convoy)
    sign_in(client, session, "reg-schedule", "registrar")
    listed = client.get("/convoys", headers=ENGLISH)
    assert 'action="/convoys"' not in listed.text and 'id="schedule"' not in listed.text
    token = token_of(listed)
    assert client.post("/convoys", data=SCHEDULE_FORM | {"csrf_token": token}).status_code == 403
    assert "/depart" not in client.get("/convoys/CV-NOPE").text
    assert client.get("/convoys/CV-NOPE/depart").status_code == 403
    assert client.post("/convoys/CV-NOPE/depart", data={"csrf_token": token}).status_code == 403
    assert convoys.convoy_view(session, SYSTEM, "CV-NOPE")["status"] == "scheduled"
    assert convoys.list_convoys(session, SYSTEM)["total"] == 1  # nothing was scheduled


def test_closing_boarding_after_a_confirmation_page(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    boarding, silent = _booked(runtime, session, "CV-CLOSE", households=2)
    intentions.reconfirm_intention(session, SYSTEM, _intention(boarding))
    sign_in(client, session, "coord-close", "coordinator")
    page = client.get("/convoys/CV-CLOSE")
    head = boarding.person_uids[0]
    client.post("/convoys/CV-CLOSE/departures", data={"csrf_token": token_of(page), "persons": [head]})
    assert 'href="/convoys/CV-CLOSE/depart"' in page.text
    asked = client.get("/convoys/CV-CLOSE/depart", headers=ARABIC)
    assert asked.status_code == 200 and arabic_page_problems(asked.text) == []
    assert 'data-boarded="1"' in asked.text and 'href="/convoys/CV-CLOSE"' in asked.text
    assert convoys.convoy_view(session, SYSTEM, "CV-CLOSE")["status"] == "scheduled"  # asking changed nothing
    closed = client.post("/convoys/CV-CLOSE/depart", data={"csrf_token": token_of(asked)})
    assert closed.headers["location"] == "/convoys/CV-CLOSE?done=departed&released=1"
    shown = client.get(closed.headers["location"], headers=ARABIC)
    assert 'data-convoy-status="departed"' in shown.text and 'data-released="1"' in shown.text
    assert 'href="/convoys/CV-CLOSE/depart"' not in shown.text and 'id="departures"' not in shown.text
    assert arabic_page_problems(shown.text) == []
    waiting = waitlists.waiting_list(session, SYSTEM, "RUKBAN", "C4301", date.today())["items"]
    assert [item["household"] for item in waiting] == [silent.household_uid]  # back on the list, per the service
    twice = client.post("/convoys/CV-CLOSE/depart", data={"csrf_token": token_of(asked)})
    assert twice.headers["location"] == "/convoys/CV-CLOSE?problem=departed"
    refused = client.get(twice.headers["location"], headers=ARABIC)
    assert refused.status_code == 200 and DEPARTED_AR in refused.text
    assert client.get("/convoys/CV-CLOSE/depart").headers["location"] == "/convoys/CV-CLOSE?problem=departed"
    arrived = client.post("/convoys/CV-CLOSE/arrivals", data={"csrf_token": token_of(shown), "persons": [head]})
    assert arrived.headers["location"] == "/convoys/CV-CLOSE?done=arrivals"  # arrival check-in after departure
    after = client.get("/convoys/CV-CLOSE").text
    arrivals = after[after.index('id="arrivals"') :]
    assert re.search(rf'name="persons" value="{head}" disabled checked', arrivals)


def test_the_missed_arrival_alarm_lists_convoys_whose_people_have_not_arrived(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    (late,) = _booked(runtime, session, "CV-LATE")
    intentions.reconfirm_intention(session, SYSTEM, _intention(late))
    left = utcnow() - timedelta(hours=runtime.settings.arrival_alarm_hours + 6)
    checkin.check_in_departure(session, SYSTEM, "CV-LATE", CheckInIn(persons=late.person_uids, at=left), 7)
    booking.depart_convoy(session, SYSTEM, "CV-LATE", 7)
    (recent,) = _booked(runtime, session, "CV-RECENT")
    intentions.reconfirm_intention(session, SYSTEM, _intention(recent))
    checkin.check_in_departure(session, SYSTEM, "CV-RECENT", CheckInIn(persons=recent.person_uids), 7)
    sign_in(client, session, "mon-missing", "monitor")
    home = client.get("/home", headers=ARABIC)
    assert 'href="/convoys/missing"' in home.text
    alarm = client.get("/convoys/missing", headers=ARABIC)
    assert alarm.status_code == 200 and arabic_page_problems(alarm.text) == []
    assert re.findall(r'data-missing="([^"]+)"', alarm.text) == ["CV-LATE"]  # the recent one has time yet
    assert 'href="/convoys/CV-LATE#arrivals"' in alarm.text
    assert all(uid not in alarm.text for uid in late.person_uids) and factories.FAMILY_AR not in alarm.text
    english = client.get("/convoys/missing", headers=ENGLISH).text
    row = english[english.index('data-missing="CV-LATE"') :]
    assert re.search(r"<td>3</td>\s*<td>1</td>", row)  # three people of one household
    assert 'data-alarm="none"' in row and 'action="/convoys/missing"' not in english  # monitors do not raise it
    assert client.post("/convoys/missing", data={"csrf_token": token_of(alarm)}).status_code == 403
    sign_in(client, session, "coord-missing", "coordinator")
    shown = client.get("/convoys/missing", headers=ARABIC)
    raised = client.post("/convoys/missing", data={"csrf_token": token_of(shown)})
    assert raised.status_code == 303 and raised.headers["location"] == "/convoys/missing?done=alarm"
    again = client.get(raised.headers["location"], headers=ARABIC)
    assert arabic_page_problems(again.text) == [] and 'data-alarm="raised"' in again.text
    client.post("/convoys/missing", data={"csrf_token": token_of(again)})  # once per convoy: no second event
    alarms = select(func.count()).select_from(Event).where(Event.action == "missed_arrival_alarm")
    assert session.scalar(alarms) == 1
    page = client.get("/convoys/CV-LATE")
    client.post("/convoys/CV-LATE/arrivals", data={"csrf_token": token_of(page), "persons": late.person_uids})
    assert "data-missing=" not in client.get("/convoys/missing").text


def test_the_new_convoy_pages_in_arabic_and_english(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    _booked(runtime, session, "CV-AR")
    sign_in(client, session, "admin-convoys", "admin")
    for path in ("/convoys", "/convoys/missing", "/convoys/CV-AR", "/convoys/CV-AR/depart"):
        arabic, english = client.get(path, headers=ARABIC), client.get(path, headers=ENGLISH)
        assert arabic.status_code == english.status_code == 200, path
        assert arabic_page_problems(arabic.text) == [], path
        assert '<html lang="en" dir="ltr">' in english.text and untranslated(english.text), path
