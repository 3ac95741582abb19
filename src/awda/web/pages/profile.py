"""`/profile`: the signed-in user's own language for the pages.

The choice is kept on the account (`access.services.choose_language`) and in the `awda_lang` cookie of
this browser, which every page reads first (after `?lang=` itself); signing in on another browser sets
that browser's cookie from the account (`web/pages/session.py`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from awda.access import services
from awda.web.deps import SessionDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.i18n import supported
from awda.web.pages.nav import render_page
from awda.web.pages.rendering import remember_locale

router = APIRouter(include_in_schema=False)


@router.get("/profile")
def profile(request: Request, actor: PageActor, saved: Annotated[str, Query(max_length=3)] = "") -> Response:
    return render_page(request, actor, "profile.html", {"saved": saved == "1"})


@router.post("/profile")
def choose_language(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Keep the language on the account and in this browser, then show the page in it."""
    check_form(request, csrf_token)
    chosen = supported(language)
    if chosen is None:
        return render_page(request, actor, "profile.html", {"saved": False}, 422)
    services.choose_language(session, actor, chosen)
    response = RedirectResponse("/profile?saved=1", status_code=303)
    remember_locale(request, response, chosen)
    return response
