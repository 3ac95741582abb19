"""What a signed-in page shares: the navigation the user's role and sites allow, and `render_page`.

Every signed-in page ends with `render_page(request, actor, template, context)`: the page with its
navigation (only the links the role may use at one of its sites), the sign-out form and a CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from awda.access.rules import Actor, Permission, Role, has_permission
from awda.web.pages.auth import CSRF_COOKIE, CSRF_FIELD, browser_secret, csrf_token, set_cookie
from awda.web.pages.labels import LABELS, N_
from awda.web.pages.rendering import render


@dataclass(frozen=True)
class NavLink:
    path: str
    label: str
    permission: Permission | None = None  # None: every signed-in user
    needs_site: bool = False  # a site-scoped permission is of no use without a site


LINKS = (
    NavLink("/home", N_("Start")),
    NavLink("/households", N_("Households"), Permission.READ_RECORDS, needs_site=True),
    NavLink("/waitlists", N_("Waiting lists"), Permission.READ_RECORDS, needs_site=True),
    NavLink("/convoys", N_("Convoys"), Permission.READ_RECORDS, needs_site=True),
    NavLink("/convoys/missing", N_("Missed arrivals"), Permission.READ_RECORDS, needs_site=True),
    NavLink("/households/new", N_("Register a household"), Permission.REGISTER, needs_site=True),
    NavLink("/followups", N_("Overdue follow-ups"), Permission.FOLLOW_UP, needs_site=True),
    NavLink("/followups/unreached", N_("Households not reached"), Permission.ASSIGN_FOLLOWUPS, needs_site=True),
    NavLink("/incidents", N_("Protection incidents"), Permission.READ_RECORDS, needs_site=True),
    NavLink("/linkage", N_("Possible duplicates"), Permission.REVIEW_LINKAGE, needs_site=True),
    NavLink("/scorecards", N_("Scorecards"), Permission.READ_STATS),
    NavLink("/verify", N_("Verify a card")),
    NavLink("/profile", N_("Language")),
)


def has_sites(actor: Actor) -> bool:
    return actor.role == Role.ADMIN or actor.all_sites or bool(actor.site_ids)


def allowed(actor: Actor, link: NavLink) -> bool:
    if link.permission is not None and not has_permission(actor, link.permission):
        return False
    return has_sites(actor) or not link.needs_site


def navigation(actor: Actor, path: str) -> list[dict[str, Any]]:
    """The links this actor may follow; the one for the current page is marked (the longest match)."""
    links = [link for link in LINKS if allowed(actor, link)]
    matches = [link.path for link in links if path == link.path or path.startswith(link.path + "/")]
    current = max(matches, key=len, default=None)
    return [{"path": link.path, "label": link.label, "current": link.path == current} for link in links]


def render_page(
    request: Request, actor: Actor, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """A signed-in page: the template with `actor`, `nav` and a CSRF token (for its forms and signing out)."""
    secret, new = browser_secret(request)
    shared = {"actor": actor, "nav": navigation(actor, request.url.path), "labels": LABELS}
    shared[CSRF_FIELD] = csrf_token(request, secret)
    response = render(request, template, {**shared, **(context or {})}, status_code)
    if new:  # as `session.render_form` does; kept here so that session.py can use this module
        set_cookie(request, response, CSRF_COOKIE, secret)
    return response


def not_found(request: Request, actor: Actor) -> Response:
    """The same page for a record that does not exist and one outside the user's scope."""
    return render_page(request, actor, "not_found.html", status_code=404)


def forbidden(request: Request, actor: Actor) -> Response:
    """The user's role or sites do not allow this; nothing was done."""
    return render_page(request, actor, "forbidden.html", status_code=403)
