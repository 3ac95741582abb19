"""`/api/v1/convoys` and `/api/v1/status`: schedules, waiting lists, plans, check-in, alarms, self-lookup.

Thin shell over the services. `/status` is the only route a household uses: no account, its
reference code and PIN in the body (never in a URL, so that no log line carries them).
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from fastapi import APIRouter, Response, status

from awda.access import throttle
from awda.convoys import booking, checkin, selfservice, services, waitlists
from awda.convoys.commands import CheckInIn, ConvoyIn, PlanWeekIn, StatusLookupIn
from awda.convoys.manifest import manifest_csv as write_manifest_csv
from awda.convoys.manifest import manifest_pdf as render_manifest_pdf
from awda.convoys.manifests import convoy_manifest
from awda.convoys.messages import sender_from_setting
from awda.convoys.waitlist_rules import iso_week_bounds
from awda.days import Day
from awda.errors import ValidationFailed
from awda.settings import Settings
from awda.web.deps import ClientAddress, CurrentActor, RuntimeDep, SessionDep, VaultDep
from awda.web.edge import Hours, Limit, Offset

router = APIRouter(prefix="/convoys", tags=["convoys"])
status_router = APIRouter(prefix="/status", tags=["households' own status"])


@router.post("", status_code=status.HTTP_201_CREATED)
def schedule(command: ConvoyIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    services.schedule_convoy(session, actor, command)
    return services.convoy_view(session, actor, command.code)


@router.get("")
def list_convoys(
    session: SessionDep, actor: CurrentActor, week: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    start = end = None
    if week is not None:
        try:
            start, end = iso_week_bounds(week)
        except ValueError as error:
            raise ValidationFailed("week", str(error)) from None
    return services.list_convoys(session, actor, start, end, limit, offset)


@router.get("/waitlists")
def waiting_lists(session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    return waitlists.list_summaries(session, actor)


@router.get("/waitlists/{origin}/{destination}")
def waiting_list(
    origin: str,
    destination: str,
    session: SessionDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    today: Day | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    days = runtime.settings.waitlist_priority_days
    return waitlists.waiting_list(session, actor, origin, destination, today or date.today(), limit, offset, days)


@router.get("/missing")
def missing(
    session: SessionDep, actor: CurrentActor, runtime: RuntimeDep, hours: Hours | None = None
) -> dict[str, Any]:
    return checkin.missed_arrivals(session, actor, hours or runtime.settings.arrival_alarm_hours)


@router.post("/plan")
def plan(
    command: PlanWeekIn, session: SessionDep, actor: CurrentActor, runtime: RuntimeDep, vault: VaultDep
) -> dict[str, Any]:
    planned = booking.plan_week(session, actor, command)
    result = planned.summary()
    if command.notify:
        settings = runtime.settings
        sender = sender_from_setting(settings.message_sender, settings.data_dir)
        result["messages"] = booking.notify_bookings(
            session, vault, actor, planned.booked, sender, settings.reconfirm_days
        )
    return result


@router.get("/{code}")
def show(code: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return services.convoy_view(session, actor, code)


@router.get("/{code}/manifest.csv", response_class=Response)
def manifest_csv(code: str, session: SessionDep, actor: CurrentActor, runtime: RuntimeDep, vault: VaultDep) -> Response:
    manifest = convoy_manifest(session, vault, actor, code, runtime.settings.reconfirm_days)
    buffer = io.StringIO(newline="")
    write_manifest_csv(manifest, buffer)
    headers = {"Content-Disposition": f'attachment; filename="{manifest.convoy_code}.csv"', "Cache-Control": "no-store"}
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/{code}/manifest.pdf", response_class=Response)
def manifest_pdf(code: str, session: SessionDep, actor: CurrentActor, runtime: RuntimeDep, vault: VaultDep) -> Response:
    manifest = convoy_manifest(session, vault, actor, code, runtime.settings.reconfirm_days)
    headers = {"Content-Disposition": f'attachment; filename="{manifest.convoy_code}.pdf"', "Cache-Control": "no-store"}
    return Response(render_manifest_pdf(manifest), media_type="application/pdf", headers=headers)


@router.post("/{code}/departures")
def departures(
    code: str, command: CheckInIn, session: SessionDep, actor: CurrentActor, runtime: RuntimeDep
) -> dict[str, Any]:
    return checkin.check_in_departure(session, actor, code, command, runtime.settings.reconfirm_days)


@router.post("/{code}/arrivals")
def arrivals(code: str, command: CheckInIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return checkin.check_in_arrival(session, actor, code, command)


@router.post("/{code}/depart")
def depart(code: str, session: SessionDep, actor: CurrentActor, runtime: RuntimeDep) -> dict[str, Any]:
    return booking.depart_convoy(session, actor, code, runtime.settings.reconfirm_days)


def _limits(settings: Settings) -> selfservice.Limits:
    return selfservice.Limits(
        settings.pin_max_failures, settings.pin_lock_minutes, settings.reconfirm_days, settings.waitlist_priority_days
    )


@status_router.post("")
def own_status(
    command: StatusLookupIn, session: SessionDep, runtime: RuntimeDep, vault: VaultDep, address: ClientAddress
) -> dict[str, Any]:
    """A household's own status: position, expected week, convoy date. Nothing about anyone else.

    Wrong PINs lock the reference; too many failed lookups from one address lock the address (429).
    """
    limits = _limits(runtime.settings)
    with throttle.guarded(runtime, [throttle.address_gate(runtime, "status-address", address)]):
        return selfservice.household_status(session, vault, command.reference, command.pin, date.today(), limits)


@status_router.post("/reconfirm")
def reconfirm(
    command: StatusLookupIn, session: SessionDep, runtime: RuntimeDep, vault: VaultDep, address: ClientAddress
) -> dict[str, Any]:
    """The household re-confirms that it still wants to travel."""
    limits = _limits(runtime.settings)
    with throttle.guarded(runtime, [throttle.address_gate(runtime, "status-address", address)]):
        return selfservice.reconfirm_by_household(session, vault, command.reference, command.pin, date.today(), limits)
