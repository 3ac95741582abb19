"""`/convoys`: the convoys of the user's sites, scheduling one, planning a week, a convoy's manifest with
check-in at departure and at arrival, closing its boarding after a confirmation page, the printable
manifest, and the missed-arrival alarm. Calls `convoys.*`, as the API does; the manifest opens names
(a logged read), so it is shown only on the convoy's own page.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Actor, Permission, may
from awda.access.services import own_sites
from awda.agreements.services import list_agreements
from awda.convoys import booking, checkin, services
from awda.convoys.commands import CheckInIn, PlanWeekIn
from awda.convoys.manifest import manifest_pdf as render_manifest_pdf
from awda.convoys.manifests import convoy_manifest
from awda.convoys.messages import sender_from_setting
from awda.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from awda.web.deps import RuntimeDep, SessionDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.convoy_forms import ScheduleForm, ScheduleRefused, refusal_errors
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset
from awda.web.pages.labels import N_
from awda.web.pages.nav import forbidden, has_sites, not_found, render_page
from awda.web.pages.registration import PostedForm

router = APIRouter(include_in_schema=False)
RECENT_DAYS = 14  # the list starts two weeks back, so convoys on the road are still in it
DONE = {
    "scheduled": N_("The convoy is scheduled. Plan its week to book the waiting households on it."),
    "departed": N_("Boarding is closed: the convoy is on the road."),
    "planned": N_("The week is planned: the waiting households are booked on its convoys."),
    "departures": N_("The departure check-in is recorded."),
    "arrivals": N_("The arrival check-in is recorded."),
}
PROBLEMS = {
    "plan": N_("The week could not be planned: check the week, or plan it again if another plan filled a convoy."),
    "checkin": N_("Nobody was checked in: choose people, and check that their household re-confirmed in time."),
    "departed": N_("Boarding of this convoy is closed already: it has left. Nothing was changed."),
}
CHECK_IN_KINDS = ("departures", "arrivals")
DoneQuery = Annotated[str, Query(max_length=16)]


def may_schedule(actor: Actor) -> bool:
    """The role schedules convoys (as the API's permission), at one site at least (the form offers them)."""
    return may(actor, Permission.MOVE_INTENTION) and has_sites(actor)


def _convoys_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    offset: int,
    extra: dict[str, Any],
    status: int = 200,
) -> Response:
    """The list with its forms; `extra` carries the notices, or a refused schedule form and its errors."""
    start = date.today() - timedelta(days=RECENT_DAYS)
    listed = services.list_convoys(session, actor, start, None, PAGE_SIZE, bounded_offset(offset))
    listed["items"] = [item | {"departs_on": date.fromisoformat(item["departs_on"])} for item in listed["items"]]
    scheduled = {item["departs_on"].isocalendar()[:2] for item in listed["items"] if item["status"] == "scheduled"}
    weeks = [{"code": f"{year}-W{week:02d}", "year": year, "number": week} for year, week in sorted(scheduled)]
    sites = own_sites(session, actor) if may_schedule(actor) else []
    context = {
        "listed": listed,
        "pager": Pager("/convoys", listed["offset"], PAGE_SIZE, listed["total"]),
        "weeks": weeks,
        "may_plan": may(actor, Permission.MOVE_INTENTION),
        "may_schedule": may_schedule(actor),
        "sites": sites,
        "agreements": list_agreements(session) if sites else [],
        "schedule": ScheduleForm.blank([site.code for site in sites]),
        "errors": {},
        "done": None,
        "problem": None,
    }
    return render_page(request, actor, "convoys.html", context | extra, status)


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
    try:
        return _convoys_page(
            request, session, actor, offset, {"done": DONE.get(done), "problem": PROBLEMS.get(problem)}
        )
    except PermissionDenied:
        return forbidden(request, actor)


@router.post("/convoys")
def schedule(request: Request, session: SessionDep, actor: PageActor, posted: PostedForm) -> Response:
    """Schedule a convoy, as the API does; a refused form comes back with each problem next to its field."""
    check_form(request, str(posted.get("csrf_token", "")))
    if not may_schedule(actor):
        return forbidden(request, actor)
    form = ScheduleForm.read(posted)
    try:
        code = services.schedule_convoy(session, actor, form.command())
    except PermissionDenied:
        return forbidden(request, actor)
    except (ScheduleRefused, NotFound, Conflict, ValidationFailed) as error:
        refused = {"schedule": form, "errors": refusal_errors(error)}
        return _convoys_page(request, session, actor, 0, refused, 422)
    return RedirectResponse(f"/convoys/{quote(code, safe='')}?done=scheduled", status_code=303)


@router.get("/convoys/missing")
def missing(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: PageActor, done: DoneQuery = ""
) -> Response:
    """The missed-arrival alarm, as the API reports it: who left more than the alarm's hours ago, not arrived."""
    try:
        report = checkin.missed_arrivals(session, actor, runtime.settings.arrival_alarm_hours)
    except PermissionDenied:
        return forbidden(request, actor)
    convoys = [_missing_row(entry) for entry in report["convoys"]]
    context = {
        "hours": report["hours"],
        "convoys": convoys,
        "total": report["total"],
        "may_raise": may(actor, Permission.MOVE_INTENTION),
        "done": done == "alarm",
    }
    return render_page(request, actor, "convoys_missing.html", context)


@router.post("/convoys/missing")
def raise_alarm(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Record the alarm for every convoy listed (once each, an event for the log), as `--raise-alarm` does."""
    check_form(request, csrf_token)
    try:
        checkin.missed_arrivals(session, actor, runtime.settings.arrival_alarm_hours, raise_alarm=True)
    except PermissionDenied:
        return forbidden(request, actor)
    return RedirectResponse("/convoys/missing?done=alarm", status_code=303)


def _missing_row(entry: dict[str, Any]) -> dict[str, Any]:
    """One convoy of the alarm: how many people and households are not confirmed, since when."""
    persons = entry["persons"]
    return {
        "code": entry["convoy"],
        "departs_on": date.fromisoformat(entry["departs_on"]),
        "left_at": min(datetime.fromisoformat(person["departed_at"]) for person in persons),
        "people": len(persons),
        "households": len({person["household"] for person in persons}),
        "alarm_raised_at": datetime.fromisoformat(entry["alarm_raised_at"]) if entry.get("alarm_raised_at") else None,
    }


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
    released: Annotated[int | None, Query(ge=0, le=100_000)] = None,
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
        "released": released if done == "departed" else None,
        "problem": PROBLEMS.get(problem),
    }
    return render_page(request, actor, "convoy.html", context)


@router.get("/convoys/{code}/depart")
def depart_confirmation(request: Request, session: SessionDep, actor: PageActor, code: str) -> Response:
    """Closing boarding asks first, on a page of its own: who boarded, and what happens to the others."""
    if not may(actor, Permission.MOVE_INTENTION):
        return forbidden(request, actor)
    try:
        convoy = services.convoy_view(session, actor, code)
    except NotFound:
        return not_found(request, actor)
    if convoy["status"] != "scheduled":
        return RedirectResponse(f"/convoys/{quote(convoy['code'], safe='')}?problem=departed", status_code=303)
    context = {"convoy": convoy | {"departs_on": date.fromisoformat(convoy["departs_on"])}}
    return render_page(request, actor, "convoy_depart.html", context)


@router.post("/convoys/{code}/depart")
def depart(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    code: str,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Close boarding, as the API does: the convoy leaves, booked households that did not board go back."""
    check_form(request, csrf_token)
    back = f"/convoys/{quote(code.strip().upper(), safe='')}"
    try:
        departed = booking.depart_convoy(session, actor, code, runtime.settings.reconfirm_days)
    except PermissionDenied:
        return forbidden(request, actor)
    except NotFound:
        return not_found(request, actor)
    except Conflict:
        return RedirectResponse(f"{back}?problem=departed", status_code=303)
    released = departed["released"]
    on_the_list = released["not_reconfirmed"] + released["missed_convoy"]  # the withdrawn stay withdrawn
    return RedirectResponse(f"{back}?done=departed&released={on_the_list}", status_code=303)


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
    if kind not in CHECK_IN_KINDS:
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
