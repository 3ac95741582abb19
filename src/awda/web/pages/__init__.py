"""Server-rendered HTML pages: Jinja2 templates in `web/templates`, static files, gettext catalogues."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from awda.web.pages.arrivals import router as arrivals_router
from awda.web.pages.auth import FormRefused, SignInRequired, sign_in_redirect
from awda.web.pages.cards import router as cards_router
from awda.web.pages.convoys import router as convoys_router
from awda.web.pages.followups import router as followups_router
from awda.web.pages.households import router as households_router
from awda.web.pages.incidents import router as incidents_router
from awda.web.pages.intentions import router as intentions_router
from awda.web.pages.labels import N_
from awda.web.pages.landing import router as landing_router
from awda.web.pages.linkage import router as linkage_router
from awda.web.pages.members import router as members_router
from awda.web.pages.profile import router as profile_router
from awda.web.pages.registration import router as registration_router
from awda.web.pages.rendering import STATIC_PREFIX, CachedStaticFiles, Pages, render
from awda.web.pages.scorecards import router as scorecards_router
from awda.web.pages.session import router as session_router
from awda.web.pages.supervision import router as supervision_router
from awda.web.pages.verify import router as verify_router
from awda.web.pages.waitlists import router as waitlists_router

__all__ = ["install", "render"]


def install(app: FastAPI) -> None:
    """Compile the catalogues, build the template environments, mount /static and add the page routes."""
    app.state.pages = Pages.build()
    app.mount(STATIC_PREFIX, CachedStaticFiles(packages=[("awda.web", "static")]), name="static")
    for router in (landing_router, verify_router, session_router, profile_router):
        app.include_router(router)
    # /households/new before /households/{uid}
    signed_in = (registration_router, households_router, members_router, intentions_router, waitlists_router)
    monitoring = (arrivals_router, incidents_router, followups_router, supervision_router)
    others = (convoys_router, cards_router, *monitoring, scorecards_router, linkage_router)
    for router in (*signed_in, *others):
        app.include_router(router)
    app.add_exception_handler(SignInRequired, sign_in_redirect)
    app.add_exception_handler(FormRefused, _form_refused)
    app.state.page_error = page_error


def _form_refused(request: Request, _error: Exception) -> Response:
    return render(request, "refused.html", status_code=403)


# What a page says for an error no handler turned into a page of its own (web/problems.py calls it).
NO_PAGE = (N_("Not found"), N_("There is no page at this address. Check it, or start again from the start page."))
PAGE_ERRORS = {
    404: NO_PAGE,
    405: NO_PAGE,
    422: (
        N_("The address was not understood"),
        N_("Part of this address or form is not what the page expects, so nothing was done. Go back and try again."),
    ),
}
UNEXPECTED = (
    N_("Something went wrong"),
    N_("The page could not be shown; nothing more was done. The error has been logged for the administrators."),
)


def page_error(request: Request, status: int) -> Response:
    """An error as a page in the visitor's language: never a traceback, never the input echoed back."""
    title, message = PAGE_ERRORS.get(status) or (PAGE_ERRORS[422] if status < 500 else UNEXPECTED)
    return render(request, "error.html", {"title": title, "message": message}, status_code=status)
