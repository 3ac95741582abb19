"""`/households/new`: register a household, its members, its consent and (optionally) its intention.

The form works without JavaScript: "Add another member" posts the form back with one more row and
everything typed kept; "Register" turns it into the API's `HouseholdIn` and calls the same service.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Actor, Permission, may
from awda.access.services import own_sites
from awda.errors import NotFound, PermissionDenied, ValidationFailed
from awda.households import services
from awda.households.rules import CONSENT_PURPOSES, DOCUMENT_TYPES, RELATIONSHIPS, VULNERABILITIES, IntentionKind
from awda.web.deps import SessionDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.forms import message_for
from awda.web.pages.forms_household import MAX_ROWS, FormErrors, HouseholdForm, household_command
from awda.web.pages.nav import forbidden, has_sites, render_page

router = APIRouter(include_in_schema=False)
PURPOSE_ORDER = ("registration", "movement", "follow_up", "card", "card_name", "aggregate_sharing")


async def posted_form(request: Request) -> FormData:
    """The posted fields, read once (repeated names such as checkboxes kept)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def vocabularies() -> dict[str, Any]:
    """The codes the form offers, in a stable order (the page shows their translated words)."""
    assert set(PURPOSE_ORDER) == CONSENT_PURPOSES
    relationships = ["head", "spouse", *sorted(RELATIONSHIPS - {"head", "spouse"})]
    return {
        "relationships": relationships,
        "document_types": sorted(DOCUMENT_TYPES),
        "vulnerabilities": sorted(VULNERABILITIES),
        "purposes": PURPOSE_ORDER,
        "kinds": [kind.value for kind in IntentionKind],
    }


def _page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    form: HouseholdForm,
    errors: dict[str, str],
    status: int = 200,
    focus: str = "",
) -> Response:
    context = {"form": form, "errors": errors, "sites": own_sites(session, actor), "today": date.today().isoformat()}
    context["focus"] = focus
    return render_page(request, actor, "register.html", context | vocabularies(), status)


def may_register(actor: Actor) -> bool:
    """The role registers, and at one site at least (the form offers the user's sites)."""
    return may(actor, Permission.REGISTER) and has_sites(actor)


@router.get("/households/new")
def registration_form(request: Request, session: SessionDep, actor: PageActor) -> Response:
    if not may_register(actor):
        return forbidden(request, actor)
    codes = [site.code for site in own_sites(session, actor)]
    return _page(request, session, actor, HouseholdForm.blank(date.today(), codes), {})


@router.post("/households/new")
def register(request: Request, session: SessionDep, vault: VaultDep, actor: PageActor, posted: PostedForm) -> Response:
    """Register, or show the form again: with one more member row, or with each problem next to its field."""
    check_form(request, str(posted.get("csrf_token", "")))
    if not may_register(actor):
        return forbidden(request, actor)
    form = HouseholdForm.read(posted)
    if posted.get("add_member"):
        form.rows = min(form.rows + 1, MAX_ROWS)
        return _page(request, session, actor, form, {}, focus=f"m{form.rows}_given_name_ar")
    try:
        registered = services.register_household(session, vault, actor, household_command(form, actor.username))
    except FormErrors as problem:
        return _page(request, session, actor, form, problem.errors, 422)
    except (NotFound, PermissionDenied):
        return _page(request, session, actor, form, {"site_code": message_for("site_code")}, 422)
    except ValidationFailed as error:
        return _page(request, session, actor, form, {error.field: message_for(error.field)}, 422)
    return RedirectResponse(f"/households/{registered.household_uid}?done=registered", status_code=303)
