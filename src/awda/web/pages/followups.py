"""Follow-ups after return from the pages: the overdue list of the user's sites (paged), and recording a
follow-up's outcome from the household page. Calls `monitoring.followups`, as the API does.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Actor, Permission, may
from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from awda.monitoring import followups
from awda.monitoring.commands import FollowUpOutcomeIn
from awda.web.deps import RuntimeDep, SessionDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset
from awda.web.pages.nav import forbidden, not_found, render_page

router = APIRouter(include_in_schema=False)
OUTCOMES = ("reached", "not_reached", "moved", "refused")
UID = re.compile(r"^[0-9a-f-]{36}$")


def followups_for_page(session: SessionDep, actor: Actor, household_uid: str) -> list[dict[str, Any]]:
    """A household's follow-ups with their dates as values the page formats."""
    return [
        item | {name: date.fromisoformat(item[name]) for name in ("due_on", "contacted_on") if item[name]}
        for item in followups.followups_of_household(session, actor, household_uid)
    ]


def assignable_monitors(session: SessionDep, actor: Actor, household_uid: str) -> list[str]:
    """The monitors this user may give the household's follow-ups to; none for a role that may not assign."""
    if not may(actor, Permission.ASSIGN_FOLLOWUPS):
        return []
    return followups.monitors_for_household(session, actor, household_uid)


@router.get("/followups")
def overdue(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Follow-ups past their due date (and the grace days) with no outcome, oldest first."""
    grace = runtime.settings.followup_grace_days
    try:
        listed = followups.overdue_followups(
            session, actor, date.today(), grace, None, PAGE_SIZE, bounded_offset(offset)
        )
    except PermissionDenied:
        return forbidden(request, actor)
    listed["items"] = [item | {"due_on": date.fromisoformat(item["due_on"])} for item in listed["items"]]
    pager = Pager("/followups", listed["offset"], PAGE_SIZE, listed["total"])
    return render_page(request, actor, "followups.html", {"listed": listed, "pager": pager})


@router.post("/followups/{uid}/outcome")
def record_outcome(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    household: Annotated[str, Form(max_length=36)] = "",
    outcome: Annotated[str, Form(max_length=16)] = "",
    contacted_on: Annotated[str, Form(max_length=10)] = "",
    version: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    """Record how the contact went; problems send the user back to the household with a message."""
    check_form(request, csrf_token)
    if not UID.match(household):
        return not_found(request, actor)
    back = f"/households/{household}"
    try:
        command = FollowUpOutcomeIn(outcome=outcome, contacted_on=contacted_on)
        followups.record_outcome(session, actor, uid, command, version)
    except (ValidationError, ValidationFailed):
        return RedirectResponse(f"{back}?problem=followup#followups", status_code=303)
    except (StaleVersion, Conflict):
        return RedirectResponse(f"{back}?problem=stale_followup#followups", status_code=303)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    return RedirectResponse(f"{back}?done=followup#followups", status_code=303)
