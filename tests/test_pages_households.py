"""The field team's pages: navigation per role, households (list, search, page), registration,
intentions and the duplicate review, on both engines, through the real app (no browser here).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from awda.access.models import User
from awda.access.services import SYSTEM
from awda.cards.rules import REVOCATION_REASONS
from awda.db import action
from awda.households import rules, services
from awda.households.models import Household, Person
from awda.households.records import from_command
from awda.households.writer import Preparation, RowBatch, prepare_household, write_households
from awda.ids import new_uid
from awda.linkage.rules import CandidateStatus, ScoredPair
from awda.linkage.services import RunRecord, store_run
from awda.monitoring import rules as monitoring_rules
from awda.places.services import site_by_code
from awda.runtime import Runtime
from awda.web.app import create_app
from awda.web.pages.labels import LABELS
from tests import factories
from tests.conftest import PASSWORD, make_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("gazetteer")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
FIELD_ERROR = re.compile(r'<p class="field-error" id="([^"]+)-error">([^<]*)</p>')
ARABIC = {"Accept-Language": "ar"}
ENGLISH = {"Accept-Language": "en"}
# Where Latin letters belong on an Arabic page: codes, isolated values, English-language spans.
EXEMPT_TAGS = {"script", "style", "code", "bdi", "title"}
VOID_TAGS = {"input", "br", "meta", "link", "img", "hr", "source", "area", "col", "wbr"}


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime.settings, runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as opened:
        yield opened


def sign_in(
    client: TestClient, session: Session, username: str, role: str, sites: tuple[str, ...] = ("RUKBAN",)
) -> None:
    make_user(session, username, role, sites)
    data = {"username": username, "password": PASSWORD, "csrf_token": token_of(client.get("/login"))}
    assert client.post("/login", data=data).status_code == 303


def token_of(response: httpx.Response) -> str:
    found = TOKEN.search(response.text)
    assert found is not None, response.text[:300]
    return found.group(1)


def field_errors(html: str) -> dict[str, str]:
    return dict(FIELD_ERROR.findall(html))


class LatinText(HTMLParser):
    """Text a reader sees on an Arabic page that is written in Latin letters outside the places for it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        label = named.get("aria-label") or ""
        if re.search("[A-Za-z]", label):
            self.found.append(label)
        if tag in VOID_TAGS:
            return
        exempt = tag in EXEMPT_TAGS or named.get("lang") == "en" or named.get("dir") == "ltr"
        self.stack.append(exempt or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_TAGS and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if re.search("[A-Za-z]", data) and not (self.stack and self.stack[-1]):
            self.found.append(data.strip())


def untranslated(html: str) -> list[str]:
    parser = LatinText()
    parser.feed(html)
    return parser.found


def arabic_page_problems(html: str) -> list[str]:
    problems = [] if '<html lang="ar" dir="rtl">' in html else ["not dir=rtl"]
    return problems + untranslated(html)


def register_form(**overrides: Any) -> dict[str, Any]:
    """A filled registration form: a head with a mixed-script name, a spouse, consent and an intention."""
    form: dict[str, Any] = {
        "rows": "2",
        "site_code": "RUKBAN",
        "registered_on": "2026-01-15",
        "purposes": ["registration", "movement"],
        "m1_relationship": "head",
        "m1_sex": "male",
        "m1_birth_year": "1979",
        "m1_given_name_ar": factories.HEAD_NAME_AR,
        "m1_family_name_ar": factories.FAMILY_AR,
        "m1_given_name_lat": factories.HEAD_NAME_LAT,
        "m1_phone": "+963 944 555 777",
        "m2_relationship": "spouse",
        "m2_sex": "female",
        "m2_birth_date": "1984-03-02",
        "m2_given_name_ar": "خديجة",
        "intention_kind": "return",
        "origin_pcode": "C4402",
        "destination_pcode": "C4001",
    }
    return form | overrides


def register(client: TestClient, **overrides: Any) -> httpx.Response:
    token = token_of(client.get("/households/new"))
    return client.post("/households/new", data=register_form(csrf_token=token, **overrides))


# ---- Navigation


@pytest.mark.parametrize(
    ("role", "sites", "links"),
    [
        (
            "registrar",
            ("RUKBAN",),
            [
                "/home",
                "/households",
                "/waitlists",
                "/convoys",
                "/convoys/missing",
                "/households/new",
                "/incidents",
                "/linkage",
                "/scorecards",
                "/verify",
                "/profile",
            ],
        ),
        (
            "coordinator",
            ("RUKBAN",),
            [
                "/home",
                "/households",
                "/waitlists",
                "/convoys",
                "/convoys/missing",
                "/followups/unreached",
                "/incidents",
                "/scorecards",
                "/verify",
                "/profile",
            ],
        ),
        ("analyst", (), ["/home", "/scorecards", "/verify", "/profile"]),
        (
            "registrar",
            (),
            ["/home", "/scorecards", "/verify", "/profile"],
        ),  # a role without a site has no records to open
    ],
)
def test_navigation_shows_only_what_the_role_and_sites_allow(
    client: TestClient, session: Session, role: str, sites: tuple[str, ...], links: list[str]
) -> None:
    sign_in(client, session, f"{role}-nav{len(sites)}", role, sites)
    home = client.get("/home", headers=ARABIC).text
    nav = re.search(r'<nav class="site-nav".*?</nav>', home, re.S)
    assert nav is not None
    assert re.findall(r'<li><a href="([^"]+)"', nav.group(0)) == links
    assert 'href="/home" aria-current="page"' in nav.group(0)
    if "/households/new" not in links:
        assert client.get("/households/new").status_code == 403


def test_the_language_is_the_users_choice(app: FastAPI, client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-lang", "registrar")
    page = client.get("/profile", headers=ARABIC)
    chosen = client.post("/profile", data={"language": "en", "csrf_token": token_of(page)}, headers=ARABIC)
    assert chosen.status_code == 303 and "awda_lang=en" in chosen.headers["set-cookie"]
    assert '<html lang="en" dir="ltr">' in client.get("/households", headers=ARABIC).text
    refused = client.post("/profile", data={"language": "ar"}, headers=ARABIC)
    assert refused.status_code == 403  # no CSRF token: nothing changed
    assert '<html lang="en" dir="ltr">' in client.get("/home", headers=ARABIC).text
    assert session.scalar(select(User.language).where(User.username == "reg-lang")) == "en"
    with TestClient(app, follow_redirects=False) as elsewhere:  # another browser, asking for Arabic
        data = {"username": "reg-lang", "password": PASSWORD, "csrf_token": token_of(elsewhere.get("/login"))}
        signed_in = elsewhere.post("/login", data=data, headers=ARABIC)
        assert "awda_lang=en" in signed_in.headers["set-cookie"]
        assert '<html lang="en" dir="ltr">' in elsewhere.get("/home", headers=ARABIC).text
    unknown = client.post("/profile", data={"language": "fr", "csrf_token": token_of(page)}, headers=ARABIC)
    assert unknown.status_code == 422
    assert session.scalar(select(User.language).where(User.username == "reg-lang")) == "en"


def test_a_user_who_never_chose_gets_the_browsers_language(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-nolang", "registrar")
    assert "awda_lang" not in client.cookies
    assert '<html lang="en" dir="ltr">' in client.get("/home", headers=ENGLISH).text
    assert '<html lang="ar" dir="rtl">' in client.get("/home", headers=ARABIC).text


# ---- Registration


def test_registering_a_household_in_arabic(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-new", "registrar")
    form = client.get("/households/new", headers=ARABIC)
    assert arabic_page_problems(form.text) == []
    assert form.text.count('class="member"') == 2
    done = register(client)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith("/households/") and "?done=registered" in location
    assert factories.HEAD_NAME_AR not in location and "963" not in location
    page = client.get(location, headers=ARABIC).text
    assert arabic_page_problems(page) == []
    assert "سُجِّلت الأسرة." in page
    assert f'<bdi lang="ar">{factories.HEAD_NAME_AR} {factories.FAMILY_AR}</bdi>' in page
    assert f'<bdi dir="ltr">{factories.HEAD_NAME_LAT}</bdi>' in page
    assert "+963944555777" in page and 'data-status="registered"' in page


def test_problems_are_shown_next_to_their_fields_in_the_users_language(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-bad", "registrar")
    wrong = {"m1_given_name_ar": "Abdul", "m2_relationship": "head", "m2_phone": "call me", "purposes": ["movement"]}
    shown = register(client, **wrong)
    assert shown.status_code == 422
    assert field_errors(shown.text) == {
        "m1_given_name_ar": "أدخل الاسم الأول بالحروف العربية (أو بالحروف اللاتينية في الحقل أدناه).",
        "m2_phone": "استخدم الأرقام فقط، مع علامة + اختيارية في البداية (من 6 إلى 15 رقمًا).",
        "consent_purposes": "يتطلب التسجيلُ الموافقةَ على التسجيل، وتتطلب طباعةُ الاسم على البطاقة الموافقةَ على البطاقة.",
    }
    assert 'value="Abdul"' in shown.text and 'aria-invalid="true"' in shown.text  # what was typed is kept
    assert 'href="#m1_given_name_ar"' in shown.text  # the summary leads to the field
    fixed = {"m2_phone": "", "purposes": ["registration", "movement"], "m2_relationship": "head"}
    two_heads = register(client, **fixed)
    assert list(field_errors(two_heads.text)) == ["m1_relationship"]
    assert session.scalar(select(Household.id)) is None  # nothing half-written


def test_problems_in_english_and_another_member_row_without_javascript(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-en", "registrar")
    client.cookies.set("awda_lang", "en")
    token = token_of(client.get("/households/new"))
    more = client.post("/households/new", data=register_form(csrf_token=token, add_member="1"))
    assert more.status_code == 200 and more.text.count('class="member"') == 3
    assert f'value="{factories.HEAD_NAME_AR}"' in more.text and 'name="rows" value="3"' in more.text
    late = register_form(csrf_token=token, rows="3", m3_sex="female", m3_birth_year="2300", m3_given_name_lat="Sara")
    unrelated = client.post("/households/new", data=late)
    assert field_errors(unrelated.text) == {
        "m3_relationship": "Choose the relationship; a household has exactly one head."
    }
    unborn = client.post("/households/new", data=late | {"m3_relationship": "daughter"})
    assert unborn.status_code == 422 and '<html lang="en" dir="ltr">' in unborn.text
    assert field_errors(unborn.text) == {
        "m3_birth_year": "Give a birth date or a birth year between 1900 and this year."
    }
    assert 'value="Sara"' in unborn.text


# ---- Finding households, and the list at scale


def test_search_by_phone_and_document_never_puts_them_in_a_url(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-find", "registrar")
    uid = register(client).headers["location"].split("?")[0].rsplit("/", 1)[1]
    token = token_of(client.get("/households"))
    found = client.post("/households/search", data={"kind": "phone", "value": "00963944555777", "csrf_token": token})
    assert found.status_code == 303 and found.headers["location"] == f"/households/{uid}"
    none = client.post("/households/search", data={"kind": "phone", "value": "+963900000000", "csrf_token": token})
    assert none.status_code == 200 and "لا توجد أسرة مطابقة في مواقعك." in none.text
    bad = client.post("/households/search", data={"kind": "phone", "value": "abc", "csrf_token": token})
    assert bad.status_code == 422 and "value" in field_errors(bad.text) and 'value="abc"' in bad.text
    untyped = client.post("/households/search", data={"kind": "document", "value": "123", "csrf_token": token})
    assert list(field_errors(untyped.text)) == ["document_type"]


def _bulk_register(runtime: Runtime, session: Session, count: int) -> None:
    """Households written the way the bulk importer writes them: one batch, one executemany per table."""
    site = site_by_code(session, "RUKBAN")
    plain = from_command(factories.household(with_intention=False))
    with action(session):
        preparation = Preparation.for_session(session, runtime.vault, SYSTEM, {})
        batch = RowBatch()
        for _ in range(count):
            prepare_household(preparation, plain, site.id, batch)
        write_households(session, batch)


def _statements(runtime: Runtime, client: TestClient, path: str) -> tuple[int, str]:
    seen: list[str] = []

    def count(*_args: Any) -> None:
        seen.append("statement")

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        html = client.get(path).text
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    return len(seen), html


def test_the_list_reads_one_page_whatever_the_number_of_households(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    sign_in(client, session, "reg-many", "registrar")
    _bulk_register(runtime, session, 60)
    few, html = _statements(runtime, client, "/households")
    assert len(re.findall(r"<tr>\s*<td><a href=\"/households/", html)) == 50
    _bulk_register(runtime, session, 1_500)
    many, first = _statements(runtime, client, "/households")
    last, tail = _statements(runtime, client, "/households?offset=1550")
    assert few == many == last <= 12  # the same statements for 60 and 1,560 households, first page or last
    assert len(re.findall(r"<tr>\s*<td><a href=\"/households/", first)) == 50
    assert len(re.findall(r"<tr>\s*<td><a href=\"/households/", tail)) == 10
    assert "1,560" in client.get("/households", headers=ENGLISH).text.replace("&#x2c;", ",")
    assert 'rel="prev"' in tail and 'rel="next"' not in tail
    assert client.get("/households?offset=999999999").status_code == 200  # bounded, not an error


# ---- Intentions


def test_reconfirm_then_withdraw_after_a_confirmation_page(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-int", "registrar")
    location = register(client).headers["location"].split("?")[0]
    page = client.get(location).text
    intention = re.search(r'action="/intentions/([0-9a-f-]+)/reconfirm"', page)
    assert intention is not None
    uid, token = intention.group(1), token_of(client.get(location))
    again = client.post(f"/intentions/{uid}/reconfirm", data={"csrf_token": token, "version": "1"})
    assert again.status_code == 303 and "done=reconfirmed" in again.headers["location"]
    stale = client.post(f"/intentions/{uid}/reconfirm", data={"csrf_token": token, "version": "1"})
    assert "problem=stale" in stale.headers["location"]
    assert "غيَّر شخص آخر هذه النية" in client.get(stale.headers["location"]).text
    asked = client.post(f"/intentions/{uid}/status", data={"csrf_token": token, "version": "2", "to": "withdrawn"})
    assert asked.status_code == 200 and 'name="confirmed" value="yes"' in asked.text
    assert arabic_page_problems(asked.text) == []
    assert 'data-status="registered"' in client.get(location).text  # nothing done yet
    data = {"csrf_token": token, "version": "2", "to": "withdrawn", "reason": "stayed", "confirmed": "yes"}
    done = client.post(f"/intentions/{uid}/status", data=data)
    assert done.status_code == 303 and "done=status" in done.headers["location"]
    after = client.get(location, headers=ENGLISH).text
    assert 'data-status="withdrawn"' in after and "Decided to stay" in after
    assert "Record an intention" in after  # with nothing active, a new one can be declared


def test_declaring_an_intention_shows_problems_next_to_the_fields(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-decl", "registrar")
    location = register(client, intention_kind="", origin_pcode="", destination_pcode="").headers["location"]
    uid = location.split("?")[0].rsplit("/", 1)[1]
    token = token_of(client.get(location))
    data = {"csrf_token": token, "version": "1", "intention_kind": "return", "origin_pcode": "C4402"}
    wrong = client.post(f"/households/{uid}/intentions", data=data | {"destination_pcode": "NOWHERE"})
    assert wrong.status_code == 422 and list(field_errors(wrong.text)) == ["destination_pcode"]
    assert 'value="NOWHERE"' in wrong.text
    done = client.post(f"/households/{uid}/intentions", data=data | {"destination_pcode": "C4001"})
    assert done.status_code == 303 and "done=declared" in done.headers["location"]
    assert 'data-status="registered"' in client.get(f"/households/{uid}").text


def test_a_coordinator_moves_an_intention_and_pages_outside_the_scope_look_absent(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    sign_in(client, session, "coord-move", "coordinator")
    page = client.get(f"/households/{registered.household_uid}")
    assert 'value="waitlisted"' in page.text and 'action="/households/new"' not in page.text
    data = {"csrf_token": token_of(page), "version": "1", "to": "waitlisted"}
    assert client.post(f"/intentions/{registered.intention_uid}/status", data=data).status_code == 303
    assert 'data-status="waitlisted"' in client.get(f"/households/{registered.household_uid}").text
    elsewhere = services.register_household(session, runtime.vault, SYSTEM, factories.household(site="ATMEH"))
    hidden = client.get(f"/households/{elsewhere.household_uid}")
    assert hidden.status_code == 404 and factories.HEAD_NAME_AR not in hidden.text
    assert client.get("/households/no-such-household").status_code == 404


# ---- Duplicate review


def _pair(runtime: Runtime, session: Session) -> str:
    """Two registrations of the same head in two households, queued for review by a linkage run."""
    first = services.register_household(session, runtime.vault, SYSTEM, factories.household(with_intention=False))
    second = services.register_household(session, runtime.vault, SYSTEM, factories.household(with_intention=False))
    heads = [
        session.execute(select(Person.id, Person.household_id).where(Person.uid == registered.person_uids[0])).one()
        for registered in (first, second)
    ]
    (a, household_a), (b, household_b) = sorted(heads)
    record = RunRecord(new_uid(), "duckdb", 6, {}, (0.5, 0.99))
    store_run(session, SYSTEM, record, [ScoredPair(a, b, household_a, household_b, 0.87)])
    return first.household_uid


def test_review_a_pair_merge_and_undo_after_confirmation(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    _pair(runtime, session)
    sign_in(client, session, "reg-link", "registrar")
    queue = client.get("/linkage", headers=ARABIC)
    assert arabic_page_problems(queue.text) == [] and "87٪" in queue.text
    pair = re.search(r'href="/linkage/([0-9a-f-]{36})"', queue.text)
    assert pair is not None
    shown = client.get(f"/linkage/{pair.group(1)}", headers=ARABIC)
    assert arabic_page_problems(shown.text) == []
    assert shown.text.count(f'<bdi lang="ar">{factories.HEAD_NAME_AR}</bdi>') == 2
    data = {"csrf_token": token_of(shown), "version": "1", "decision": "merge"}
    merged = client.post(f"/linkage/{pair.group(1)}/decision", data=data)
    assert merged.status_code == 303 and "done=merged" in merged.headers["location"]
    stale = client.post(f"/linkage/{pair.group(1)}/decision", data=data | {"decision": "reject"})
    assert "problem=stale" in stale.headers["location"]
    after = client.get(merged.headers["location"])
    undo = re.search(r'href="(/linkage/merges/[0-9a-f-]+/undo)"', after.text)
    assert undo is not None and 'data-pair-status="merged"' in after.text
    asked = client.get(undo.group(1))
    assert asked.status_code == 200 and arabic_page_problems(asked.text) == []
    undone = client.post(undo.group(1), data={"csrf_token": token_of(asked)})
    assert undone.status_code == 303 and undone.headers["location"] == "/linkage?done=undone"
    assert 'data-pair-status="rejected"' in client.get(f"/linkage/{pair.group(1)}").text
    assert client.post(undo.group(1), data={"csrf_token": token_of(asked)}).headers["location"].endswith("undone")


def test_a_monitor_cannot_review_and_forms_need_their_token(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    sign_in(client, session, "mon-link", "monitor")
    assert client.get("/linkage").status_code == 403
    assert client.get("/households/new").status_code == 403
    assert client.post("/households/new", data=register_form()).status_code == 403
    assert client.post("/linkage/x/decision", data={"decision": "merge"}).status_code == 403
    token = token_of(client.get("/home"))
    data = {"csrf_token": token, "version": "1"}
    refused = client.post(f"/intentions/{registered.intention_uid}/reconfirm", data=data)
    assert refused.status_code == 403 and "<html" in refused.text


# ---- Every page in Arabic


def test_every_page_in_arabic_is_right_to_left_and_translated(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    household = _pair(runtime, session)
    sign_in(client, session, "admin-ar", "admin")
    pair = re.search(r'href="/linkage/([0-9a-f-]{36})"', client.get("/linkage").text)
    assert pair is not None
    pages = ["/home", "/profile", "/households", "/households/new", f"/households/{household}", "/linkage"]
    pages += [
        "/waitlists",
        "/waitlists/RUKBAN/C4301",
        "/waitlists/ATMEH/C4301",
        "/scorecards",
        "/followups",
        "/followups/unreached",
        "/followups/unreached/escalate",
        "/incidents",
        "/incidents?since=2025-13-01",
        "/convoys",
        "/convoys/missing",
    ]
    pages += [f"/linkage/{pair.group(1)}", f"/linkage/merges/{pair.group(1)}/undo", "/households/none"]
    for path in pages:
        arabic, english = client.get(path, headers=ARABIC), client.get(path, headers=ENGLISH)
        assert arabic.status_code == english.status_code, path
        assert arabic_page_problems(arabic.text) == [], path
        assert '<html lang="en" dir="ltr">' in english.text and untranslated(english.text), path
    sign_in(client, session, "mon-ar", "monitor")
    refused = client.get("/linkage", headers=ARABIC)
    assert refused.status_code == 403 and arabic_page_problems(refused.text) == []


def test_every_code_has_words_on_the_pages() -> None:
    vocabularies = {
        "relationship": rules.RELATIONSHIPS,
        "sex": rules.SEXES,
        "document_type": rules.DOCUMENT_TYPES,
        "vulnerability": rules.VULNERABILITIES,
        "purpose": rules.CONSENT_PURPOSES,
        "kind": {kind.value for kind in rules.IntentionKind},
        "status": {status.value for status in rules.IntentionStatus},
        "status_action": {status.value for status in rules.IntentionStatus} - {"registered"},
        "reason": rules.TRANSITION_REASONS,
        "pair_status": {status.value for status in CandidateStatus},
        "revocation": REVOCATION_REASONS,
        "incident_type": {kind.value for kind in monitoring_rules.IncidentType},
        "perpetrator": monitoring_rules.PERPETRATOR_CATEGORIES,
        "source": monitoring_rules.SOURCES,
        "verification": {level.value for level in monitoring_rules.Verification},
        "precision": monitoring_rules.DATE_PRECISIONS,
    }
    vocabularies["cohort_kind"] = {"agreement", "guarantor"}
    vocabularies["outcome"] = {outcome.value for outcome in monitoring_rules.Outcome}
    vocabularies["convoy_status"] = {"scheduled", "departed", "arrived"}
    vocabularies["cause"] = set(monitoring_rules.CAUSE_NAMES.values())
    assert set(vocabularies) | {"search_kind"} == set(LABELS)
    for name, codes in vocabularies.items():
        assert set(LABELS[name]) == set(codes), name


# ---- Members and consent of a registered household


def test_add_a_member_and_change_then_withdraw_consent(client: TestClient, session: Session) -> None:
    sign_in(client, session, "reg-members", "registrar")
    location = register(client).headers["location"].split("?")[0]
    page = client.get(location)
    assert 'name="row" value="3"' in page.text  # two members: the next one is the third
    token = token_of(page)
    member = {"csrf_token": token, "version": "1", "row": "3", "m3_relationship": "head", "m3_sex": "female"}
    member |= {"m3_birth_year": "2019", "m3_given_name_ar": "مريم"}
    second_head = client.post(f"{location}/members", data=member)
    assert second_head.status_code == 422 and list(field_errors(second_head.text)) == ["m3_relationship"]
    assert 'value="مريم"' in second_head.text and '<details class="panel" id="add-member" open>' in second_head.text
    added = client.post(f"{location}/members", data=member | {"m3_relationship": "daughter"})
    assert added.status_code == 303 and added.headers["location"].endswith("done=member")
    shown = client.get(location, headers=ARABIC).text
    assert '<bdi lang="ar">مريم</bdi>' in shown and "أُضيف الفرد." in client.get(added.headers["location"]).text
    stale = client.post(f"{location}/members", data=member | {"m3_relationship": "daughter"})
    assert stale.headers["location"].endswith("problem=stale_household")  # the form's version is old now

    version = re.search(r'name="version" value="(\d+)"', shown)
    assert version is not None
    no_registration = {"csrf_token": token, "version": version.group(1), "purposes": ["movement"]}
    refused = client.post(f"{location}/consent", data=no_registration)
    assert refused.status_code == 422 and list(field_errors(refused.text)) == ["consent_purposes"]
    given = client.post(f"{location}/consent", data=no_registration | {"purposes": ["registration", "card"]})
    assert given.status_code == 303 and given.headers["location"].endswith("done=consent")
    after = client.get(location, headers=ENGLISH).text
    assert 'data-consent="given"' in after and "<li>Protection card</li>" in after
    assert "<li>Movement (waiting lists and convoys)</li>" not in after
    ask = re.search(r'href="(/households/[0-9a-f-]+/consent/withdraw\?version=(\d+))"', after)
    assert ask is not None
    asked = client.get(ask.group(1), headers=ARABIC)
    assert asked.status_code == 200 and arabic_page_problems(asked.text) == []
    data = {"csrf_token": token_of(asked), "version": ask.group(2)}
    withdrawn = client.post(f"{location}/consent/withdraw", data=data)
    assert withdrawn.status_code == 303 and withdrawn.headers["location"].endswith("done=consent_withdrawn")
    final = client.get(location, headers=ENGLISH).text
    assert 'data-status="withdrawn"' in final and 'data-consent="withdrawn"' in final


# ---- Waiting lists


def test_waiting_lists_in_order_linking_to_the_households(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    first = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    second = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    services.register_household(session, runtime.vault, SYSTEM, factories.household(site="ATMEH"))
    sign_in(client, session, "coord-lists", "coordinator")
    lists = client.get("/waitlists", headers=ENGLISH)
    assert re.findall(r'<a href="/waitlists/(\w+)/(\w+)">', lists.text) == [("RUKBAN", "C4301")]
    shown = client.get("/waitlists/RUKBAN/C4301", headers=ENGLISH).text
    rows = re.findall(r'<a href="/households/([0-9a-f-]+)#intention-([0-9a-f-]+)">', shown)
    assert rows == [(first.household_uid, first.intention_uid), (second.household_uid, second.intention_uid)]
    assert "2 households, 6 people" in shown
    assert client.get("/waitlists/ATMEH/C4301").status_code == 404  # another site's list looks absent
