"""Recording an arrival from the household page (a household that returned on its own): the form's
defaults, the follow-ups it schedules, each refused input next to its field in Arabic with nothing
written, the roles that may not record and the households outside the user's sites; on both engines.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.agreements.rules import AgreementRecord
from awda.agreements.services import create_agreement
from awda.households import services
from awda.monitoring import followups
from awda.monitoring.arrivals import arrivals_of_household, record_arrival
from awda.monitoring.commands import ArrivalIn
from awda.monitoring.rules import parse_schedule
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
)

pytestmark = pytest.mark.usefixtures("gazetteer")
AGREEMENT = "AG-ARRIVE"
AGREEMENT_AR = "اتفاق العودة التجريبي"
OPEN_FORM = '<details class="panel" id="record-arrival" open>'


def _agreement(session: Session) -> None:
    record = AgreementRecord(
        code=AGREEMENT,
        name_en="Test return agreement",
        name_ar=AGREEMENT_AR,
        area_pcode=None,
        guarantor="Guarantor A",
        parties="",
        signed_on=date(2018, 5, 2),
        terms=(),
        followup_days=parse_schedule("14,60"),
    )
    create_agreement(session, SYSTEM, record)


def _household(runtime: Runtime, session: Session, site: str = "RUKBAN") -> str:
    return services.register_household(session, runtime.vault, SYSTEM, factories.household(site)).household_uid


def _nothing_written(session: Session, household: str) -> bool:
    return arrivals_of_household(session, SYSTEM, household) == [] and (
        followups.followups_of_household(session, SYSTEM, household) == []
    )


def _form(page_text: str, token: str, **overrides: Any) -> dict[str, Any]:
    """The form as the page filled it (all members checked, the intention's destination), with changes."""
    place = re.search(r'id="arrival_place" name="arrival_place" type="text" value="([^"]*)"', page_text)
    members = re.findall(r'name="arrival_members" value="(\d+)" checked', page_text)
    assert place is not None
    values = {"csrf_token": token, "arrival_on": "2025-01-10", "arrival_place": place.group(1)}
    return values | {"arrival_members": members, "arrival_intention": "return", "arrival_agreement": ""} | overrides


def test_a_monitor_records_an_arrival_and_the_follow_ups_appear(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    _agreement(session)
    household = _household(runtime, session)
    sign_in(client, session, "mon-arrive", "monitor")
    path = f"/households/{household}"
    page = client.get(path, headers=ARABIC)
    assert page.status_code == 200 and arabic_page_problems(page.text) == []
    assert f'action="{path}/arrivals"' in page.text and '<details class="panel" id="record-arrival">' in page.text
    assert 'id="followups"' not in page.text  # no arrival yet, no follow-up
    data = _form(page.text, token_of(page))
    assert data["arrival_place"] == "C4301" and data["arrival_members"] == ["1", "2", "3"]  # the defaults
    assert f'<bdi lang="ar">{factories.HEAD_NAME_AR} {factories.FAMILY_AR}</bdi>' in page.text
    assert f'<option value="{AGREEMENT}">{AGREEMENT_AR}</option>' in page.text  # offered, not chosen
    done = client.post(f"{path}/arrivals", data=data | {"arrival_agreement": AGREEMENT}, headers=ARABIC)
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=arrived&scheduled=2#followups"
    shown = client.get(done.headers["location"], headers=ENGLISH).text
    assert "The arrival is recorded. Follow-ups scheduled: 2." in shown
    assert len(re.findall(r'action="/followups/[0-9a-f-]+/outcome"', shown)) == 2  # the section lists them
    scheduled = followups.followups_of_household(session, SYSTEM, household)
    assert [(item["days_after_arrival"], item["due_on"]) for item in scheduled] == [
        (14, "2025-01-24"),
        (60, "2025-03-11"),
    ]
    recorded = arrivals_of_household(session, SYSTEM, household)
    assert [(item["arrived_on"], item["agreement"]) for item in recorded] == [("2025-01-10", AGREEMENT)] * 3
    arabic = client.get(done.headers["location"], headers=ARABIC)
    assert arabic_page_problems(arabic.text) == [] and 'notice-good" role="status"><p>' in arabic.text


def test_each_refused_arrival_comes_back_next_to_its_field_in_arabic(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    household = _household(runtime, session)
    sign_in(client, session, "mon-refused", "monitor")
    path = f"/households/{household}"
    page = client.get(path, headers=ARABIC)
    data = _form(page.text, token_of(page))
    refused: dict[str, list[dict[str, Any]]] = {
        "arrival_members": [{"arrival_members": []}, {"arrival_members": ["7"]}],
        "arrival_place": [{"arrival_place": "C9999"}, {"arrival_place": ""}],
        "arrival_on": [
            {"arrival_on": "2025-02-30"},
            {"arrival_on": "2300-01-01"},
            {"arrival_on": ""},
            {"arrival_on": (date.today() + timedelta(days=10)).isoformat()},  # not yet
        ],
        "arrival_agreement": [{"arrival_agreement": "NO-SUCH-AGREEMENT"}],
        "arrival_intention": [{"arrival_intention": "fly"}],
    }
    for field, changes in refused.items():
        for change in changes:
            again = client.post(f"{path}/arrivals", data=data | change, headers=ARABIC)
            assert again.status_code == 422 and list(field_errors(again.text)) == [field], change
            assert arabic_page_problems(again.text) == [] and OPEN_FORM in again.text, change
            assert re.search("[\u0600-\u06ff]", field_errors(again.text)[field]), change  # in Arabic
    kept = client.post(f"{path}/arrivals", data=data | {"arrival_place": "C9999", "arrival_members": ["2"]})
    assert 'value="C9999"' in kept.text and 'value="2" checked' in kept.text and 'value="1" checked' not in kept.text
    assert _nothing_written(session, household)
    record_arrival(session, SYSTEM, ArrivalIn(household_uid=household, arrived_on=date(2025, 1, 10), place="C4301"))
    twice = client.post(f"{path}/arrivals", data=data, headers=ARABIC)
    assert twice.status_code == 422 and list(field_errors(twice.text)) == ["arrival_on"]
    assert arabic_page_problems(twice.text) == []
    assert len(arrivals_of_household(session, SYSTEM, household)) == 3  # the earlier arrival, nothing more


def test_a_role_without_the_permission_gets_no_form_and_a_403(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    household = _household(runtime, session)
    sign_in(client, session, "reg-arrive", "registrar")
    path = f"/households/{household}"
    page = client.get(path, headers=ARABIC)
    assert page.status_code == 200 and f"{path}/arrivals" not in page.text and "record-arrival" not in page.text
    data = {"csrf_token": token_of(page), "arrival_on": "2025-01-10", "arrival_place": "C4301"}
    assert client.post(f"{path}/arrivals", data=data | {"arrival_members": ["1"]}).status_code == 403
    assert client.post(f"{path}/arrivals", data=data).status_code == 403  # a refused form too: nothing shown
    assert _nothing_written(session, household)


def test_a_household_outside_the_users_sites_is_absent(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    household = _household(runtime, session, "ATMEH")
    sign_in(client, session, "mon-elsewhere", "monitor")
    path = f"/households/{household}"
    assert client.get(path).status_code == 404
    token = token_of(client.get("/home"))
    data = {"csrf_token": token, "arrival_on": "2025-01-10", "arrival_place": "C4301", "arrival_members": ["1"]}
    assert client.post(f"{path}/arrivals", data=data).status_code == 404
    assert client.post(f"{path}/arrivals", data=data | {"arrival_members": []}).status_code == 404
    assert client.post("/households/no-such-household/arrivals", data=data).status_code == 404
    assert _nothing_written(session, household)
