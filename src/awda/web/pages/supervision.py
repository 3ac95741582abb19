"""Supervising follow-ups from the pages: giving a household's follow-ups to a monitor (from the household
page), the households not reached for too long, and escalating them after a confirmation page. Calls
`monitoring.followups`, as the API and `awda monitoring assign|unreached` do.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Actor, Permission, may
from awda.errors import NotFound, PermissionDenied, ValidationFailed
from awda.monitoring import followups
from awda.monitoring.commands import AssignIn
from awda.web.deps import RuntimeDep, SessionDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset, message_for
from awda.web.pages.households import household_again
from awda.web.pages.nav import forbidden, not_found, render_page

router = APIRouter(include_in_schema=False)
MAX_DAYS = 3650  # the bound of the "not reached for" field: ten years
DaysQuery = Annotated[str, Query(max_length=8)]


@router.post("/households/{uid}/followups/monitor")
def assign(
    request: Request,
    session: SessionDep,
    vault: VaultDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    monitor: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Give the household's open follow-ups to a monitor; a refused monitor comes back next to the field."""
    check_form(request, csrf_token)
    try:
        followups.assign_followups(session, actor, uid, AssignIn(monitor=monitor).monitor)
    except (ValidationError, ValidationFailed):
        refused = {"assign": {"value": monitor, "errors": {"monitor": message_for("monitor")}}}
        return household_again(request, session, vault, actor, uid, refused)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    return RedirectResponse(f"/households/{uid}?done=assigned#followups", status_code=303)


def _days(text: str, default: int) -> tuple[int, dict[str, str]]:
    """The number of days asked for (the setting when none), or the setting and the field's problem."""
    if not text:
        return default, {}
    if text.isdigit() and 1 <= int(text) <= MAX_DAYS:
        return int(text), {}
    return default, {"after_days": message_for("after_days")}


def _unreached(session: SessionDep, actor: Actor, after_days: int) -> list[dict[str, Any]]:
    listed = followups.unreached_households(session, actor, date.today(), after_days)
    return [item | {"last_contact": date.fromisoformat(item["last_contact"])} for item in listed]


@router.get("/followups/unreached")
def unreached(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    after_days: DaysQuery = "",
    escalated: Annotated[int | None, Query(ge=0)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Households with a follow-up due and no successful contact for more than `after_days` days, 50 a page."""
    days, errors = _days(after_days, runtime.settings.followup_escalate_days)
    try:
        listed = _unreached(session, actor, days)
    except PermissionDenied:
        return forbidden(request, actor)
    start = bounded_offset(offset)
    pager = Pager("/followups/unreached", start, PAGE_SIZE, len(listed), (("after_days", str(days)),))
    context = {
        "listed": listed[start : start + PAGE_SIZE],
        "total": len(listed),
        "pager": pager,
        "after_days": after_days if errors else days,
        "days": days,
        "max_days": MAX_DAYS,
        "errors": errors,
        "escalated": escalated,
        "may_escalate": may(actor, Permission.ASSIGN_FOLLOWUPS),
    }
    return render_page(request, actor, "unreached.html", context, 422 if errors else 200)


@router.get("/followups/unreached/escalate")
def escalate_confirmation(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: PageActor, after_days: DaysQuery = ""
) -> Response:
    """Escalating asks first, on a page of its own, saying how many households it concerns."""
    if not may(actor, Permission.ASSIGN_FOLLOWUPS):
        return forbidden(request, actor)
    days, errors = _days(after_days, runtime.settings.followup_escalate_days)
    if errors:
        return RedirectResponse(f"/followups/unreached?after_days={days}", status_code=303)
    listed = _unreached(session, actor, days)
    return render_page(request, actor, "unreached_escalate.html", {"listed": listed, "after_days": days})


@router.post("/followups/unreached/escalate")
def escalate(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    after_days: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Mark the households not reached for too long as escalated (once per follow-up due); then say how many.

    The form is checked before its fields, so a forged one is refused the same way whatever it holds.
    """
    check_form(request, csrf_token)
    days, errors = _days(after_days, runtime.settings.followup_escalate_days)
    if errors:  # only a form not made by our page gets here: show the list, with the field's problem
        return RedirectResponse(f"/followups/unreached?after_days={quote(after_days[:8])}", status_code=303)
    try:
        escalated = followups.escalate_unreached(session, actor, date.today(), days)
    except PermissionDenied:
        return forbidden(request, actor)
    target = f"/followups/unreached?after_days={days}&escalated={len(escalated)}"
    return RedirectResponse(target, status_code=303)
