"""`/api/v1/linkage`: the review queue, decisions, household merges and undo (thin shell).

Runs themselves are started by `awda linkage run` (a job of minutes over the whole scope), not by a
request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from awda.linkage import review
from awda.linkage.rules import Decision
from awda.web.deps import CurrentActor, IfMatch, SessionDep, VaultDep, etag
from awda.web.edge import Limit, Offset

router = APIRouter(prefix="/linkage", tags=["linkage"])
UID = Field(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision


class HouseholdPairIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    household_a: str = UID
    household_b: str = UID


@router.get("/queue")
def queue(session: SessionDep, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    return review.review_queue(session, actor, limit, offset)


@router.get("/candidates/{uid}")
def candidate(
    uid: str, response: Response, session: SessionDep, vault: VaultDep, actor: CurrentActor
) -> dict[str, Any]:
    view = review.candidate_for_review(session, vault, actor, uid)
    response.headers["ETag"] = etag(int(view["version"]))
    response.headers["Cache-Control"] = "no-store"
    return view


@router.post("/candidates/{uid}/decision")
def decide(
    uid: str, command: DecisionIn, version: IfMatch, response: Response, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    view = review.decide(session, actor, uid, command.decision, version)
    response.headers["ETag"] = etag(int(view["version"]))
    return view


@router.get("/households")
def household_matches(session: SessionDep, actor: CurrentActor, limit: Limit = 50) -> list[dict[str, Any]]:
    return review.household_view(session, actor, limit)


@router.post("/households/merge")
def merge_households(command: HouseholdPairIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return review.merge_households(session, actor, command.household_a, command.household_b)


@router.post("/merges/{uid}/undo")
def undo(uid: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return review.undo_merge(session, actor, uid)


@router.get("/persons/{uid}")
def same_person(uid: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return review.same_person(session, actor, uid)
