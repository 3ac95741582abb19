"""Protection incidents from the pages: the list of the user's sites (filtered as the API allows), record
one from the household page of the people it affected, its page, and raising or lowering its
verification. Calls `monitoring.incidents`, as the API does.
The reporter's identity is not taken here (it is sealed, and the field forms carry it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Permission, may
from awda.access.services import own_sites
from awda.agreements.services import list_agreements
from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from awda.monitoring import incidents
from awda.monitoring.commands import IncidentIn
from awda.monitoring.rules import Verification
from awda.web.deps import SessionDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset, message_for, validation_errors
from awda.web.pages.households import household_again
from awda.web.pages.labels import INCIDENT_CODES, N_
from awda.web.pages.nav import forbidden, not_found, render_page
from awda.web.pages.registration import PostedForm

router = APIRouter(include_in_schema=False)
INCIDENT_FIELDS = ("type", "occurred_on", "date_precision", "place", "perpetrator_category", "source", "verification")
DONE = {"recorded": N_("The incident is recorded."), "verified": N_("The verification level is changed.")}
PROBLEMS = {"stale": N_("Someone else changed this incident meanwhile. Here is its current state.")}


def incident_command(uid: str, values: dict[str, str], members: list[str]) -> IncidentIn:
    """The form as an `IncidentIn`; refusals as FormErrors-like {field: message} in `IncidentRefused`."""
    given = {name: value for name, value in values.items() if value}
    persons = [{"household_uid": uid, "member_index": int(index)} for index in members if index.isdigit()]
    if not persons:
        raise IncidentRefused({"persons": message_for("persons")})
    try:
        return IncidentIn(**given, persons=persons)  # pydantic checks the text
    except ValidationError as error:
        raise IncidentRefused(validation_errors(error)) from None
    except ValidationFailed as error:
        raise IncidentRefused({error.field: message_for(error.field)}) from None


class IncidentRefused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@router.post("/households/{uid}/incidents")
def record(
    request: Request, session: SessionDep, vault: VaultDep, actor: PageActor, uid: str, posted: PostedForm
) -> Response:
    """Record an incident affecting members of this household; problems come back next to the fields."""
    check_form(request, str(posted.get("csrf_token", "")))
    values = {name: str(posted.get(name, "")).strip()[:64] for name in INCIDENT_FIELDS}
    members = [str(value) for value in posted.getlist("members")]
    try:
        recorded = incidents.record_incident(session, vault, actor, incident_command(uid, values, members))
    except (IncidentRefused, ValidationFailed) as error:
        errors = error.errors if isinstance(error, IncidentRefused) else {error.field: message_for(error.field)}
        form = {"values": values, "members": members, "errors": errors}
        return household_again(request, session, vault, actor, uid, {"incident": form})
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    return RedirectResponse(f"/incidents/{recorded}?done=recorded", status_code=303)


FILTERS = ("type", "verification", "agreement", "site", "since", "until")
FilterQuery = Annotated[str, Query(max_length=32)]


def incident_filter(values: dict[str, str]) -> tuple[incidents.IncidentFilter, dict[str, str]]:
    """The list's filter from the query; an unreadable date is left out and named as the field's problem."""
    days: dict[str, date | None] = {"since": None, "until": None}
    errors = {}
    for name in days:
        try:
            days[name] = date.fromisoformat(values[name]) if values[name] else None
        except ValueError:
            errors[name] = message_for("incident_dates")
    given = {name: values[name] or None for name in ("type", "agreement", "verification", "site")}
    wanted = incidents.IncidentFilter(given["type"], given["agreement"], given["verification"], given["site"])
    return replace(wanted, since=days["since"], until=days["until"]), errors


@router.get("/incidents")
def incident_list(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    type: FilterQuery = "",
    verification: FilterQuery = "",
    agreement: FilterQuery = "",
    site: FilterQuery = "",
    since: FilterQuery = "",
    until: FilterQuery = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Incidents in the user's sites, newest first, 50 a page; narrowed as the API allows."""
    values = {"type": type, "verification": verification, "agreement": agreement, "site": site}
    values |= {"since": since, "until": until}
    wanted, errors = incident_filter(values)
    try:
        listed = incidents.list_incidents(
            session, actor, limit=PAGE_SIZE, offset=bounded_offset(offset), narrowed=wanted
        )
    except PermissionDenied:
        return forbidden(request, actor)
    listed["items"] = [item | {"occurred_on": date.fromisoformat(item["occurred_on"])} for item in listed["items"]]
    kept = tuple((name, values[name]) for name in FILTERS if values[name] and name not in errors)
    context = {
        "listed": listed,
        "pager": Pager("/incidents", listed["offset"], PAGE_SIZE, listed["total"], kept),
        "filters": values,
        "errors": errors,
        "sites": own_sites(session, actor),
        "agreements": list_agreements(session),
    }
    return render_page(request, actor, "incidents.html", context | INCIDENT_CODES, 422 if errors else 200)


@router.get("/incidents/{uid}")
def incident_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    uid: str,
    done: Annotated[str, Query(max_length=16)] = "",
    problem: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """An incident without its reporter: type, date, place, perpetrator, source, verification, terms."""
    try:
        view = incidents.incident_view(session, actor, uid)
    except (NotFound, PermissionDenied):
        return not_found(request, actor)
    view["occurred_on"] = date.fromisoformat(view["occurred_on"])
    context = {
        "incident": view,
        "may_verify": may(actor, Permission.VERIFY_INCIDENTS),
        "verifications": [level.value for level in Verification],
        "done": DONE.get(done),
        "problem": PROBLEMS.get(problem),
    }
    return render_page(request, actor, "incident.html", context)


@router.post("/incidents/{uid}/verification")
def verify(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    verification: Annotated[str, Form(max_length=16)] = "",
    version: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    """Raise or lower how far the incident is verified; a stale form changes nothing."""
    check_form(request, csrf_token)
    if verification not in {level.value for level in Verification}:
        return RedirectResponse(f"/incidents/{uid}", status_code=303)
    try:
        incidents.set_verification(session, actor, uid, verification, version)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except (StaleVersion, Conflict):
        return RedirectResponse(f"/incidents/{uid}?problem=stale", status_code=303)
    return RedirectResponse(f"/incidents/{uid}?done=verified", status_code=303)
