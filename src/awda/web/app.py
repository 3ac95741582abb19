"""The application factory: one app per settings, no state built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from awda import __version__
from awda.access.api import router as auth_router
from awda.agreements.api import router as agreements_router
from awda.audit.schedule import HeadSchedule
from awda.cards.api import router as cards_router
from awda.cards.documents import StatusListCache
from awda.convoys.api import router as convoys_router
from awda.convoys.api import status_router
from awda.field.api import PREFIX as OPENROSA_PREFIX
from awda.field.api import openrosa_app
from awda.households.api import router as households_router
from awda.linkage.api import router as linkage_router
from awda.monitoring.api import router as monitoring_router
from awda.places.api import router as places_router
from awda.runtime import Runtime, open_runtime
from awda.settings import Settings
from awda.stats.api import router as stats_router
from awda.web import edge, limits, pages, problems

API_PREFIX = "/api/v1"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves, sign tree heads of the event log periodically (AWDA_TREE_HEAD_MINUTES)."""
    runtime: Runtime = app.state.runtime
    minutes = runtime.settings.tree_head_minutes
    schedule = HeadSchedule(runtime, minutes * 60.0) if minutes > 0 else None
    if schedule is not None:
        schedule.start()
    try:
        yield
    finally:
        if schedule is not None:
            schedule.stop()


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; refuses to start without a safe master key (see awda.vault)."""
    app = FastAPI(
        lifespan=_lifespan,
        title="awda API",
        version=__version__,
        description="Registry of displaced households and their intentions. Errors are RFC 9457 problem+json.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        dependencies=[Depends(edge.refuse_nul)],
    )
    app.state.runtime = runtime or open_runtime(settings)
    app.state.status_lists = StatusListCache()
    routers = (auth_router, households_router, places_router, stats_router, agreements_router, cards_router)
    for router in (*routers, monitoring_router, convoys_router, status_router, linkage_router):
        app.include_router(router, prefix=API_PREFIX)
    app.mount(OPENROSA_PREFIX, openrosa_app(app.state.runtime))  # ODK Collect, Enketo (docs/field.md)
    problems.install(app)
    limits.install(app, settings)
    pages.install(app)
    return app
