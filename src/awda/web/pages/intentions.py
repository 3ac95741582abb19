"""An intention's status from the household page: change it, withdraw it (after a confirmation page),
re-confirm it. Each form carries the version the user saw; a stale one is refused, not applied.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from awda.access import readers
from awda.access.rules import Actor, Permission, has_permission
from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from awda.households import intentions
from awda.households.rules import OPEN_STATUSES, TRANSITION_REASONS, TRANSITIONS, IntentionStatus
from awda.web.deps import RuntimeDep, SessionDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.nav import forbidden, not_found, render_page

router = APIRouter(include_in_schema=False)

# Final statuses a user must confirm on a page of its own before they are applied.
CONFIRMED_TARGETS = frozenset({IntentionStatus.WITHDRAWN, IntentionStatus.CANCELLED})
REASONS = sorted(reason for reason in TRANSITION_REASONS if reason)


def _permission_for(target: IntentionStatus) -> Permission:
    return Permission.DECLARE_INTENTION if target == IntentionStatus.WITHDRAWN else Permission.MOVE_INTENTION


def intention_actions(actor: Actor, intention: dict[str, Any]) -> dict[str, Any]:
    """The statuses this user may move the intention to, and whether they may re-confirm it."""
    current = IntentionStatus(intention["status"])
    targets = sorted(target.value for target in TRANSITIONS[current] if has_permission(actor, _permission_for(target)))
    reconfirm = current in OPEN_STATUSES and has_permission(actor, Permission.DECLARE_INTENTION)
    return {"targets": targets, "reconfirm": reconfirm, "reasons": REASONS}


def problem_code(error: Exception, target: IntentionStatus) -> str:
    """The code of the message the household page shows for a refused change."""
    if isinstance(error, StaleVersion):
        return "stale"
    if isinstance(error, ValidationFailed):
        return "reason"
    return "reconfirm" if target == IntentionStatus.DEPARTED else "conflict"


def _back(session: SessionDep, actor: Actor, uid: str, query: str) -> Response:
    household = readers.intention_for(session, actor, uid)["household"]
    return RedirectResponse(f"/households/{household}?{query}#intention-{uid}", status_code=303)


@router.post("/intentions/{uid}/status")
def change_status(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    to: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    version: Annotated[int, Form(ge=0)] = 0,
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Move the intention to `to`; a withdrawal or cancellation shows a confirmation page first."""
    check_form(request, csrf_token)
    if to not in TRANSITIONS:
        return _back(session, actor, uid, "problem=conflict")
    target = IntentionStatus(to)
    try:
        if target in CONFIRMED_TARGETS and confirmed != "yes":
            return _confirmation(request, session, actor, uid, target, reason, version)
        intentions.change_status(session, actor, uid, target, reason, version, runtime.settings.reconfirm_days)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except (StaleVersion, ValidationFailed, Conflict) as error:
        return _back(session, actor, uid, f"problem={problem_code(error, target)}")
    return _back(session, actor, uid, "done=status")


def _confirmation(
    request: Request, session: SessionDep, actor: Actor, uid: str, target: IntentionStatus, reason: str, version: int
) -> Response:
    intention = readers.intention_for(session, actor, uid)
    context = {
        "intention": intention,
        "target": target.value,
        "reason": reason,
        "version": version,
        "action": f"/intentions/{uid}/status",
        "back": f"/households/{intention['household']}#intention-{uid}",
        "reasons": REASONS,
    }
    return render_page(request, actor, "intention_confirm.html", context)


@router.post("/intentions/{uid}/reconfirm")
def reconfirm(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    """The household confirms it still wants to travel."""
    check_form(request, csrf_token)
    try:
        intentions.reconfirm_intention(session, actor, uid, version)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except StaleVersion:
        return _back(session, actor, uid, "problem=stale")
    except Conflict:
        return _back(session, actor, uid, "problem=conflict")
    return _back(session, actor, uid, "done=reconfirmed")
