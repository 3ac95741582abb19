"""The scorecards in a browser's terms: the list of agreements and guarantors and one cohort's record,
disclosure-controlled with the installation's k; on both engines, through the real app.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from awda.access.services import SYSTEM
from awda.households import services
from awda.monitoring.arrivals import record_arrival
from awda.monitoring.commands import ArrivalIn, FollowUpOutcomeIn, IncidentIn, PersonRef
from awda.monitoring.followups import followups_of_household, record_outcome
from awda.monitoring.incidents import record_incident
from awda.runtime import Runtime
from awda.web.app import create_app
from tests import factories
from tests.cards_support import AGREEMENT, AGREEMENT_AR, agreement
from tests.test_pages_households import ARABIC, ENGLISH, arabic_page_problems, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("gazetteer")
K = 2


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """The app with a small disclosure threshold, so that a few arrivals make a published cohort."""
    small_k = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update={"disclosure_k": K}))
    with TestClient(create_app(small_k.settings, small_k), follow_redirects=False) as opened:
        yield opened


def test_scorecards_show_published_cohorts_and_hide_small_ones(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    agreement(session)
    for _ in range(3):
        registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
        arrival = ArrivalIn(
            household_uid=registered.household_uid, arrived_on=date(2025, 1, 10), place="C4301", agreement=AGREEMENT
        )
        record_arrival(session, SYSTEM, arrival)
    sign_in(client, session, "analyst-cards", "analyst", ())
    listed = client.get("/scorecards", headers=ARABIC)
    assert listed.status_code == 200 and arabic_page_problems(listed.text) == []
    link = re.search(rf'<a href="(/scorecards/[^"]+)"><bdi>{AGREEMENT_AR}</bdi></a>', listed.text)
    assert link is not None
    shown = client.get(link.group(1), headers=ARABIC)
    assert shown.status_code == 200 and arabic_page_problems(shown.text) == []
    english = client.get(link.group(1), headers=ENGLISH).text
    people = re.search(r"<dt>People</dt><dd>(\d+)</dd>", english)
    assert people is not None and int(people.group(1)) == 9  # three households of three
    assert '<tr><th scope="row">Arrest</th><td>0</td></tr>' in english  # incidents by type, none recorded
    assert "<dt>Due</dt><dd>15</dd>" in english  # five follow-ups for each household, all due by now
    assert client.get("/scorecards/no-such-cohort").status_code == 404


def test_a_cohort_smaller_than_k_shows_only_that_it_exists(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    sign_in(client, session, "analyst-small", "analyst", ())
    agreement(session)
    empty = client.get("/scorecards", headers=ENGLISH)
    assert empty.status_code == 200 and "nobody has been recorded as arrived" in empty.text
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    one = ArrivalIn(
        household_uid=registered.household_uid,
        member_indexes=[1],
        arrived_on=date(2025, 1, 10),
        place="C4301",
        agreement=AGREEMENT,
    )
    record_arrival(session, SYSTEM, one)
    listed = client.get("/scorecards", headers=ENGLISH).text
    assert "Fewer than 2 people: not shown" in listed
    link = re.search(r'<a href="(/scorecards/[^"]+)">', listed)
    assert link is not None
    shown = client.get(link.group(1), headers=ENGLISH).text
    assert "nothing more is shown" in shown and "<dt>People</dt>" not in shown


def returned_and_followed(runtime: Runtime, session: Session, count: int = 4) -> None:
    """`count` households of three returned on 10 January 2025 under the agreement, each reached at every
    follow-up for a year; the heads of the first two arrested on days 22 and 50."""
    agreement(session)
    arrived = date(2025, 1, 10)
    households = []
    for _ in range(count):
        registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
        arrival = ArrivalIn(
            household_uid=registered.household_uid, arrived_on=arrived, place="C4301", agreement=AGREEMENT
        )
        record_arrival(session, SYSTEM, arrival)
        households.append(registered.household_uid)
        for followup in followups_of_household(session, SYSTEM, registered.household_uid):
            reached = FollowUpOutcomeIn(outcome="reached", contacted_on=date.fromisoformat(followup["due_on"]))
            record_outcome(session, SYSTEM, followup["followup_id"], reached)
    for uid, day in ((households[0], date(2025, 2, 1)), (households[1], date(2025, 3, 1))):
        arrest = IncidentIn(type="arrest", occurred_on=day, persons=[PersonRef(household_uid=uid, member_index=1)])
        record_incident(session, runtime.vault, SYSTEM, arrest)


def test_the_plots_are_drawn_beside_the_tables(client: TestClient, runtime: Runtime, session: Session) -> None:
    returned_and_followed(runtime, session)
    sign_in(client, session, "analyst-plots", "analyst", ())
    link = re.search(r'<a href="(/scorecards/[^"]+)">', client.get("/scorecards", headers=ENGLISH).text)
    assert link is not None
    page = client.get(link.group(1), headers=ENGLISH).text
    images = re.findall(r'<img src="([^"]+)" width="640" height="340" alt="([^"]+)">', page)
    assert [src for src, _alt in images] == [f"{link.group(1)}/survival.svg", f"{link.group(1)}/incidence.svg"]
    assert all(len(alt) > 40 for _src, alt in images)  # the picture in words, for screen readers
    assert '<span class="swatch swatch-0"></span>Arrest or detention' in page
    # twelve people followed for a year, one arrested on day 22 and one on day 50
    assert '<th scope="row">Arrest or detention</th><td>30</td><td>8.3%</td>' in page
    assert '<th scope="row">Arrest or detention</th><td>90</td><td>16.7%</td>' in page
    arabic = client.get(link.group(1), headers=ARABIC)
    assert arabic_page_problems(arabic.text) == [] and "اعتقال أو احتجاز" in arabic.text
    for src, _alt in images:
        drawn = client.get(src)
        assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/svg+xml"
        assert drawn.text.startswith("<?xml") and drawn.text.count("<path") > 10
        assert drawn.content == client.get(src).content  # reproducible: the same bytes twice
    assert client.get(f"{link.group(1)}/hazard.svg").status_code == 404
    assert client.get("/scorecards/no-such-cohort/survival.svg").status_code == 404
