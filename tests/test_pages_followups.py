"""Follow-ups after return from the pages: the overdue list and recording an outcome from the household
page, by a monitor; giving follow-ups to a monitor and escalating households not reached, by a
coordinator; on both engines, through the real app.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.households import services
from awda.monitoring import followups
from awda.monitoring.arrivals import record_arrival
from awda.monitoring.commands import ArrivalIn
from awda.runtime import Runtime
from tests import factories
from tests.conftest import make_user
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
ARRIVED = date(2025, 1, 10)


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


def _returned(runtime: Runtime, session: Session, site: str = "RUKBAN") -> str:
    """A household that arrived on 10 January 2025: five follow-ups, all due by now, none recorded."""
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household(site))
    record_arrival(
        session, SYSTEM, ArrivalIn(household_uid=registered.household_uid, arrived_on=ARRIVED, place="C4301")
    )
    return registered.household_uid


def test_a_coordinator_gives_the_follow_ups_to_a_monitor_of_the_site(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    household = _returned(runtime, session)
    make_user(session, "mon-rukban", "monitor", ("RUKBAN",))
    make_user(session, "mon-atmeh", "monitor", ("ATMEH",))
    sign_in(client, session, "coord-assign", "coordinator")
    path = f"/households/{household}"
    page = client.get(path, headers=ARABIC)
    assert arabic_page_problems(page.text) == [] and f'action="{path}/followups/monitor"' in page.text
    assert 'value="mon-rukban"' in page.text and 'value="mon-atmeh"' not in page.text  # only the site's monitors
    data = {"csrf_token": token_of(page)}
    for refused in ("mon-atmeh", "nobody", ""):
        again = client.post(f"{path}/followups/monitor", data=data | {"monitor": refused}, headers=ARABIC)
        assert again.status_code == 422 and list(field_errors(again.text)) == ["monitor"], refused
        assert arabic_page_problems(again.text) == [] and 'data-monitor=""' in again.text
    assert {item["monitor"] for item in followups.followups_of_household(session, SYSTEM, household)} == {None}
    given = client.post(f"{path}/followups/monitor", data=data | {"monitor": "mon-rukban"})
    assert given.status_code == 303 and given.headers["location"] == f"{path}?done=assigned#followups"
    shown = client.get(given.headers["location"], headers=ENGLISH).text
    assert shown.count('data-monitor="mon-rukban"') == 5 and "given to the monitor" in shown
    assert {item["monitor"] for item in followups.followups_of_household(session, SYSTEM, household)} == {"mon-rukban"}
    assigned = followups.overdue_followups(session, SYSTEM, date.today(), 7, "mon-rukban")
    assert assigned["total"] == 5


def test_a_monitor_may_not_give_follow_ups_away(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    household = _returned(runtime, session)
    sign_in(client, session, "mon-assign", "monitor")
    page = client.get(f"/households/{household}")
    assert "/followups/monitor" not in page.text and 'id="monitor"' not in page.text
    refused = client.post(
        f"/households/{household}/followups/monitor", data={"csrf_token": token_of(page), "monitor": "mon-assign"}
    )
    assert refused.status_code == 403
    assert {item["monitor"] for item in followups.followups_of_household(session, SYSTEM, household)} == {None}


def test_households_not_reached_are_escalated_after_a_confirmation_page(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    household = _returned(runtime, session)
    elsewhere = _returned(runtime, session, "ATMEH")
    sign_in(client, session, "coord-escalate", "coordinator")
    listed = client.get("/followups/unreached", headers=ARABIC)
    assert listed.status_code == 200 and arabic_page_problems(listed.text) == []
    assert f'href="/households/{household}#followups"' in listed.text and elsewhere not in listed.text
    assert 'value="45"' in listed.text  # AWDA_FOLLOWUP_ESCALATE_DAYS, as the CLI and the API use
    days_since = (date.today() - ARRIVED).days
    assert household not in client.get(f"/followups/unreached?after_days={days_since}").text
    for wrong in ("0", "3651", "many"):
        bad = client.get(f"/followups/unreached?after_days={wrong}", headers=ARABIC)
        assert bad.status_code == 422 and list(field_errors(bad.text)) == ["after_days"], wrong
    confirm = client.get("/followups/unreached/escalate?after_days=45", headers=ARABIC)
    assert confirm.status_code == 200 and arabic_page_problems(confirm.text) == []
    assert 'href="/followups/unreached?after_days=45"' in confirm.text  # "No, go back"
    data = {"csrf_token": token_of(confirm), "after_days": "45"}
    assert client.post("/followups/unreached/escalate", data=data | {"csrf_token": "forged"}).status_code == 403
    assert not any(item["escalated"] for item in followups.followups_of_household(session, SYSTEM, household))
    escalated = client.post("/followups/unreached/escalate", data=data)
    assert escalated.headers["location"] == "/followups/unreached?after_days=45&escalated=1"
    assert 'role="status"' in client.get(escalated.headers["location"]).text
    assert all(item["escalated"] for item in followups.followups_of_household(session, SYSTEM, household))
    assert not any(item["escalated"] for item in followups.followups_of_household(session, SYSTEM, elsewhere))
    assert client.get(f"/households/{household}").text.count('data-escalated="yes"') == 5
    again = client.post("/followups/unreached/escalate", data=data)
    assert again.headers["location"].endswith("&escalated=0")  # once per follow-up due


def test_monitors_read_the_unreached_list_and_only_coordinators_escalate(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    household = _returned(runtime, session)
    sign_in(client, session, "mon-unreached", "monitor")
    listed = client.get("/followups/unreached")
    assert household in listed.text and "/followups/unreached/escalate" not in listed.text
    assert client.get("/followups/unreached/escalate").status_code == 403
    data = {"csrf_token": token_of(listed), "after_days": "45"}
    assert client.post("/followups/unreached/escalate", data=data).status_code == 403
    assert not any(item["escalated"] for item in followups.followups_of_household(session, SYSTEM, household))
    sign_in(client, session, "reg-unreached", "registrar")
    assert client.get("/followups/unreached").status_code == 403


def test_the_unreached_list_is_paged_fifty_at_a_time(client: TestClient, runtime: Runtime, session: Session) -> None:  # noqa: F811
    households = {_returned(runtime, session) for _ in range(51)}
    sign_in(client, session, "mon-unreached-pages", "monitor")
    first = client.get("/followups/unreached", headers=ENGLISH).text
    shown = set(re.findall(r'href="/households/([0-9a-f-]{36})#followups"', first))
    assert len(shown) == 50 and "1 to 50 of 51" in first
    following = re.search(r'href="(/followups/unreached\?after_days=45&amp;offset=50)"', first)
    assert following is not None
    last = client.get(following.group(1).replace("&amp;", "&"), headers=ENGLISH).text
    rest = set(re.findall(r'href="/households/([0-9a-f-]{36})#followups"', last))
    assert shown | rest == households and len(rest) == 1
