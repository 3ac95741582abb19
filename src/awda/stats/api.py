"""`/api/v1/stats`: aggregate counts (no personal data)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from awda.days import Day
from awda.stats import services
from awda.web.deps import CurrentActor, RuntimeDep, SessionDep

router = APIRouter(tags=["stats"])


@router.get("/stats/summary")
def summary(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return services.summary(session, actor)


@router.get("/stats/flows")
def flows(
    site: str, session: SessionDep, actor: CurrentActor, runtime: RuntimeDep, as_of: Day | None = None
) -> dict[str, Any]:
    """A site's population week by week, departures by destination, waiting times; small counts are null."""
    from awda.convoys.site_flows import site_flows_input
    from awda.stats.flows import site_flows

    facts = site_flows_input(session, actor, site, as_of or date.today(), runtime.settings.disclosure_k)
    return site_flows(facts)
