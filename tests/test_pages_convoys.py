"""Convoys from the pages: the list, planning a week, the manifest with check-in at departure and at
arrival, and the printable manifest; on both engines, through the real app.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.convoys import services as convoys
from awda.convoys.commands import ConvoyIn
from awda.households import intentions, services
from awda.runtime import Runtime
from tests import factories
from tests.test_pages_households import (  # noqa: F401 - fixtures
    ARABIC,
    ENGLISH,
    TestClient,
    app,
    arabic_page_problems,
    client,
    sign_in,
    token_of,
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
