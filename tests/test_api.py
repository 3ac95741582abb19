"""The JSON API end to end on both engines: tokens, problem+json, ETag/If-Match, scopes, erasure."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, routing
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from awda.runtime import Runtime
from awda.web.app import create_app
from tests.conftest import PASSWORD, make_user
from tests.factories import (
    FAMILY_AR,
    FAMILY_LAT,
    HEAD_DOCUMENT,
    HEAD_NAME_AR,
    HEAD_NAME_LAT,
    HEAD_PHONE,
    household,
    person,
)

with warnings.catch_warnings():
    # The pinned dev dependency is httpx; Starlette now prefers httpx2 and warns (an error here) at import.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("gazetteer")

API = "/api/v1"
PROBLEM = "application/problem+json"
# Every personal value of the factory household; none may appear in a response that refuses access.
PERSONAL = [HEAD_NAME_AR, HEAD_NAME_LAT, FAMILY_AR, FAMILY_LAT, HEAD_PHONE.lstrip("+"), HEAD_DOCUMENT]
PERSONAL += ["خديجة", "Khadija", "مريم", "Maryam", "2012-04-09"]
OPEN_PREFIXES = (f"{API}/places", f"{API}/sites", f"{API}/stats", f"{API}/agreements")
# Card verification needs no account: anyone must be able to check a card (tests/test_cards_shells.py).
PUBLIC_ROUTES = {("POST", f"{API}/cards/verify"), ("GET", f"{API}/cards/trust-list.json")}
PUBLIC_ROUTES |= {("GET", f"{API}/cards/status-list.cwt")}
# A household looks up its own status with its reference and PIN, no account (tests/test_convoys_shells.py).
PUBLIC_ROUTES |= {("POST", f"{API}/status"), ("POST", f"{API}/status/reconfirm")}
SCOPED_LISTS = {
    f"{API}/monitoring/incidents",
    f"{API}/monitoring/followups/overdue",
    f"{API}/monitoring/followups/unreached",
    f"{API}/convoys",
    f"{API}/convoys/waitlists",
    f"{API}/convoys/missing",
    f"{API}/linkage/queue",
    f"{API}/linkage/households",
}
Headers = dict[str, str]


@dataclass(frozen=True)
class Registered:
    headers: Headers  # the registrar (scoped to RUKBAN) who registered the household
    uid: str
    head: str
    intention: str


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime.settings, runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


@pytest.fixture
def registered(client: TestClient, session: Session) -> Registered:
    headers = login(client, session, "registrar1", "registrar")
    created = client.post(f"{API}/households", json=household_json(), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    return Registered(headers, body["uid"], body["persons"][0], body["intention"])


def login(
    client: TestClient, session: Session, username: str, role: str, sites: tuple[str, ...] = ("RUKBAN",)
) -> Headers:
    make_user(session, username, role, sites)
    response = client.post(f"{API}/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    assert response.json()["role"] == role
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def household_json(**overrides: Any) -> dict[str, Any]:
    return household(**overrides).model_dump(mode="json")


def person_json(index: int = 4, relationship: str = "son", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"given_name_ar": "يوسف", "given_name_lat": "Yusuf", "birth_year": 2015, "phone": None}
    values |= {"document_type": None, "document_number": None}
    return person(index, relationship, **(values | overrides)).model_dump(mode="json")


def if_match(headers: Headers, tag: str) -> Headers:
    return headers | {"If-Match": tag}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert all(isinstance(body[key], str) and body[key] for key in ("type", "title", "detail"))
    return body


def leaked(response: httpx.Response) -> list[str]:
    text = response.text
    if response.headers.get("content-type", "").endswith("json") and text:
        text += json.dumps(response.json(), ensure_ascii=False)
    return [value for value in PERSONAL if value in text]


def get(client: TestClient, path: str, headers: Headers) -> httpx.Response:
    response: httpx.Response = client.get(f"{API}{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response


# 1. Authentication


def test_missing_bad_and_revoked_tokens_and_wrong_passwords_get_401(client: TestClient, session: Session) -> None:
    headers = login(client, session, "reg", "registrar")
    assert client.get(f"{API}/households", headers=headers).status_code == 200
    refused = [
        client.get(f"{API}/households"),
        client.get(f"{API}/households", headers={"Authorization": "Bearer awda_not-a-token"}),
        client.get(f"{API}/households", headers={"Authorization": "Basic cmVnOnB3"}),
    ]
    assert client.delete(f"{API}/auth/token", headers=headers).status_code == 204
    refused.append(client.get(f"{API}/households", headers=headers))
    refused.append(client.delete(f"{API}/auth/token", headers=headers))
    wrong = client.post(f"{API}/auth/token", json={"username": "reg", "password": PASSWORD + "!"})
    unknown = client.post(f"{API}/auth/token", json={"username": "nobody", "password": PASSWORD})
    for response in [*refused, wrong, unknown]:
        problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    # One vague answer: a wrong password and an unknown user cannot be told apart.
    assert wrong.json() == unknown.json()


# 2. Registration and reading


def test_register_returns_location_and_etag_and_registrar_reads_names(client: TestClient, session: Session) -> None:
    headers = login(client, session, "reg", "registrar")
    created = client.post(f"{API}/households", json=household_json(), headers=headers)
    assert created.status_code == 201, created.text
    uid = created.json()["uid"]
    assert created.headers["location"] == f"{API}/households/{uid}"
    assert created.headers["etag"] == '"v1"'
    read = client.get(created.headers["location"], headers=headers)
    assert read.status_code == 200 and read.headers["etag"] == '"v1"'
    view = read.json()
    head = view["members"][0]
    assert (head["given_name_ar"], head["given_name_lat"], head["phone"]) == (HEAD_NAME_AR, HEAD_NAME_LAT, HEAD_PHONE)
    assert head["document_number"] == HEAD_DOCUMENT
    assert [m["given_name_lat"] for m in view["members"]] == [HEAD_NAME_LAT, "Khadija", "Maryam"]
    assert (view["site"], view["erased"], view["intentions"][0]["status"]) == ("RUKBAN", False, "registered")
    listed = get(client, "/households", headers).json()
    assert [item["uid"] for item in listed["items"]] == [uid] and listed["items"][0]["members"] == 3
    assert leaked(get(client, "/households", headers)) == []
    person_read = get(client, f"/persons/{created.json()['persons'][0]}", headers)
    assert person_read.headers["etag"] == '"v1"' and person_read.json()["family_name_ar"] == FAMILY_AR


# 3. Optimistic concurrency


def test_adding_a_member_needs_the_current_household_etag(client: TestClient, registered: Registered) -> None:
    url, headers = f"{API}/households/{registered.uid}/members", registered.headers
    problem(client.post(url, json=person_json(), headers=headers), 428)
    problem(client.post(url, json=person_json(), headers=if_match(headers, '"v7"')), 412)
    problem(client.post(url, json=person_json(), headers=if_match(headers, "v1")), 412)
    unchanged = get(client, f"/households/{registered.uid}", headers)
    assert unchanged.headers["etag"] == '"v1"' and len(unchanged.json()["members"]) == 3
    added = client.post(url, json=person_json(), headers=if_match(headers, '"v1"'))
    assert added.status_code == 201, added.text
    assert added.headers["location"] == f"{API}/persons/{added.json()['uid']}"
    after = get(client, f"/households/{registered.uid}", headers)
    assert after.headers["etag"] not in {'"v1"', None}
    assert [m["given_name_lat"] for m in after.json()["members"]][-1] == "Yusuf"
    problem(client.post(url, json=person_json(5, "daughter"), headers=if_match(headers, '"v1"')), 412)


def test_person_correction_is_guarded_by_the_person_etag(client: TestClient, registered: Registered) -> None:
    url, headers = f"{API}/persons/{registered.head}", registered.headers
    assert get(client, f"/persons/{registered.head}", headers).headers["etag"] == '"v1"'
    corrected = person(given_name_lat="Abd al-Sattar").model_dump(mode="json")
    problem(client.put(url, json=corrected, headers=headers), 428)
    first = client.put(url, json=corrected, headers=if_match(headers, '"v1"'))
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"v2"' and first.json()["version"] == 2
    again = person(given_name_lat="Abdulsattar").model_dump(mode="json")
    problem(client.put(url, json=again, headers=if_match(headers, '"v1"')), 412)
    read = get(client, f"/persons/{registered.head}", headers)
    assert read.headers["etag"] == '"v2"' and read.json()["given_name_lat"] == "Abd al-Sattar"


def test_intention_transitions_follow_the_machine_and_the_etag(
    client: TestClient, session: Session, registered: Registered
) -> None:
    coordinator = login(client, session, "coord", "coordinator")
    url = f"{API}/intentions/{registered.intention}"

    def move(to: str, tag: str | None, **extra: str) -> httpx.Response:
        headers = if_match(coordinator, tag) if tag else coordinator
        response: httpx.Response = client.post(f"{url}/transitions", json={"to": to, **extra}, headers=headers)
        return response

    assert get(client, f"/intentions/{registered.intention}", coordinator).headers["etag"] == '"v1"'
    problem(move("waitlisted", None), 428)
    assert "cannot become arrived" in problem(move("arrived", '"v1"'), 409)["detail"]
    assert problem(move("waitlisted", '"v1"', reason="Ahmad asked"), 422)["errors"][0]["field"] == "reason"
    waitlisted = move("waitlisted", '"v1"')
    assert waitlisted.status_code == 200 and waitlisted.json()["status"] == "waitlisted"
    assert waitlisted.headers["etag"] == '"v2"'
    problem(move("assigned", '"v1"'), 412)
    assert move("assigned", '"v2"').headers["etag"] == '"v3"'
    assert "re-confirmation" in problem(move("departed", '"v3"'), 409)["detail"]
    reconfirmed = client.post(f"{url}/reconfirm", headers=if_match(coordinator, '"v3"'))
    assert reconfirmed.status_code == 200 and reconfirmed.headers["etag"] == '"v4"'
    departed = move("departed", '"v4"')
    assert departed.status_code == 200, departed.text
    view = get(client, f"/intentions/{registered.intention}", coordinator).json()
    assert view["status"] == "departed" and view["reconfirmed_at"] is not None
    assert [step["to"] for step in view["history"]][-3:] == ["waitlisted", "assigned", "departed"]
    assert view["history"][-1]["by"] == "coord"


# 4. Validation


def _set_member(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda body: body["members"][0].update({field: value})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_set_member("sex", "x"), "members.0.sex"),
        (lambda body: body.pop("members"), "members"),
        (_set_member("birth_year", 2090), "birth_year"),
        (_set_member("given_name_ar", "Zubayr"), "given_name_ar"),
    ],
    ids=["sex", "no-members", "birth-year", "latin-in-arabic"],
)
def test_invalid_households_get_422_naming_the_field_without_echoing_it(
    client: TestClient, session: Session, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    headers = login(client, session, "reg", "registrar")
    body = household_json()
    change(body)
    refused = client.post(f"{API}/households", json=body, headers=headers)
    assert problem(refused, 422)["errors"][0]["field"] == field
    assert leaked(refused) == [] and "Zubayr" not in refused.text
    assert get(client, "/households", headers).json()["total"] == 0


def test_birth_date_mismatch_is_not_echoed(client: TestClient, session: Session) -> None:
    headers = login(client, session, "reg", "registrar")
    body = household_json()
    body["members"][0].update(birth_date="1979-05-17", birth_year=1980)
    refused = client.post(f"{API}/households", json=body, headers=headers)
    assert problem(refused, 422)["errors"][0]["field"] == "birth_year"
    assert "1979-05-17" not in refused.text


# 5. Access matrix


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the API except the token endpoints (docs and schema are not APIRoutes)."""
    # FastAPI >= 0.16x keeps included routers nested in app.routes; iter_route_contexts flattens them.
    flatten: Any = getattr(routing, "iter_route_contexts", list)
    found = [
        (method, str(route.path))
        for route in flatten(app.routes)
        if isinstance(getattr(route, "original_route", route), APIRoute)
        and str(route.path).startswith(API)
        and not str(route.path).startswith(f"{API}/auth")
        for method in sorted(route.methods)
    ]
    return sorted(route for route in found if route not in PUBLIC_ROUTES)


NO_UID = "00000000-0000-7000-8000-000000000000"
BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "/households": household_json,
    "/members": person_json,
    "/consent": lambda: {"purposes": ["registration", "movement"], "given_on": "2024-03-01"},
    "/intentions": lambda: {"kind": "relocate", "origin_pcode": "C4402", "destination_pcode": "C6101"},
    "/persons/{uid}": lambda: person().model_dump(mode="json"),
    "/transitions": lambda: {"to": "waitlisted"},
    "/cards": lambda: {"person": "00000000-0000-7000-8000-000000000000", "agreement": "AG-2018-NHOMS"},
    "/revoke": lambda: {"reason": "lost"},
    "/decision": lambda: {"decision": "reject"},
    "/households/merge": lambda: {"household_a": NO_UID, "household_b": NO_UID},
    "/monitoring/arrivals": lambda: {"household_uid": NO_UID, "arrived_on": "2024-05-01", "place": "C4301"},
    "/outcome": lambda: {"outcome": "reached", "contacted_on": "2024-05-08"},
    "/followups/monitor": lambda: {"monitor": "monitor"},
    "/monitoring/incidents": lambda: {
        "type": "arrest",
        "occurred_on": "2024-05-09",
        "persons": [{"household_uid": NO_UID, "member_index": 1}],
    },
    "/verification": lambda: {"verification": "credible"},
    "/convoys": lambda: {
        "code": "CV-T",
        "site": "RUKBAN",
        "departs_on": "2024-05-01",
        "destinations": ["C4301"],
        "seats": 9,
    },
    "/convoys/plan": lambda: {"week": "2024-W18"},
    "/departures": lambda: {"persons": [NO_UID]},
    "/arrivals": lambda: {"persons": [NO_UID]},
}


def call(client: TestClient, method: str, path: str, ids: Registered, headers: Headers) -> httpx.Response:
    """The route called as a well-formed request (valid body, current If-Match) for the factory household."""
    uid = ids.head if "/persons/" in path else ids.intention if "/intentions/" in path else ids.uid
    url = path.replace("{uid}", uid).replace("{pcode}", "C4402")
    if path.endswith("/stats/flows"):
        url += "?site=RUKBAN"
    body = next((make() for suffix, make in BODIES.items() if path.endswith(suffix)), None)
    if method in {"POST", "PUT", "DELETE"}:
        headers = if_match(headers, '"v1"')  # every record of a fresh household is at version 1
    response: httpx.Response = client.request(
        method, url, json=body if method in {"POST", "PUT"} else None, headers=headers
    )
    return response


def test_every_route_refuses_anonymous_callers(app: FastAPI, client: TestClient, registered: Registered) -> None:
    paths = {path.removeprefix(API) for _method, path in api_routes(app)}
    expected = "/households /households/{uid}/members /persons/{uid} /intentions/{uid}/transitions /places/{pcode}"
    assert {*expected.split(), "/sites", "/stats/summary"} <= paths and len(api_routes(app)) >= 15
    for method, path in api_routes(app):
        response = call(client, method, path, registered, {})
        assert response.status_code == 401, (method, path, response.text)
        problem(response, 401)
        assert leaked(response) == [], (method, path)


@pytest.mark.parametrize("role", ["registrar", "coordinator", "monitor", "analyst", "auditor"])
def test_roles_of_another_site_are_refused_every_record_route(
    app: FastAPI, client: TestClient, session: Session, registered: Registered, role: str
) -> None:
    headers = login(client, session, f"atmeh-{role}", role, ("ATMEH",))
    for method, path in api_routes(app):
        response = call(client, method, path, registered, headers)
        where = (role, method, path, response.status_code)
        assert leaked(response) == [], where
        if path.startswith(OPEN_PREFIXES):
            # every role holds READ_STATS; places and agreements are public facts (none exists in this test)
            assert response.status_code == (404 if "{code}" in path else 200), where
        elif (method, path) == ("GET", f"{API}/households") and role in {"registrar", "coordinator", "monitor"}:
            assert response.status_code == 200 and response.json()["total"] == 0, where
        elif (method, path, role) == ("POST", f"{API}/convoys/plan", "coordinator"):
            assert response.status_code == 409, where  # no convoy of the caller's sites to plan: nothing to do
        elif method == "GET" and path in SCOPED_LISTS and response.status_code == 200:
            # lists filtered to the caller's sites: another site's records are simply not in them
            body = response.json()
            assert (body["total"] if isinstance(body, dict) else len(body)) == 0, where
        else:
            assert response.status_code in {403, 404}, (*where, response.text)  # well formed: only scope refuses it
            problem(response, response.status_code)
    # Nothing was written by any refused call.
    view = get(client, f"/households/{registered.uid}", registered.headers)
    assert view.headers["etag"] == '"v1"' and len(view.json()["members"]) == 3
    assert view.json()["intentions"][0]["status"] == "registered" and not view.json()["consent"]["withdrawn"]
    assert get(client, f"/persons/{registered.head}", registered.headers).json()["given_name_lat"] == HEAD_NAME_LAT


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_analysts_and_auditors_never_read_records_even_in_scope(
    client: TestClient, session: Session, registered: Registered, role: str
) -> None:
    headers = login(client, session, f"rukban-{role}", role, ("RUKBAN",))
    reads = [f"/households/{registered.uid}", f"/persons/{registered.head}", f"/intentions/{registered.intention}"]
    for path in reads:
        response = client.get(f"{API}{path}", headers=headers)
        problem(response, 404)
        assert leaked(response) == [], path
    problem(client.get(f"{API}/households", headers=headers), 403)
    summary = get(client, "/stats/summary", headers)
    assert summary.json()["households"] == 1 and leaked(summary) == []


def test_monitor_in_scope_reads_names_but_cannot_write(
    client: TestClient, session: Session, registered: Registered
) -> None:
    headers = login(client, session, "monitor", "monitor")
    assert get(client, f"/persons/{registered.head}", headers).json()["given_name_ar"] == HEAD_NAME_AR
    url = f"{API}/households/{registered.uid}/members"
    problem(client.post(url, json=person_json(), headers=if_match(headers, '"v1"')), 403)


def test_admin_scope_is_every_site_by_design(client: TestClient, session: Session, registered: Registered) -> None:
    # access.rules.covers_site: an admin covers every site whatever its grants (tests/test_rules.py).
    headers = login(client, session, "atmeh-admin", "admin", ("ATMEH",))
    assert get(client, f"/households/{registered.uid}", headers).json()["members"][0]["phone"] == HEAD_PHONE


def test_places_and_sites_are_listed(client: TestClient, session: Session) -> None:
    headers = login(client, session, "analyst", "analyst", ())
    assert "RUKBAN" in {site["code"] for site in get(client, "/sites", headers).json()}
    place = get(client, "/places/c4402", headers).json()
    assert place["pcode"] == "C4402" and place["parent"] is not None
    assert all(p["admin_level"] == 1 for p in get(client, "/places?level=1", headers).json())
    problem(client.get(f"{API}/places/NOPE", headers=headers), 404)


# 6. Erasure


def test_erasure_shreds_names_and_keeps_the_counts(
    client: TestClient, session: Session, registered: Registered
) -> None:
    admin = login(client, session, "admin", "admin", ())
    url = f"{API}/households/{registered.uid}"
    before = get(client, "/stats/summary", admin).json()
    problem(client.delete(url, headers=admin), 428)
    problem(client.delete(url, headers=if_match(admin, '"v9"')), 412)
    problem(client.delete(url, headers=if_match(registered.headers, '"v1"')), 403)  # registrars may not erase
    assert get(client, f"/households/{registered.uid}", admin).json()["erased"] is False
    tag = get(client, f"/households/{registered.uid}", admin).headers["etag"]
    erased = client.delete(url, headers=if_match(admin, tag))
    assert erased.status_code == 204 and erased.content == b""
    for reader in (admin, registered.headers):
        view = get(client, f"/households/{registered.uid}", reader)
        assert view.json()["erased"] is True and len(view.json()["members"]) == 3
        assert leaked(view) == [] and leaked(get(client, f"/persons/{registered.head}", reader)) == []
    after = get(client, "/stats/summary", admin).json()
    assert after["erased_households"] == before["erased_households"] + 1
    for key in ("households", "persons", "intentions"):
        assert after[key] == before[key], key
    problem(client.post(f"{url}/members", json=person_json(), headers=if_match(admin, tag)), 404)


# 7-8. Schema and unknown routes


def test_openapi_lists_the_record_and_place_paths(client: TestClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/households", "/households/{uid}", "/persons/{uid}", "/intentions/{uid}/transitions", "/places"):
        assert f"{API}{path}" in paths, path
    assert "post" in paths[f"{API}/households"] and "put" in paths[f"{API}/persons/{{uid}}"]


def test_unknown_routes_are_404_problems(client: TestClient, session: Session) -> None:
    headers = login(client, session, "reg", "registrar")
    for response in (client.get(f"{API}/nothing-here"), client.get(f"{API}/nothing-here", headers=headers)):
        assert problem(response, 404)["title"] == "Not Found"


def test_wrong_method_is_405_with_allow(client: TestClient, session: Session) -> None:
    headers = login(client, session, "reg", "registrar")
    response = client.patch(f"{API}/households", headers=headers)
    problem(response, 405)
    assert {method.strip() for method in response.headers["allow"].split(",")} == {"GET", "POST"}
    person = client.patch(f"{API}/persons/{NO_UID}", headers=headers)
    assert {method.strip() for method in person.headers["allow"].split(",")} == {"GET", "PUT"}
