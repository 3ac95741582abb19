"""Signing in to the pages (session cookie, CSRF on forms) and throttling failed sign-ins, on both engines."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, routing
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from awda.access import throttle
from awda.access.models import ApiToken, LoginThrottle
from awda.access.throttling import Count, Limit, release, reserve, retry_after
from awda.audit.models import Event
from awda.db import utcnow
from awda.errors import AuthenticationFailed, TooManyAttempts
from awda.households.reference import new_reference
from awda.runtime import Runtime
from awda.web.pages.auth import safe_next
from tests.conftest import PASSWORD, make_user
from tests.test_api import API, PROBLEM, Registered, TestClient, leaked, registered  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("gazetteer")
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    from awda.web.app import create_app

    return create_app(runtime.settings, runtime)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


def form_token(client: TestClient, path: str = "/login") -> str:
    found = TOKEN_FIELD.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    data = {"username": username, "password": password, "csrf_token": form_token(client), **extra}
    return client.post("/login", data=data)


def count(session: Session, model: type, *where: object) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# The pure rules


def test_three_attempts_fail_the_fourth_locks_and_a_window_or_a_served_lock_starts_afresh() -> None:
    now = utcnow()
    limit = Limit(3, timedelta(minutes=15), timedelta(minutes=10))
    count = None
    for minute in range(3):
        decision = reserve(count, now + timedelta(minutes=minute), limit)
        assert decision.allowed and not decision.locks
        count = decision.count
    assert count is not None and count.failures == 3
    fourth = reserve(count, now + timedelta(minutes=3), limit)
    assert not fourth.allowed and fourth.locks and fourth.count.locked_until == now + timedelta(minutes=13)
    locked = reserve(fourth.count, now + timedelta(minutes=4), limit)
    assert not locked.allowed and not locked.locks  # the lock is logged once
    assert retry_after(fourth.count, now + timedelta(minutes=12, seconds=30)) == 30
    served = reserve(fourth.count, now + timedelta(minutes=13), limit)
    assert served.allowed and served.count == Count(1, now + timedelta(minutes=13), None)
    # A success gives its attempt back; a window gone by counts from one again.
    assert release(Count(2, now, None)) == Count(1, now, None) and release(Count(0, now, None)).failures == 0
    assert reserve(Count(2, now, None), now + timedelta(minutes=16), limit).count.failures == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/households?page=2", "/households?page=2"),
        ("//evil.example/x", "/home"),
        ("https://evil.example/", "/home"),
        ("/\\evil.example", "/home"),
        ("home", "/home"),
        (None, "/home"),
    ],
)
def test_only_paths_of_this_site_are_followed_after_signing_in(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


# Pages, the session cookie and CSRF


@pytest.mark.parametrize(("lang", "direction", "button"), [("ar", "rtl", "تسجيل الدخول"), ("en", "ltr", "Sign in")])
def test_login_page_is_translated_and_sets_a_strict_csrf_cookie(
    client: TestClient, lang: str, direction: str, button: str
) -> None:
    response = client.get("/login", headers={"Accept-Language": lang})
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="{direction}">' in response.text
    assert button in response.text
    assert '<label for="username">' in response.text and '<label for="password">' in response.text
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("awda_csrf=") and "httponly" in cookie and "samesite=strict" in cookie


def test_signing_in_starts_a_session_for_pages_only(client: TestClient, session: Session) -> None:
    make_user(session, "reg-page", "registrar", ("RUKBAN",))
    response = sign_in(client, "reg-page", next="/home")
    assert response.status_code == 303 and response.headers["location"] == "/home"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("awda_session=awda_") and "httponly" in cookie and "samesite=strict" in cookie
    home = client.get("/home", headers={"Accept-Language": "en"})
    assert home.status_code == 200 and "Welcome, <bdi>reg-page</bdi>" in home.text and "RUKBAN" in home.text
    assert "Registration officer" in home.text
    assert count(session, ApiToken, ApiToken.label == "session") == 1
    # The API wants a bearer header; the cookie alone is not enough, so a cross-site form cannot use it.
    assert client.get(f"{API}/households").status_code == 401


def test_forms_without_a_valid_token_or_from_another_origin_do_nothing(client: TestClient, session: Session) -> None:
    make_user(session, "reg-csrf", "registrar", ("RUKBAN",))
    token = form_token(client)
    data = {"username": "reg-csrf", "password": PASSWORD}
    missing = client.post("/login", data=data)
    forged = client.post("/login", data={**data, "csrf_token": token[:-2] + "xx"})
    foreign = client.post("/login", data={**data, "csrf_token": token}, headers={"Origin": "https://evil.example"})
    opaque = client.post("/login", data={**data, "csrf_token": token}, headers={"Origin": "null"})  # a sandboxed frame
    other_browser = TestClient(client.app, follow_redirects=False).post("/login", data={**data, "csrf_token": token})
    for refused in (missing, forged, foreign, opaque, other_browser):
        assert refused.status_code == 403 and "awda_session" not in refused.headers.get("set-cookie", "")
    assert count(session, ApiToken) == 0
    # Signed in, the token is bound to the session too: the sign-in page's token no longer signs out.
    assert sign_in(client, "reg-csrf").status_code == 303
    refused = client.post("/logout", data={"csrf_token": token})
    assert refused.status_code == 403 and "<html" in refused.text
    assert client.get("/home").status_code == 200


def test_signing_out_revokes_the_session(client: TestClient, session: Session) -> None:
    make_user(session, "mon-out", "monitor", ("RUKBAN",))
    sign_in(client, "mon-out")
    stolen = client.cookies["awda_session"]
    response = client.post("/logout", data={"csrf_token": form_token(client, "/home")})
    assert response.status_code == 303 and response.headers["location"] == "/"
    replay = TestClient(client.app, follow_redirects=False, cookies={"awda_session": stolen}).get("/home")
    assert replay.status_code == 303 and replay.headers["location"] == "/login?next=/home"
    assert count(session, ApiToken, ApiToken.revoked_at.is_not(None)) == 1


def test_expired_and_missing_sessions_go_to_the_sign_in_page(client: TestClient, session: Session) -> None:
    anonymous = client.get("/home")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/home"
    make_user(session, "coord-exp", "coordinator", ("RUKBAN",))
    sign_in(client, "coord-exp")
    session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert client.get("/home").status_code == 303


def test_wrong_password_on_the_page_says_so_in_arabic(client: TestClient, session: Session) -> None:
    make_user(session, "reg-wrong", "registrar", ("RUKBAN",))
    response = sign_in(client, "reg-wrong", PASSWORD + "!")
    assert response.status_code == 401 and "اسم المستخدم أو كلمة المرور غير صحيحة" in response.text
    assert PASSWORD not in response.text and 'value="reg-wrong"' in response.text
    empty = client.post("/login", data={"csrf_token": form_token(client)}, headers={"Accept-Language": "en"})
    assert empty.status_code == 401 and "Wrong username or password." in empty.text


# Throttling


def test_a_username_is_locked_after_five_failures_even_for_the_right_password(
    client: TestClient, session: Session
) -> None:
    make_user(session, "adm-lock", "admin")
    for _ in range(5):
        assert client.post(f"{API}/auth/token", json={"username": "adm-lock", "password": "wrong"}).status_code == 401
    locked = client.post(f"{API}/auth/token", json={"username": "adm-lock", "password": PASSWORD})
    assert locked.status_code == 429 and locked.headers["content-type"] == PROBLEM
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    page = sign_in(client, "adm-lock")
    assert page.status_code == 429 and page.headers["retry-after"] and "محاولات فاشلة كثيرة" in page.text
    locks = count(session, Event, Event.action == "lock_sign_in", Event.subject_id == "adm-lock")
    assert locks == 1
    # The lock ends; the right password then works and clears the username's count.
    session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert client.post(f"{API}/auth/token", json={"username": "adm-lock", "password": PASSWORD}).status_code == 201
    events = session.scalars(select(Event.payload).where(Event.action == "lock_sign_in")).all()
    assert all("testclient" not in payload for payload in events)


def test_an_address_is_locked_after_twenty_failures_across_usernames(client: TestClient, session: Session) -> None:
    make_user(session, "reg-addr", "registrar", ("RUKBAN",))
    for number in range(20):
        client.post(f"{API}/auth/token", json={"username": f"guess{number}", "password": "wrong"})
    assert client.post(f"{API}/auth/token", json={"username": "reg-addr", "password": PASSWORD}).status_code == 429
    # Households looking up their own status from that address count separately.
    lookup = {"reference": new_reference(), "pin": "123456"}
    assert client.post(f"{API}/status", json=lookup).status_code == 401


def test_household_lookups_are_throttled_per_address(client: TestClient) -> None:
    for _ in range(20):
        lookup = {"reference": new_reference(), "pin": "123456"}
        assert client.post(f"{API}/status", json=lookup).status_code == 401
    refused = client.post(f"{API}/status/reconfirm", json={"reference": new_reference(), "pin": "123456"})
    assert refused.status_code == 429 and refused.headers["content-type"] == PROBLEM


def test_parallel_attempts_cannot_all_pass_before_the_first_fails(runtime: Runtime, session: Session) -> None:
    gate = throttle.Gate("user", b"k" * 32, Limit(10, timedelta(hours=1), timedelta(minutes=1)), "someone")
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            with throttle.guarded(runtime, [gate]):
                raise AuthenticationFailed("wrong password")
        except AuthenticationFailed:
            outcomes.append("tried")
        except TooManyAttempts:
            outcomes.append("refused")

    workers = [threading.Thread(target=attempt) for _ in range(30)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes).count("tried") == 10 and len(outcomes) == 30
    session.expire_all()
    row = session.get(LoginThrottle, gate.key)
    assert row is not None and row.failures == 10 and row.locked_until is not None


def test_an_address_gets_its_attempt_back_when_it_succeeds(runtime: Runtime, session: Session) -> None:
    gate = throttle.address_gate(runtime, "address", "192.0.2.7")
    for _ in range(50):  # far more than the limit of 20: good sign-ins from a shared address never lock it
        with throttle.guarded(runtime, [gate]):
            pass
    session.expire_all()
    row = session.get(LoginThrottle, gate.key)
    assert row is not None and row.failures == 0 and row.locked_until is None


# Every page against every role


PUBLIC_PAGES = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("GET", "/verify"), ("POST", "/verify")}
PUBLIC_PAGES |= {("GET", "/verify/trust-list.json"), ("GET", "/verify/status-list.cwt")}
ROLES = ("admin", "registrar", "coordinator", "monitor", "analyst", "auditor")


def page_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every page route of the app (not the API, not static files), as (method, path)."""
    flatten: Any = getattr(routing, "iter_route_contexts", list)
    found = {
        (method, str(route.path))
        for route in flatten(app.routes)
        if isinstance(getattr(route, "original_route", route), APIRoute) and not str(route.path).startswith(API)
        for method in route.methods
    }
    return sorted(found)


def test_every_page_outside_the_public_ones_needs_a_session(
    app: FastAPI,
    client: TestClient,
    registered: Registered,  # noqa: F811 - the fixture imported above
) -> None:
    routes = page_routes(app)
    assert ("GET", "/home") in routes and ("POST", "/logout") in routes
    guarded = [(method, path) for method, path in routes if (method, path) not in PUBLIC_PAGES]
    assert guarded, "every page but the public ones is guarded"
    for method, path in guarded:
        url = path.replace("{uid}", registered.uid).replace("{code}", "CV-1")
        response = client.request(method, url)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/login?next=")
        assert leaked(response) == []


@pytest.mark.parametrize("role", ROLES)
def test_every_role_signs_in_and_sees_only_its_own_sites(client: TestClient, session: Session, role: str) -> None:
    make_user(session, f"{role}-home", role, ("RUKBAN",))
    assert sign_in(client, f"{role}-home").status_code == 303
    home = client.get("/home", headers={"Accept-Language": "ar"})
    assert home.status_code == 200 and '<html lang="ar" dir="rtl">' in home.text
    assert "RUKBAN" in home.text
    assert ("ATMEH" in home.text) == (role == "admin")
