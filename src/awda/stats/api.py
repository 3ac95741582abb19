"""`/api/v1/stats`: aggregate counts (no personal data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from awda.stats import services
from awda.web.deps import CurrentActor, SessionDep

router = APIRouter(tags=["stats"])


@router.get("/stats/summary")
def summary(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return services.summary(session, actor)
