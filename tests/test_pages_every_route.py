"""Every page the app serves, opened on real records in Arabic and in English, on both engines.

The routes come from the app itself, so a new page fails this test until it is listed here with a
record to open: then it is checked like the others. An HTML page must be right-to-left in Arabic with
no untranslated text, left-to-right in English, and answer the same status in both; a file (a PDF, a
plot, the verifier's lists) must be served with its type.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.cards import services as cards
from awda.cards.keys import create_issuer_key
from awda.convoys import services as convoys
from awda.convoys.commands import ConvoyIn
from awda.monitoring.models import FollowUp
from awda.runtime import Runtime
from tests.cards_support import AGREEMENT, consenting_household
from tests.test_pages_households import (
    ARABIC,
    ENGLISH,
    TestClient,
    _pair,
    app,  # noqa: F401 - fixtures shared with the household pages
    arabic_page_problems,
    client,  # noqa: F401
    sign_in,
    token_of,
    untranslated,
)
from tests.test_pages_scorecards import returned_and_followed
from tests.test_sessions import page_routes

pytestmark = pytest.mark.usefixtures("gazetteer")
FILES = {
    ".pdf": "application/pdf",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".cwt": "application/statuslist+cwt",
}


def linked(
    client: TestClient,  # noqa: F811
    page: str,
    pattern: str,
) -> str:
    """The first value of `pattern` in the links of `page` (read as the signed-in user)."""
    found = re.search(pattern, client.get(page).text)
    assert found is not None, f"no link {pattern} on {page}"
    return found.group(1)


def every_record(
    client: TestClient,  # noqa: F811
    runtime: Runtime,
    session: Session,
) -> tuple[dict[str, str], dict[str, str]]:
    """One real record behind each route: each GET route's page to open, and the records' ids by the
    path their routes start with."""
    returned_and_followed(runtime, session)  # an agreement, returned households, follow-ups, two arrests
    create_issuer_key(session, runtime.vault, SYSTEM, runtime.settings.card_issuer)
    holder = consenting_household(runtime, session, ("card", "card_name"))
    card = cards.issue_card(session, runtime.vault, runtime.settings, SYSTEM, holder.person_uids[0], AGREEMENT)
    household = _pair(runtime, session)
    convoys.schedule_convoy(
        session,
        SYSTEM,
        ConvoyIn(code="CV-ALL", site="RUKBAN", departs_on=date.today(), destinations=["C4301"], seats=9),
    )
    sign_in(client, session, "admin-every", "admin")
    pair = linked(client, "/linkage", r'href="/linkage/([0-9a-f-]{36})"')
    shown = client.get(f"/linkage/{pair}")
    merged = client.post(
        f"/linkage/{pair}/decision", data={"csrf_token": token_of(shown), "version": "1", "decision": "merge"}
    )
    merge = re.search(r"merge=([0-9a-f-]{36})", merged.headers["location"])
    assert merged.status_code == 303 and merge is not None
    slug = linked(client, "/scorecards", r'href="/scorecards/(agreement-[^"/]+)"')
    incident = linked(client, "/incidents", r'href="/incidents/([0-9a-f-]{36})"')
    card_id = str(card.card_id)
    followup = session.scalar(select(FollowUp.uid).order_by(FollowUp.id).limit(1))
    assert holder.intention_uid is not None and followup is not None
    ids = {
        "/cards/": card_id,
        "/convoys/": "CV-ALL",
        "/followups/": followup,
        "/households/": holder.household_uid,
        "/incidents/": incident,
        "/intentions/": holder.intention_uid,
        "/linkage/merges/": merge.group(1),
        "/linkage/": pair,
    }
    return ids_free_pages(card_id, holder.household_uid, household, incident, merge.group(1), pair, slug), ids


def ids_free_pages(
    card_id: str, holder: str, household: str, incident: str, merge: str, pair: str, slug: str
) -> dict[str, str]:
    """The page to open for each GET route with parameters."""
    return {
        "/cards/{uid}": f"/cards/{card_id}",
        "/cards/{uid}/card.pdf": f"/cards/{card_id}/card.pdf",
        "/cards/{uid}/revoke": f"/cards/{card_id}/revoke",
        "/convoys/{code}": "/convoys/CV-ALL",
        "/convoys/{code}/depart": "/convoys/CV-ALL/depart",
        "/convoys/{code}/manifest.pdf": "/convoys/CV-ALL/manifest.pdf",
        "/households/{uid}": f"/households/{holder}",
        "/households/{uid}/consent/withdraw": f"/households/{household}/consent/withdraw",
        "/incidents/{uid}": f"/incidents/{incident}",
        "/linkage/merges/{uid}/undo": f"/linkage/merges/{merge}/undo",
        "/linkage/{uid}": f"/linkage/{pair}",
        "/scorecards/{slug}": f"/scorecards/{slug}",
        "/scorecards/{slug}/{plot}.svg": f"/scorecards/{slug}/survival.svg",
        "/waitlists/{origin}/{destination}": "/waitlists/RUKBAN/C4301",
    }


def test_every_page_opens_in_both_languages(
    app: FastAPI,  # noqa: F811
    client: TestClient,  # noqa: F811
    runtime: Runtime,
    session: Session,
) -> None:
    records, _ids = every_record(client, runtime, session)
    routes = sorted({path for method, path in page_routes(app) if method == "GET"})
    unlisted = [path for path in routes if "{" in path and path not in records]
    assert unlisted == [], "add a record to open for each new page route"
    for route in routes:
        path = records.get(route, route)
        arabic, english = client.get(path, headers=ARABIC), client.get(path, headers=ENGLISH)
        assert arabic.status_code == english.status_code == 200, (path, arabic.status_code)
        suffix = re.search(r"\.[a-z]+$", path)
        if suffix is not None:
            assert arabic.headers["content-type"].split(";")[0] == FILES[suffix.group(0)], path
            continue
        assert arabic_page_problems(arabic.text) == [], path
        assert '<html lang="en" dir="ltr">' in english.text and untranslated(english.text), path


def route_path(route: str, ids: dict[str, str]) -> str:
    """`route` with its parameters filled from the record whose path prefix is the longest match."""
    prefix = max((start for start in ids if route.startswith(start)), key=len, default=None)
    path = route.replace("{kind}", "departures")
    if prefix is not None:
        path = re.sub(r"\{(uid|code)\}", ids[prefix], path)
    assert "{" not in path, f"add a record for {route}"
    return path


def test_every_form_refuses_a_forged_token_or_a_foreign_origin_and_does_nothing(
    app: FastAPI,  # noqa: F811
    client: TestClient,  # noqa: F811
    runtime: Runtime,
    session: Session,
) -> None:
    _records, ids = every_record(client, runtime, session)
    token = token_of(client.get("/profile"))
    forms = sorted({path for method, path in page_routes(app) if method == "POST"} - {"/verify"})
    assert len(forms) > 20 and "/logout" in forms
    events = session.scalar(select(func.count()).select_from(Event))
    for route in forms:
        path = route_path(route, ids)
        forged = client.post(path, data={"csrf_token": token[:-3] + "abc", "version": "1"}, headers=ARABIC)
        foreign = client.post(path, data={"csrf_token": token}, headers={"Origin": "https://elsewhere.example"})
        opaque = client.post(path, data={"csrf_token": token}, headers={"Origin": "null"})
        for refused in (forged, foreign, opaque):
            assert refused.status_code == 403, (route, refused.status_code)
        assert arabic_page_problems(forged.text) == [], route
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Event)) == events  # nothing was done, not even a read
    assert client.get("/home").status_code == 200  # still signed in: /logout refused too


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/households?offset=abc", 422),
        ("/convoys?offset=-1", 422),
        ("/waitlists/RUKBAN/C4301?offset=zz", 422),
        ("/profile?saved=" + "x" * 10, 422),
        ("/households?site=" + "x" * 100, 422),
        ("/no-such-page", 404),
        ("/households/new/extra", 404),
    ],
)
def test_an_address_a_page_does_not_understand_is_a_page_in_the_users_language(
    client: TestClient,  # noqa: F811
    session: Session,
    path: str,
    status: int,
) -> None:
    sign_in(client, session, f"reg-bad-{status}", "registrar")
    arabic, english = client.get(path, headers=ARABIC), client.get(path, headers=ENGLISH)
    assert arabic.status_code == english.status_code == status
    assert arabic.headers["content-type"].startswith("text/html") and arabic_page_problems(arabic.text) == []
    assert "xxxxxxxxxx" not in arabic.text  # the input is never echoed back
    assert ("The address was not understood" if status == 422 else "There is no page at this address") in english.text
    api = client.get("/api/v1/no-such-thing", headers=ENGLISH)  # the API still answers problem+json
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
