"""Recording from the household page that members of a household arrived, for a household that returned
on its own (a convoy's people are recorded at its arrival check-in). Calls `monitoring.arrivals`, as
`POST /api/v1/monitoring/arrivals` and `awda monitoring arrive` do; the arrival schedules the household's
follow-ups, and the page then says how many.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Permission, may
from awda.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from awda.monitoring import arrivals
from awda.web.deps import SessionDep, VaultDep
from awda.web.pages.arrival_form import ArrivalForm, ArrivalRefused, refusal_errors
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.households import household_again
from awda.web.pages.nav import forbidden, not_found
from awda.web.pages.registration import PostedForm

router = APIRouter(include_in_schema=False)


@router.post("/households/{uid}/arrivals")
def record(
    request: Request, session: SessionDep, vault: VaultDep, actor: PageActor, uid: str, posted: PostedForm
) -> Response:
    """Record the arrival of the checked members; problems come back next to the fields, nothing written."""
    check_form(request, str(posted.get("csrf_token", "")))
    if not may(actor, Permission.RECORD_ARRIVALS):  # before the form is read: a refused role learns nothing
        return forbidden(request, actor)
    form = ArrivalForm.read(posted)
    try:
        recorded = arrivals.record_arrival(session, actor, form.command(uid))
    except (ArrivalRefused, ValidationFailed, Conflict) as error:
        form.errors = refusal_errors(error)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    else:
        target = f"/households/{uid}?done=arrived&scheduled={recorded.followups_scheduled}#followups"
        return RedirectResponse(target, status_code=303)
    try:
        return household_again(request, session, vault, actor, uid, {"arrival": form})
    except NotFound:  # a refused form for a household the user may not see
        return not_found(request, actor)
