"""`/profile`: the signed-in user's own language, kept in the `awda_lang` cookie of their browser.

The choice needs no column: the cookie that `?lang=` already sets is the one every page reads first
(after `?lang=` itself), so a user's choice follows them from page to page on that browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.i18n import LANG_COOKIE, supported
from awda.web.pages.nav import render_page
from awda.web.pages.rendering import YEAR

router = APIRouter(include_in_schema=False)


@router.get("/profile")
def profile(request: Request, actor: PageActor, saved: Annotated[str, Query(max_length=3)] = "") -> Response:
    return render_page(request, actor, "profile.html", {"saved": saved == "1"})


@router.post("/profile")
def choose_language(
    request: Request,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Remember the language for this browser (a year), then show the page in it."""
    check_form(request, csrf_token)
    chosen = supported(language)
    if chosen is None:
        return render_page(request, actor, "profile.html", {"saved": False}, 422)
    response = RedirectResponse("/profile?saved=1", status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(LANG_COOKIE, chosen, max_age=YEAR, samesite="lax", httponly=True, secure=secure)
    return response
