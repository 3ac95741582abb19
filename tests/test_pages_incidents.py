"""Protection incidents from the pages: recorded from the household page by a monitor, with problems
next to the fields; the incident's page and its verification level; the list of the user's sites with
its filters and pages; on both engines.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.households import services
from awda.monitoring import incidents
from awda.monitoring.commands import IncidentIn
from awda.runtime import Runtime
from tests import factories
from tests.test_api import API, login
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


def test_record_an_incident_and_raise_its_verification(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    sign_in(client, session, "mon-incident", "monitor")
    path = f"/households/{registered.household_uid}"
    page = client.get(path, headers=ARABIC)
    assert arabic_page_problems(page.text) == [] and 'action="' + path + '/incidents"' in page.text
    data = {"csrf_token": token_of(page), "type": "arrest", "occurred_on": "2300-01-01", "place": "C4001"}
    nobody = client.post(f"{path}/incidents", data=data, headers=ARABIC)
    assert nobody.status_code == 422 and list(field_errors(nobody.text)) == ["persons"]
    assert 'value="C4001"' in nobody.text and '<details class="panel" id="record-incident" open>' in nobody.text
    future = client.post(f"{path}/incidents", data=data | {"members": ["1", "2"]}, headers=ENGLISH)
    assert list(field_errors(future.text)) == ["occurred_on"]
    assert 'value="1" checked' in future.text and 'value="2" checked' in future.text
    recorded = client.post(f"{path}/incidents", data=data | {"members": ["1"], "occurred_on": "2025-03-04"})
    assert recorded.status_code == 303 and recorded.headers["location"].endswith("?done=recorded")
    incident_path = recorded.headers["location"].split("?")[0]
    shown = client.get(recorded.headers["location"], headers=ARABIC)
    assert arabic_page_problems(shown.text) == [] and "اعتقال" in shown.text
    assert 'data-verification="reported"' in shown.text and factories.HEAD_NAME_AR not in shown.text
    version = re.search(r'name="version" value="(\d+)"', shown.text)
    assert version is not None
    raise_to = {"csrf_token": token_of(shown), "verification": "credible", "version": version.group(1)}
    raised = client.post(f"{incident_path}/verification", data=raise_to)
    assert raised.headers["location"].endswith("?done=verified")
    assert 'data-verification="credible"' in client.get(incident_path).text
    stale = client.post(f"{incident_path}/verification", data=raise_to | {"verification": "verified"})
    assert stale.headers["location"].endswith("?problem=stale")
    assert 'data-verification="credible"' in client.get(incident_path).text


def test_only_monitors_record_incidents(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    sign_in(client, session, "reg-incident", "registrar")
    page = client.get(f"/households/{registered.household_uid}")
    assert f'action="/households/{registered.household_uid}/incidents"' not in page.text
    data = {"csrf_token": token_of(page), "type": "arrest", "occurred_on": "2025-03-04", "members": ["1"]}
    assert client.post(f"/households/{registered.household_uid}/incidents", data=data).status_code == 403
    assert client.get("/incidents/no-such-incident").status_code == 404


def _incident(runtime: Runtime, session: Session, household: str, on: date, **overrides: Any) -> str:
    persons = [{"household_uid": household, "member_index": 1}]
    command = IncidentIn.model_validate({"type": "arrest", "occurred_on": on, "persons": persons} | overrides)
    return incidents.record_incident(session, runtime.vault, SYSTEM, command)


def test_the_incident_list_filtered_and_paged_within_the_users_sites(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    here = services.register_household(session, runtime.vault, SYSTEM, factories.household()).household_uid
    there = services.register_household(session, runtime.vault, SYSTEM, factories.household("ATMEH")).household_uid
    for day in range(51):
        _incident(runtime, session, here, date(2024, 1, 1) + timedelta(days=day))
    newest = _incident(runtime, session, here, date(2024, 6, 1), type="detention", verification="verified")
    reporter = {"name": "Reporter Alias"}
    detained = _incident(runtime, session, here, date(2024, 5, 1), type="detention", place="C4001", reporter=reporter)
    foreign = _incident(runtime, session, there, date(2024, 7, 1), perpetrator_category="armed_group")
    sign_in(client, session, "mon-list", "monitor")
    first = client.get("/incidents", headers=ARABIC)
    assert first.status_code == 200 and arabic_page_problems(first.text) == []
    rows = re.findall(r'<tr data-incident="([0-9a-f-]+)">', first.text)
    assert len(rows) == 50 and rows[0] == newest and rows[1] == detained  # newest first
    assert foreign not in first.text and there not in first.text  # another site's incident is absent
    assert "Reporter Alias" not in first.text and f'href="/households/{here}"' in first.text
    assert 'href="/incidents?offset=50"' in first.text
    second = client.get("/incidents?offset=50", headers=ENGLISH)
    assert len(re.findall(r"<tr data-incident=", second.text)) == 3 and foreign not in second.text
    detentions = client.get("/incidents?type=detention&verification=reported", headers=ENGLISH)
    assert re.findall(r'<tr data-incident="([0-9a-f-]+)">', detentions.text) == [detained]
    assert f'href="/incidents/{detained}"' in detentions.text and "C4001" in detentions.text
    reported = client.get("/incidents?verification=reported&since=2024-01-02&until=2024-12-31", headers=ENGLISH)
    assert "1 to 50 of 51" in reported.text
    assert 'href="/incidents?verification=reported&amp;since=2024-01-02&amp;until=2024-12-31&amp;offset=50"' in (
        reported.text
    )
    assert client.get("/incidents?site=ATMEH").text.count("<tr data-incident=") == 0  # a filter, not a way out
    wrong = client.get("/incidents?since=2024-02-30", headers=ARABIC)
    assert wrong.status_code == 422 and list(field_errors(wrong.text)) == ["since"]
    assert arabic_page_problems(wrong.text) == []
    assert client.get(f"/incidents/{foreign}").status_code == 404
    api = login(client, session, "mon-list-api", "monitor")  # the API narrows the same way
    dates = {"since": "2024-05-01", "until": "2024-06-30"}
    narrowed = client.get(f"{API}/monitoring/incidents", params=dates, headers=api).json()
    assert [item["incident_id"] for item in narrowed["items"]] == [newest, detained]
    assert narrowed["items"][1]["households"] == [here] and narrowed["items"][1]["site"] == "RUKBAN"


def test_the_incident_list_is_in_the_navigation_of_roles_that_read_records(
    client: TestClient,  # noqa: F811 - the imported fixture
    session: Session,
) -> None:
    sign_in(client, session, "an-incidents", "analyst", ())
    assert 'href="/incidents"' not in client.get("/home").text
    assert client.get("/incidents").status_code == 403
    sign_in(client, session, "reg-incidents", "registrar")
    assert 'href="/incidents"' in client.get("/home").text and client.get("/incidents").status_code == 200
