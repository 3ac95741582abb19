"""`/waitlists`: the waiting lists of the user's sites, and one list page by page in its written order.

Structure only (positions, people, needs score, expected convoy): no name is opened here; a row
links to the household's page, where the intention is worked (waitlisted, assigned, withdrawn).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from awda.convoys import waitlists
from awda.errors import NotFound, PermissionDenied
from awda.web.deps import RuntimeDep, SessionDep
from awda.web.pages.auth import PageActor
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset
from awda.web.pages.nav import forbidden, not_found, render_page

router = APIRouter(include_in_schema=False)


def _dated(item: dict[str, Any]) -> dict[str, Any]:
    return item | {"waiting_since": date.fromisoformat(item["waiting_since"])}


@router.get("/waitlists")
def waiting_lists(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """Every list in the user's sites: origin, destination, households and people waiting."""
    try:
        lists = waitlists.list_summaries(session, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    return render_page(request, actor, "waitlists.html", {"lists": lists})


@router.get("/waitlists/{origin}/{destination}")
def waiting_list(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    origin: str,
    destination: str,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """One list, 50 households a page, in its documented order, with each household's expected convoy."""
    days = runtime.settings.waitlist_priority_days
    try:
        listed = waitlists.waiting_list(
            session, actor, origin, destination, date.today(), PAGE_SIZE, bounded_offset(offset), days
        )
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    path = f"/waitlists/{listed['origin']}/{listed['destination']}"
    pager = Pager(path, listed["offset"], PAGE_SIZE, listed["total"])
    listed["items"] = [_dated(item) for item in listed["items"]]
    return render_page(request, actor, "waitlist.html", {"listed": listed, "pager": pager})
