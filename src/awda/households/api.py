"""`/api/v1` routes for households, persons and intentions: thin shells over the services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from awda.access import readers
from awda.households import erasure, intentions, services
from awda.households.commands import ChangeStatusIn, ConsentIn, HouseholdIn, IntentionIn, PersonIn
from awda.households.rules import IntentionStatus
from awda.web.deps import CurrentActor, IfMatch, RuntimeDep, SessionDep, VaultDep, etag
from awda.web.edge import MAX_OFFSET

router = APIRouter(tags=["households"])


class TransitionIn(ChangeStatusIn):
    to: IntentionStatus


def _with_etag(response: Response, view: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = etag(int(view["version"]))
    return view


@router.get("/households")
def list_households(
    session: SessionDep,
    actor: CurrentActor,
    site: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Households in your scope, without personal fields."""
    return readers.list_households(session, actor, site, limit, offset)


@router.post("/households", status_code=status.HTTP_201_CREATED)
def register_household(
    command: HouseholdIn, session: SessionDep, vault: VaultDep, actor: CurrentActor, response: Response
) -> dict[str, Any]:
    """Register a household with its members, consent and intention."""
    created = services.register_household(session, vault, actor, command)
    response.headers["Location"] = f"/api/v1/households/{created.household_uid}"
    response.headers["ETag"] = etag(1)
    return {"uid": created.household_uid, "persons": created.person_uids, "intention": created.intention_uid}


@router.get("/households/{uid}")
def get_household(
    uid: str, session: SessionDep, vault: VaultDep, actor: CurrentActor, response: Response
) -> dict[str, Any]:
    """One household; personal fields only for roles that may read them (the read is logged)."""
    return _with_etag(response, readers.household_for(session, vault, actor, uid))


@router.delete("/households/{uid}", status_code=status.HTTP_204_NO_CONTENT)
def erase_household(uid: str, session: SessionDep, actor: CurrentActor, version: IfMatch) -> Response:
    """Crypto-shred the household's personal fields (irreversible)."""
    erasure.erase_household(session, actor, uid, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/households/{uid}/members", status_code=status.HTTP_201_CREATED)
def add_member(
    uid: str,
    person: PersonIn,
    session: SessionDep,
    vault: VaultDep,
    actor: CurrentActor,
    version: IfMatch,
    response: Response,
) -> dict[str, Any]:
    person_uid = services.add_member(session, vault, actor, uid, person, version)
    response.headers["Location"] = f"/api/v1/persons/{person_uid}"
    return {"uid": person_uid, "household": uid}


@router.post("/households/{uid}/consent", status_code=status.HTTP_201_CREATED)
def record_consent(
    uid: str, consent: ConsentIn, session: SessionDep, actor: CurrentActor, version: IfMatch
) -> dict[str, Any]:
    services.record_consent(session, actor, uid, consent, version)
    return {"household": uid, "purposes": consent.purposes}


@router.delete("/households/{uid}/consent", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_consent(uid: str, session: SessionDep, actor: CurrentActor, version: IfMatch) -> Response:
    """Withdraw consent; open intentions are withdrawn with it."""
    services.withdraw_consent(session, actor, uid, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/households/{uid}/intentions", status_code=status.HTTP_201_CREATED)
def declare_intention(
    uid: str, intention: IntentionIn, session: SessionDep, actor: CurrentActor, version: IfMatch, response: Response
) -> dict[str, Any]:
    intention_uid = services.declare_intention(session, actor, uid, intention, version)
    response.headers["Location"] = f"/api/v1/intentions/{intention_uid}"
    return {"uid": intention_uid, "household": uid}


@router.get("/persons/{uid}")
def get_person(
    uid: str, session: SessionDep, vault: VaultDep, actor: CurrentActor, response: Response
) -> dict[str, Any]:
    return _with_etag(response, readers.person_for(session, vault, actor, uid))


@router.put("/persons/{uid}")
def correct_person(
    uid: str,
    person: PersonIn,
    session: SessionDep,
    vault: VaultDep,
    actor: CurrentActor,
    version: IfMatch,
    response: Response,
) -> dict[str, Any]:
    """Correct a person's recorded fields."""
    new_version = services.correct_person(session, vault, actor, uid, person, version)
    response.headers["ETag"] = etag(new_version)
    return {"uid": uid, "version": new_version}


@router.get("/intentions/{uid}")
def get_intention(uid: str, session: SessionDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    return _with_etag(response, readers.intention_for(session, actor, uid))


class Reconfirmed(BaseModel):
    uid: str
    version: int


@router.post("/households/{uid}/pin", status_code=status.HTTP_201_CREATED)
def issue_pin(
    uid: str, session: SessionDep, actor: CurrentActor, vault: VaultDep, response: Response
) -> dict[str, str]:
    """The household's reference code and a new PIN for its own status lookup; the PIN is shown only here."""
    from awda.convoys.selfservice import issue_pin as issue

    response.headers["Cache-Control"] = "no-store"
    return issue(session, vault, actor, uid)


@router.post("/intentions/{uid}/reconfirm")
def reconfirm_intention(
    uid: str, session: SessionDep, actor: CurrentActor, version: IfMatch, response: Response
) -> Reconfirmed:
    new_version = intentions.reconfirm_intention(session, actor, uid, version)
    response.headers["ETag"] = etag(new_version)
    return Reconfirmed(uid=uid, version=new_version)


@router.post("/intentions/{uid}/transitions")
def change_intention_status(
    uid: str,
    change: TransitionIn,
    session: SessionDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    version: IfMatch,
    response: Response,
) -> dict[str, Any]:
    """Move an intention along its status machine (409 if the machine does not allow it)."""
    new_version = intentions.change_status(
        session, actor, uid, change.to, change.reason, version, runtime.settings.reconfirm_days
    )
    response.headers["ETag"] = etag(new_version)
    return {"uid": uid, "status": change.to.value, "version": new_version}
