"""`/convoys`: the convoys of the user's sites, planning a week, a convoy's manifest with check-in at
departure and at arrival, and the printable manifest. Calls `convoys.*`, as the API does; the manifest
opens names (a logged read), so it is shown only on the convoy's own page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Permission, may
from awda.convoys import booking, checkin, services
from awda.convoys.commands import CheckInIn, PlanWeekIn
from awda.convoys.manifest import manifest_pdf as render_manifest_pdf
from awda.convoys.manifests import convoy_manifest
from awda.convoys.messages import sender_from_setting
from awda.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from awda.web.deps import RuntimeDep, SessionDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset
from awda.web.pages.labels import N_
from awda.web.pages.nav import forbidden, not_found, render_page
from awda.web.pages.registration import PostedForm

router = APIRouter(include_in_schema=False)
RECENT_DAYS = 14  # the list starts two weeks back, so convoys on the road are still in it
DONE = {
    "planned": N_("The week is planned: the waiting households are booked on its convoys."),
    "departures": N_("The departure check-in is recorded."),
    "arrivals": N_("The arrival check-in is recorded."),
}
PROBLEMS = {
    "plan": N_("The week could not be planned: check the week, or plan it again if another plan filled a convoy."),
    "checkin": N_("Nobody was checked in: choose people, and check that their household re-confirmed in time."),
}


@router.get("/convoys")
def convoy_list(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    offset: Annotated[int, Query(ge=0)] = 0,
    done: Annotated[str, Query(max_length=16)] = "",
    problem: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Convoys from two weeks back on, earliest first, with their seats and bookings."""
    start = date.today() - timedelta(days=RECENT_DAYS)
    try:
        listed = services.list_convoys(session, actor, start, None, PAGE_SIZE, bounded_offset(offset))
    except PermissionDenied:
        return forbidden(request, actor)
    listed["items"] = [item | {"departs_on": date.fromisoformat(item["departs_on"])} for item in listed["items"]]
    scheduled = {item["departs_on"].isocalendar()[:2] for item in listed["items"] if item["status"] == "scheduled"}
    weeks = [{"code": f"{year}-W{week:02d}", "year": year, "number": week} for year, week in sorted(scheduled)]
    context = {
        "listed": listed,
        "pager": Pager("/convoys", listed["offset"], PAGE_SIZE, listed["total"]),
        "weeks": weeks,
        "may_plan": may(actor, Permission.MOVE_INTENTION),
        "done": DONE.get(done),
        "problem": PROBLEMS.get(problem),
    }
    return render_page(request, actor, "convoys.html", context)


@router.post("/convoys/plan")
def plan(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    vault: VaultDep,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    week: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Book the waiting households on the week's convoys, in list order, and tell them (as the API does)."""
    check_form(request, csrf_token)
    try:
        planned = booking.plan_week(session, actor, PlanWeekIn(week=week))
    except PermissionDenied:
        return forbidden(request, actor)
    except (ValidationError, ValidationFailed, Conflict):
        return RedirectResponse("/convoys?problem=plan", status_code=303)
    settings = runtime.settings
    sender = sender_from_setting(settings.message_sender, settings.data_dir)
    booking.notify_bookings(session, vault, actor, planned.booked, sender, settings.reconfirm_days)
    return RedirectResponse("/convoys?done=planned", status_code=303)


@router.get("/convoys/{code}")
def convoy_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    vault: VaultDep,
    actor: PageActor,
    code: str,
    done: Annotated[str, Query(max_length=16)] = "",
    problem: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """The convoy and its manifest (names: a logged read), with the check-in forms the role may use."""
    try:
        convoy = services.convoy_view(session, actor, code)
        manifest = convoy_manifest(session, vault, actor, code, runtime.settings.reconfirm_days)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    context = {
        "convoy": convoy | {"departs_on": date.fromisoformat(convoy["departs_on"])},
        "manifest": manifest,
        "may_board": may(actor, Permission.MOVE_INTENTION) and convoy["status"] == "scheduled",
        "may_arrive": may(actor, Permission.RECORD_ARRIVALS),
        "done": DONE.get(done),
        "problem": PROBLEMS.get(problem),
    }
    return render_page(request, actor, "convoy.html", context)


@router.get("/convoys/{code}/manifest.pdf")
def manifest_pdf(
    request: Request, session: SessionDep, runtime: RuntimeDep, vault: VaultDep, actor: PageActor, code: str
) -> Response:
    """The printable manifest (Arabic and English), as the API prints it."""
    try:
        manifest = convoy_manifest(session, vault, actor, code, runtime.settings.reconfirm_days)
    except NotFound:
        return not_found(request, actor)
    headers = {"Content-Disposition": 'inline; filename="manifest.pdf"', "Cache-Control": "no-store"}
    return Response(render_manifest_pdf(manifest), media_type="application/pdf", headers=headers)


@router.post("/convoys/{code}/{kind}")
def check_in(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    code: str,
    kind: str,
    posted: PostedForm,
) -> Response:
    """Check people in at the bus (`departures`) or at the destination (`arrivals`)."""
    check_form(request, str(posted.get("csrf_token", "")))
    if kind not in DONE or kind == "planned":
        return not_found(request, actor)
    persons = [str(value) for value in posted.getlist("persons")]
    try:
        command = CheckInIn(persons=persons)
        if kind == "departures":
            checkin.check_in_departure(session, actor, code, command, runtime.settings.reconfirm_days)
        else:
            checkin.check_in_arrival(session, actor, code, command)
    except PermissionDenied:
        return forbidden(request, actor)
    except (ValidationError, ValidationFailed, Conflict, NotFound):
        return RedirectResponse(f"/convoys/{code}?problem=checkin", status_code=303)
    return RedirectResponse(f"/convoys/{code}?done={kind}", status_code=303)
