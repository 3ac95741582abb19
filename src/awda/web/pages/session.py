"""`/login`, `/logout` and `/home`: signing in to the pages and the signed-in start page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from awda.access import services, throttle
from awda.access.rules import Actor
from awda.errors import AuthenticationFailed, TooManyAttempts
from awda.web.deps import ClientAddress, RuntimeDep, SessionDep
from awda.web.pages.auth import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    FormRefused,
    PageActor,
    browser_secret,
    check_form,
    csrf_token,
    safe_next,
    set_cookie,
)
from awda.web.pages.nav import render_page
from awda.web.pages.rendering import remember_locale, render

router = APIRouter(include_in_schema=False)


def render_form(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page with a form: its CSRF token, and the browser's CSRF cookie set if it had none."""
    secret, new = browser_secret(request)
    response = render(request, template, {**context, CSRF_FIELD: csrf_token(request, secret)}, status_code)
    if new:
        set_cookie(request, response, CSRF_COOKIE, secret)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render_form(request, "login.html", {"next": safe_next(next), "error": None, "username": ""})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    address: ClientAddress,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/home",
) -> Response:
    """Check the form and the credentials, then start a session and go on to `next`.

    Every refusal is this page again with the reason next to the form, never a JSON error.
    """
    context = {"next": safe_next(next), "username": username[:64]}
    try:
        check_form(request, csrf_token)
        with throttle.guarded(runtime, throttle.login_gates(runtime, username[:64], address)):
            actor = _authenticate(session, username, password)
    except FormRefused:
        return render_form(request, "login.html", {**context, "error": "expired"}, 403)
    except AuthenticationFailed:
        return render_form(request, "login.html", {**context, "error": "credentials"}, 401)
    except TooManyAttempts as error:
        locked = {**context, "error": "locked", "minutes": -(-error.retry_after // 60)}
        response = render_form(request, "login.html", locked, 429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    hours = runtime.settings.session_hours
    token = services.issue_token(session, actor, hours, "session")
    response = RedirectResponse(context["next"], status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=hours * 3600)
    language = services.language_of(session, actor)
    if language is not None:  # the account's choice, on whichever browser the user signs in
        remember_locale(request, response, language)
    return response


def _authenticate(session: Session, username: str, password: str) -> Actor:
    if not username or not password or len(username) > 64 or len(password) > 200:
        raise AuthenticationFailed("wrong username or password")
    return services.authenticate(session, username, password)


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, actor: PageActor, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """End the session: the token is revoked, so a copied cookie is worthless too."""
    check_form(request, csrf_token)
    services.revoke_token(session, actor, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/home")
def home(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """Who is signed in, with which role and sites, and what they can open."""
    return render_page(request, actor, "home.html", {"sites": services.own_sites(session, actor)})
