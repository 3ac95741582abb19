"""`/households`: the list in the user's scope (paged, by site), the exact search, and one household.

The list shows structure only (no personal field); a household's page opens its members through
`readers.household_for`, which logs the read. Searches are posted, so a phone or document number
never appears in a URL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from awda.access import readers
from awda.access.rules import Actor, Permission, may
from awda.access.services import own_sites
from awda.agreements.services import list_agreements
from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from awda.households import services
from awda.households.rules import DOCUMENT_TYPES
from awda.web.deps import SessionDep, VaultDep
from awda.web.pages.arrival_form import ArrivalForm
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.cards import cards_of_members
from awda.web.pages.followups import OUTCOMES, assignable_monitors, followups_for_page
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset, failure_errors, message_for
from awda.web.pages.forms_household import INTENTION_FIELDS, FormErrors, HouseholdForm, intention_command
from awda.web.pages.intentions import intention_actions
from awda.web.pages.labels import INCIDENT_CODES, N_
from awda.web.pages.nav import forbidden, not_found, render_page
from awda.web.pages.registration import PostedForm, vocabularies

router = APIRouter(include_in_schema=False)
ACTIVE = frozenset({"registered", "waitlisted", "assigned", "departed"})  # intentions that block a new one

# What a page says after an action sent the user back to the household (codes only in the URL).
DONE = {
    "registered": N_("The household is registered."),
    "declared": N_("The intention is recorded."),
    "status": N_("The intention's status is changed."),
    "reconfirmed": N_("The intention is re-confirmed."),
    "member": N_("The member is added."),
    "consent": N_("The consent is recorded."),
    "consent_withdrawn": N_("All consent is withdrawn, and the open intentions with it."),
    "followup": N_("The follow-up is recorded."),
    "assigned": N_("The household's open follow-ups are given to the monitor."),
    "arrived": N_("The arrival is recorded."),
}
NEEDS_CONSENT = N_("The household must consent to movement and have no other active intention.")
PROBLEMS = {
    "stale": N_("Someone else changed this intention meanwhile. Here is its current state: check it and try again."),
    "conflict": N_("This change is not possible in the intention's current state."),
    "reconfirm": N_("A departure needs a re-confirmation within the last days. Re-confirm first."),
    "reason": N_("Choose a reason from the list."),
    "not_issued": N_("No card was issued: the household has not consented to a card, or the agreement is unknown."),
    "followup": N_("Choose the outcome and the day of the contact; it cannot be before the arrival."),
    "stale_followup": N_("This follow-up was recorded or changed meanwhile. Here is its current state."),
    "stale_household": N_("Someone else changed this household meanwhile. Here is its current state: try again."),
}


def _search_context(session: SessionDep, actor: Actor) -> dict[str, Any]:
    return {
        "sites": own_sites(session, actor),
        "search_kinds": readers.SEARCH_KINDS,
        "document_types": sorted(DOCUMENT_TYPES),
        "may_search": may(actor, Permission.READ_PERSONAL),
        "may_register": may(actor, Permission.REGISTER),
    }


@router.get("/households")
def household_list(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    site: Annotated[str, Query(max_length=32)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """A page of the households in scope, oldest registration first; filtered by one site if asked."""
    try:
        listed = readers.list_households(session, actor, site or None, PAGE_SIZE, bounded_offset(offset))
    except PermissionDenied:
        return forbidden(request, actor)
    listed["items"] = [_dated(item, "registered_on") for item in listed["items"]]
    parameters = (("site", site),) if site else ()
    pager = Pager("/households", listed["offset"], PAGE_SIZE, listed["total"], parameters)
    context = {"listed": listed, "pager": pager, "site": site, "found": None, "search": {}, "errors": {}}
    return render_page(request, actor, "households.html", context | _search_context(session, actor))


@router.post("/households/search")
def household_search(
    request: Request,
    session: SessionDep,
    vault: VaultDep,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(max_length=16)] = "reference",
    value: Annotated[str, Form(max_length=100)] = "",
    document_type: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Households by exact reference, phone or document; one match opens it, several are listed."""
    check_form(request, csrf_token)
    search = {"kind": kind, "value": value, "document_type": document_type}
    context: dict[str, Any]
    try:
        found = readers.find_households(session, vault, actor, kind, value, document_type)
    except PermissionDenied:
        return forbidden(request, actor)
    except ValidationFailed as error:
        field = "value" if error.field in {"phone", "search"} else error.field
        errors = {field: failure_errors(error)[error.field]}
        context = {"listed": None, "pager": None, "site": "", "found": None, "search": search, "errors": errors}
        return render_page(request, actor, "households.html", context | _search_context(session, actor), 422)
    if len(found) == 1:
        return RedirectResponse(f"/households/{found[0]}", status_code=303)
    context = {"listed": None, "pager": None, "site": "", "found": found, "search": search, "errors": {}}
    return render_page(request, actor, "households.html", context | _search_context(session, actor))


def _dated(view: dict[str, Any], *names: str) -> dict[str, Any]:
    """The view with its ISO dates and times as values the page's `date` and `datetime` filters format."""
    parsed = {
        name: (datetime.fromisoformat(view[name]) if "T" in view[name] else date.fromisoformat(view[name]))
        for name in names
        if view.get(name)
    }
    return view | parsed


def presentable(household: dict[str, Any]) -> dict[str, Any]:
    intentions = [
        _dated(item, "declared_on", "reconfirmed_at") | {"history": [_dated(step, "at") for step in item["history"]]}
        for item in household["intentions"]
    ]
    return _dated(household, "registered_on") | {"intentions": intentions}


def household_context(session: SessionDep, vault: VaultDep, actor: Actor, uid: str) -> dict[str, Any]:
    """What the household page shows: the household (a logged read), what the user may do to it, empty forms."""
    household = presentable(readers.household_for(session, vault, actor, uid))
    open_record = not household["erased"]
    consent = household["consent"] if household["consent"] and not household["consent"]["withdrawn"] else None
    active = any(item["status"] in ACTIVE for item in household["intentions"])
    records = {
        "household": household,
        "actions": {item["uid"]: intention_actions(actor, item) for item in household["intentions"]},
        "cards": cards_of_members(session, actor, household["members"]) if open_record else {},
        "followups": followups_for_page(session, actor, uid) if open_record else [],
        "monitors": assignable_monitors(session, actor, uid) if open_record else [],
        "agreements": list_agreements(session),
    }
    allowed = {
        "may_declare": may(actor, Permission.DECLARE_INTENTION) and not active and open_record,
        "may_register": may(actor, Permission.REGISTER) and open_record,
        "may_issue": may(actor, Permission.ISSUE_CARDS) and consent is not None and "card" in consent["purposes"],
        "may_record_incident": may(actor, Permission.RECORD_INCIDENTS) and open_record,
        "may_record_arrival": may(actor, Permission.RECORD_ARRIVALS) and open_record,
        "may_follow_up": may(actor, Permission.FOLLOW_UP) and open_record,
        "may_assign": may(actor, Permission.ASSIGN_FOLLOWUPS) and open_record,
    }
    return vocabularies() | INCIDENT_CODES | {"outcomes": OUTCOMES} | records | allowed | _empty_forms(household)


def _empty_forms(household: dict[str, Any]) -> dict[str, Any]:
    """The household page's forms before anything is typed into them."""
    consent = household["consent"]
    chosen = consent["purposes"] if consent and not consent["withdrawn"] else ["registration"]
    next_row = max((member["member_index"] for member in household["members"]), default=0) + 1
    today = date.today().isoformat()
    return {
        "declare": {"values": {}, "errors": {}},
        "member": {"form": HouseholdForm(), "row": next_row, "errors": {}},
        "consent_form": {"chosen": chosen, "errors": {}},
        "incident": {"values": {"occurred_on": today, "date_precision": "day"}, "members": [], "errors": {}},
        "assign": {"value": "", "errors": {}},
        "arrival": ArrivalForm.blank(household),
        "today": today,
        "focus": "",
    }


def household_again(
    request: Request, session: SessionDep, vault: VaultDep, actor: Actor, uid: str, refused: dict[str, Any]
) -> Response:
    """The household page again (422) with one refused form: its values kept, its problems next to its fields."""
    context = household_context(session, vault, actor, uid) | {"done": None, "problem": None, "scheduled": None}
    return render_page(request, actor, "household.html", context | refused, 422)


@router.get("/households/{uid}")
def household_page(
    request: Request,
    session: SessionDep,
    vault: VaultDep,
    actor: PageActor,
    uid: str,
    done: Annotated[str, Query(max_length=16)] = "",
    problem: Annotated[str, Query(max_length=16)] = "",
    scheduled: Annotated[int | None, Query(ge=0, le=1000)] = None,
) -> Response:
    """One household: members (names isolated for mixed scripts), consent, intentions and their actions."""
    try:
        context = household_context(session, vault, actor, uid)
    except NotFound:
        return not_found(request, actor)
    notes: dict[str, Any] = {"done": DONE.get(done), "problem": PROBLEMS.get(problem)}
    notes["scheduled"] = scheduled if done == "arrived" else None  # how many follow-ups the arrival added
    return render_page(request, actor, "household.html", context | notes)


@router.post("/households/{uid}/intentions")
def declare(
    request: Request, session: SessionDep, vault: VaultDep, actor: PageActor, uid: str, posted: PostedForm
) -> Response:
    """Record a new intention; problems come back next to the fields of the household page's form."""
    check_form(request, str(posted.get("csrf_token", "")))
    values = {name: str(posted.get(name, "")).strip()[:32] for name in INTENTION_FIELDS}
    version = str(posted.get("version", ""))
    try:
        command = intention_command(values)
        if command is None:
            raise FormErrors({"intention_kind": message_for("kind")})
        services.declare_intention(session, actor, uid, command, int(version) if version.isdigit() else None)
    except StaleVersion:
        return RedirectResponse(f"/households/{uid}?problem=stale", status_code=303)
    except PermissionDenied:
        return forbidden(request, actor)
    except (FormErrors, ValidationFailed, NotFound, Conflict) as error:
        errors = declare_errors(error)
        if errors is None:
            return not_found(request, actor)
        return household_again(request, session, vault, actor, uid, {"declare": {"values": values, "errors": errors}})
    return RedirectResponse(f"/households/{uid}?done=declared", status_code=303)


def declare_errors(error: Exception) -> dict[str, str] | None:
    """A refused declaration as {form field: message}; None when the household itself was not found."""
    if isinstance(error, FormErrors):
        return error.errors
    if isinstance(error, ValidationFailed):
        return {error.field: message_for(error.field)}
    if isinstance(error, Conflict):
        return {"intention_kind": NEEDS_CONSENT}
    for field in ("origin_pcode", "destination_pcode"):
        if str(error).startswith(field):
            return {field: message_for(field)}
    return None
