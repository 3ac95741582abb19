"""`/api/v1/agreements`: agreements and their terms (public facts, token still required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from awda.agreements import services
from awda.web.deps import CurrentActor, SessionDep

router = APIRouter(tags=["agreements"])


@router.get("/agreements")
def list_agreements(session: SessionDep, _actor: CurrentActor) -> list[dict[str, Any]]:
    return services.list_agreements(session)


@router.get("/agreements/{code}")
def get_agreement(code: str, session: SessionDep, _actor: CurrentActor) -> dict[str, Any]:
    return services.agreement_view(session, services.agreement_by_code(session, code))
