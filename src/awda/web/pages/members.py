"""A registered household's members and consent, from its page: add a member, record a new consent,
withdraw all consent (after a confirmation page: it withdraws the open intentions too).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from awda.households import services
from awda.households.commands import ConsentIn
from awda.web.deps import SessionDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.forms import MAX_MEMBER_INDEX, message_for
from awda.web.pages.forms_household import FormErrors, HouseholdForm, person_command
from awda.web.pages.households import household_again
from awda.web.pages.nav import forbidden, not_found, render_page
from awda.web.pages.registration import PostedForm

router = APIRouter(include_in_schema=False)


def _version(text: object) -> int | None:
    return int(str(text)) if str(text).isdigit() else None


def _stale(uid: str) -> Response:
    return RedirectResponse(f"/households/{uid}?problem=stale_household", status_code=303)


@router.post("/households/{uid}/members")
def add_member(
    request: Request, session: SessionDep, vault: VaultDep, actor: PageActor, uid: str, posted: PostedForm
) -> Response:
    """Add a member; problems come back next to the fields of the household page's member form."""
    check_form(request, str(posted.get("csrf_token", "")))
    row = min(max(_version(posted.get("row")) or 1, 1), MAX_MEMBER_INDEX)  # a used index is refused below
    form = HouseholdForm.read_member(posted, row)
    try:
        person = person_command(form, row)
        services.add_member(session, vault, actor, uid, person, _version(posted.get("version")))
    except (FormErrors, Conflict) as error:
        errors = error.errors if isinstance(error, FormErrors) else _second_head(form, row)
        if errors is None:  # the index was taken meanwhile
            return _stale(uid)
        return household_again(request, session, vault, actor, uid, {"member": _member(form, row, errors)})
    except StaleVersion:
        return _stale(uid)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    return RedirectResponse(f"/households/{uid}?done=member", status_code=303)


def _second_head(form: HouseholdForm, row: int) -> dict[str, str] | None:
    """The refusal of a second head, next to the relationship; None for any other conflict."""
    if form.value(f"m{row}_relationship") != "head":
        return None
    return {f"m{row}_relationship": message_for("relationship")}


def _member(form: HouseholdForm, row: int, errors: dict[str, str]) -> dict[str, object]:
    return {"form": form, "row": row, "errors": errors}


@router.post("/households/{uid}/consent")
def record_consent(
    request: Request, session: SessionDep, vault: VaultDep, actor: PageActor, uid: str, posted: PostedForm
) -> Response:
    """Record the consent the household gives now; it supersedes the earlier one, which stays in the history."""
    check_form(request, str(posted.get("csrf_token", "")))
    purposes = [str(value) for value in posted.getlist("purposes")]
    try:
        consent = ConsentIn(purposes=purposes, given_on=date.today())
        services.record_consent(session, actor, uid, consent, _version(posted.get("version")))
    except (ValidationFailed, ValidationError):
        errors = {"consent_purposes": message_for("consent_purposes")}
        consent_form = {"chosen": purposes, "errors": errors}
        return household_again(request, session, vault, actor, uid, {"consent_form": consent_form})
    except StaleVersion:
        return _stale(uid)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    return RedirectResponse(f"/households/{uid}?done=consent", status_code=303)


@router.get("/households/{uid}/consent/withdraw")
def withdraw_confirmation(
    request: Request, actor: PageActor, uid: str, version: Annotated[int, Query(ge=0)] = 0
) -> Response:
    """Withdrawing consent asks first, on a page of its own."""
    return render_page(request, actor, "consent_withdraw.html", {"uid": uid, "version": version})


@router.post("/households/{uid}/consent/withdraw")
def withdraw_consent(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    """Withdraw all consent; the household's open intentions are withdrawn with it, without penalty."""
    check_form(request, csrf_token)
    try:
        services.withdraw_consent(session, actor, uid, version)
    except StaleVersion:
        return _stale(uid)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    return RedirectResponse(f"/households/{uid}?done=consent_withdrawn", status_code=303)
