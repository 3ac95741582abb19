"""What `make fuzz` (tests/fuzz) found, kept as regressions on both engines: hostile input gets 422 problem+json.

Huge integers overflowed SQLite and PostgreSQL (500); far dates overflowed date arithmetic (500); a NUL
character in a path, query or body reached PostgreSQL, which cannot store one (500 there, stored on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from awda.convoys.waitlist_rules import iso_week_bounds
from awda.days import check_year
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.test_api import API, TestClient, login, problem

pytestmark = pytest.mark.usefixtures("gazetteer")

HUGE = str(2**70)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.settings, runtime)) as opened:
        yield opened


@pytest.fixture
def admin(client: TestClient, session: Session) -> dict[str, str]:
    return login(client, session, "admin1", "admin")


def invalid(response: Any, field: str) -> None:
    body = problem(response, 422)
    assert field in {error["field"] for error in body["errors"]}, body


@pytest.mark.parametrize(
    "path",
    ["/households", "/convoys", "/monitoring/incidents", "/monitoring/followups/overdue", "/convoys/waitlists/A/B"],
)
def test_an_offset_too_large_for_the_database_is_refused(client: TestClient, admin: dict[str, str], path: str) -> None:
    invalid(client.get(f"{API}{path}", params={"offset": HUGE}, headers=admin), "offset")
    invalid(client.get(f"{API}{path}", params={"offset": "-1"}, headers=admin), "offset")


def test_a_look_back_longer_than_the_calendar_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    invalid(client.get(f"{API}/convoys/missing", params={"hours": "146181467"}, headers=admin), "hours")
    invalid(client.get(f"{API}/convoys/missing", params={"hours": HUGE}, headers=admin), "hours")
    assert client.get(f"{API}/convoys/missing", params={"hours": "48"}, headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/convoys/waitlists/RUKBAN/C4001", "today"),
        ("/monitoring/followups/overdue", "today"),
        ("/monitoring/followups/unreached", "today"),
        ("/stats/flows", "as_of"),
    ],
)
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_day_at_the_ends_of_the_calendar_is_refused(
    client: TestClient, admin: dict[str, str], path: str, name: str, day: str
) -> None:
    site = {"site": "RUKBAN"} if path == "/stats/flows" else {}  # httpx params replace a query in the path
    invalid(client.get(f"{API}{path}", params=site | {name: day}, headers=admin), name)
    assert client.get(f"{API}{path}", params=site | {name: "2024-02-29"}, headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/households/%00", "path"),
        ("/places/C%004001", "path"),
        ("/monitoring/incidents?type=%00", "type"),
        ("/monitoring/incidents?agreement=AG%00", "agreement"),
        ("/households?site=RUK%00BAN", "site"),
        ("/places?parent=%00", "parent"),
    ],
)
def test_a_nul_in_the_url_is_refused(client: TestClient, admin: dict[str, str], path: str, field: str) -> None:
    invalid(client.get(f"{API}{path}", headers=admin), field)


def test_a_nul_in_a_json_body_is_refused_before_it_reaches_the_database(client: TestClient, session: Session) -> None:
    login(client, session, "someone", "registrar")
    invalid(client.post(f"{API}/auth/token", json={"username": "some\x00one", "password": "x"}), "body")
    invalid(client.post(f"{API}/status", json={"reference": "A\x00", "pin": "1234"}), "body")
    # A backslash followed by "u0000" is text, not a NUL: it goes through to the usual checks.
    refused = client.post(f"{API}/auth/token", json={"username": "\\u0000", "password": "x"})
    assert problem(refused, 401)["title"] == "Unauthorized"


def test_a_nul_in_a_form_field_is_refused(client: TestClient) -> None:
    # /verify is a page: its refusal is a page too, in the visitor's language, never the input echoed back
    for refused in (
        client.post("/verify", data={"card": "AW1:\x00"}, headers={"Accept-Language": "en"}),
        client.post("/verify", files={"card": (None, "AW1:\x00")}, headers={"Accept-Language": "en"}),
    ):
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
        assert "The address was not understood" in refused.text and "AW1:" not in refused.text
    assert client.post("/verify", data={"card": "AW1:ABC"}).status_code == 200


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:00:00Z"])
def test_a_verification_time_outside_the_calendar_is_refused(client: TestClient, moment: str) -> None:
    invalid(client.post(f"{API}/cards/verify", json={"text": "AW1:ABC", "at": moment}), "at")
    within = client.post(f"{API}/cards/verify", json={"text": "AW1:ABC", "at": "2030-01-01T00:00:00+14:00"})
    assert problem(within, 409)["detail"]  # past validation: no signing key yet


def test_weeks_and_days_of_convoys_outside_the_calendar_are_refused(client: TestClient, admin: dict[str, str]) -> None:
    invalid(client.get(f"{API}/convoys", params={"week": "9999-W52"}, headers=admin), "week")
    invalid(client.post(f"{API}/convoys/plan", json={"week": "9999-W52"}, headers=admin), "week")
    convoy = {"code": "C-1", "site": "RUKBAN", "departs_on": "9999-12-31", "destinations": ["C4001"], "seats": 5}
    invalid(client.post(f"{API}/convoys", json=convoy, headers=admin), "departs_on")
    check_in = {"persons": ["01a2033f-fe81-7ebd-ae01-5f14c8699a27"], "at": "9999-12-31T23:59:59-14:00"}
    invalid(client.post(f"{API}/convoys/C-1/departures", json=check_in, headers=admin), "at")
    assert client.get(f"{API}/convoys", params={"week": "2199-W52"}, headers=admin).status_code == 200


def test_monitoring_days_outside_the_calendar_are_refused(client: TestClient, admin: dict[str, str]) -> None:
    household = "01a2033f-fe81-7ebd-ae01-5f14c8699a27"
    arrival = {"household_uid": household, "arrived_on": "9999-12-31", "place": "C4001"}
    invalid(client.post(f"{API}/monitoring/arrivals", json=arrival, headers=admin), "arrived_on")
    person = {"household_uid": household, "member_index": 1}
    incident = {"type": "arrest", "occurred_on": "0001-01-01", "persons": [person]}
    invalid(client.post(f"{API}/monitoring/incidents", json=incident, headers=admin), "occurred_on")
    outcome = {"outcome": "reached", "contacted_on": "9999-12-31"}
    url = f"{API}/monitoring/followups/{household}/outcome"
    invalid(client.post(url, json=outcome, headers=admin | {"If-Match": '"v1"'}), "contacted_on")


def test_the_calendar_rules() -> None:
    assert iso_week_bounds("2199-W52")[1].year == 2199
    for week in ("9999-W52", "1899-W52"):
        with pytest.raises(ValueError, match="between 1900-01-01 and 2199-12-31"):
            iso_week_bounds(week)
    check_year(1900)
    check_year(2199)
    with pytest.raises(ValueError):
        check_year(2200)
