"""Signing in to the pages: the session cookie, the signed-in user, and CSRF tokens on every form.

The session is an API token row labelled `session` (revocable, expiring), carried in an HttpOnly,
SameSite=Strict cookie. The API never accepts this cookie: it wants a bearer header, so a forged
cross-site request cannot act through it. Forms carry a token that is an HMAC of a random per-browser
cookie and the session: a page on another site can neither read the cookie nor compute the token.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Actor
from awda.access.services import actor_for_token
from awda.errors import AuthenticationFailed
from awda.web.deps import SessionDep, runtime_of

SESSION_COOKIE = "awda_session"
CSRF_COOKIE = "awda_csrf"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """A page needs a signed-in user; answered with a redirect to /login that comes back to `path`."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class FormRefused(Exception):
    """A form came without a valid CSRF token or from another origin: a 403 page, nothing done."""


def page_actor(request: Request, session: SessionDep) -> Actor:
    """The signed-in user of a page, or a redirect to the sign-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired(request.url.path)
    try:
        return actor_for_token(session, token)
    except AuthenticationFailed:
        raise SignInRequired(request.url.path) from None


PageActor = Annotated[Actor, Depends(page_actor)]


def sign_in_redirect(_request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    response = RedirectResponse(f"/login?next={quote(error.path, safe='/')}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/home"
    parts = urlsplit(value)
    return "/home" if parts.scheme or parts.netloc else value


def browser_secret(request: Request) -> tuple[str, bool]:
    """The browser's CSRF cookie value, and whether it is new (so the response must set it)."""
    current = request.cookies.get(CSRF_COOKIE)
    if current and 20 <= len(current) <= 100:
        return current, False
    return secrets.token_urlsafe(32), True


def csrf_token(request: Request, secret: str, session_token: str | None = None) -> str:
    """The form token for this browser secret and session (`session_token` overrides the cookie's)."""
    session_value = request.cookies.get(SESSION_COOKIE, "") if session_token is None else session_token
    mac = runtime_of(request).vault.keyed_digest("csrf", f"{secret}\x00{session_value}".encode())
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def check_form(request: Request, submitted: str) -> None:
    """Refuse a form whose token does not match, or that another origin sent."""
    origin = request.headers.get("origin")
    # Our pages send `Referrer-Policy: same-origin`, so a browser names our origin on our own forms;
    # `null` (a sandboxed frame, a data: URL, a privacy redirect) is refused like a foreign site.
    # A client that sends no Origin at all (an old browser, a script) is judged by the token alone.
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise FormRefused("the form was sent from another site")
    secret = request.cookies.get(CSRF_COOKIE)
    if not secret or not hmac.compare_digest(csrf_token(request, secret), submitted):
        raise FormRefused("the form has expired; reload the page and send it again")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    """A cookie scripts cannot read and other sites do not get; Secure whenever the site is served over TLS."""
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=secure)
