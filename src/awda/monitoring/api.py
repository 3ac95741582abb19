"""`/api/v1/monitoring`: arrivals, follow-ups and incidents (thin shell over the services)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response, status

from awda.days import Day
from awda.monitoring import arrivals, followups, incidents
from awda.monitoring.commands import ArrivalIn, AssignIn, FollowUpOutcomeIn, IncidentIn, VerificationIn
from awda.web.deps import CurrentActor, IfMatch, RuntimeDep, SessionDep, VaultDep, etag
from awda.web.edge import Limit, Offset

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


@router.post("/arrivals", status_code=status.HTTP_201_CREATED)
def record_arrival(command: ArrivalIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    recorded = arrivals.record_arrival(session, actor, command)
    return {"arrival_ids": recorded.arrival_uids, "followups_scheduled": recorded.followups_scheduled}


@router.get("/households/{uid}/arrivals")
def household_arrivals(uid: str, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    return arrivals.arrivals_of_household(session, actor, uid)


@router.get("/households/{uid}/followups")
def household_followups(uid: str, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    return followups.followups_of_household(session, actor, uid)


@router.get("/followups/overdue")
def overdue(
    session: SessionDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    monitor: str | None = None,
    today: Day | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    grace = runtime.settings.followup_grace_days
    return followups.overdue_followups(session, actor, today or date.today(), grace, monitor, limit, offset)


@router.get("/followups/unreached")
def unreached(
    session: SessionDep, actor: CurrentActor, runtime: RuntimeDep, today: Day | None = None
) -> list[dict[str, Any]]:
    limit = runtime.settings.followup_escalate_days
    return followups.unreached_households(session, actor, today or date.today(), limit)


@router.post("/followups/{uid}/outcome")
def record_outcome(
    uid: str, command: FollowUpOutcomeIn, session: SessionDep, actor: CurrentActor, version: IfMatch, response: Response
) -> dict[str, Any]:
    new_version = followups.record_outcome(session, actor, uid, command, version)
    response.headers["ETag"] = etag(new_version)
    return {"followup_id": uid, "outcome": command.outcome, "version": new_version}


@router.post("/households/{uid}/followups/monitor")
def assign(uid: str, command: AssignIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    assigned = followups.assign_followups(session, actor, uid, command.monitor)
    return {"household_id": uid, "monitor": command.monitor, "followups": assigned}


@router.post("/incidents", status_code=status.HTTP_201_CREATED)
def record_incident(
    command: IncidentIn, session: SessionDep, vault: VaultDep, actor: CurrentActor, response: Response
) -> dict[str, Any]:
    uid = incidents.record_incident(session, vault, actor, command)
    response.headers["ETag"] = etag(1)
    return incidents.incident_view(session, actor, uid)


@router.get("/incidents")
def list_incidents(
    session: SessionDep,
    actor: CurrentActor,
    type: str | None = None,
    agreement: str | None = None,
    verification: str | None = None,
    site: str | None = None,
    since: Day | None = None,
    until: Day | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    narrowed = incidents.IncidentFilter(type, agreement, verification, site, since, until)
    return incidents.list_incidents(session, actor, limit=limit, offset=offset, narrowed=narrowed)


@router.get("/incidents/{uid}")
def get_incident(uid: str, session: SessionDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    view = incidents.incident_view(session, actor, uid)
    response.headers["ETag"] = etag(int(view["version"]))
    return view


@router.get("/incidents/{uid}/reporter")
def get_reporter(uid: str, session: SessionDep, vault: VaultDep, actor: CurrentActor) -> dict[str, Any]:
    return incidents.read_reporter(session, vault, actor, uid)


@router.post("/incidents/{uid}/verification")
def verify(
    uid: str, command: VerificationIn, session: SessionDep, actor: CurrentActor, version: IfMatch, response: Response
) -> dict[str, Any]:
    new_version = incidents.set_verification(session, actor, uid, command.verification, version)
    response.headers["ETag"] = etag(new_version)
    return {"incident_id": uid, "verification": command.verification, "version": new_version}
