"""Follow-ups after return from the pages: the overdue list and recording an outcome from the household
page, by a monitor; on both engines, through the real app.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.households import services
from awda.monitoring.arrivals import record_arrival
from awda.monitoring.commands import ArrivalIn
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


def test_overdue_follow_ups_and_recording_an_outcome(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    arrival = ArrivalIn(household_uid=registered.household_uid, arrived_on=date(2025, 1, 10), place="C4301")
    record_arrival(session, SYSTEM, arrival)
    sign_in(client, session, "mon-follow", "monitor")
    overdue = client.get("/followups", headers=ARABIC)
    assert overdue.status_code == 200 and arabic_page_problems(overdue.text) == []
    rows = re.findall(rf'href="/households/{registered.household_uid}#followups"', overdue.text)
    assert len(rows) == 5  # the default schedule, every one past due by now
    path = f"/households/{registered.household_uid}"
    page = client.get(path, headers=ARABIC)
    assert arabic_page_problems(page.text) == []
    form = re.search(r'action="/followups/([0-9a-f-]+)/outcome"', page.text)
    assert form is not None
    data = {"csrf_token": token_of(page), "household": registered.household_uid, "version": "1", "outcome": "reached"}
    early = client.post(f"/followups/{form.group(1)}/outcome", data=data | {"contacted_on": "2024-12-31"})
    assert early.headers["location"] == f"{path}?problem=followup#followups"  # before the arrival
    done = client.post(f"/followups/{form.group(1)}/outcome", data=data | {"contacted_on": "2025-01-17"})
    assert done.headers["location"] == f"{path}?done=followup#followups"
    assert 'data-outcome="reached"' in client.get(path).text
    again = client.post(f"/followups/{form.group(1)}/outcome", data=data | {"contacted_on": "2025-01-17"})
    assert again.headers["location"] == f"{path}?problem=stale_followup#followups"
    assert len(re.findall(r"#followups\"", client.get("/followups", headers=ENGLISH).text)) == 4


def test_only_monitors_see_the_overdue_list(
    client: TestClient,  # noqa: F811 - the imported fixture
    session: Session,
) -> None:
    sign_in(client, session, "reg-follow", "registrar")
    assert client.get("/followups").status_code == 403
