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
from awda.monitoring.commands import ArrivalIn
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
