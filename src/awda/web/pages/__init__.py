"""Server-rendered HTML pages: Jinja2 templates in `web/templates`, static files, gettext catalogues."""

from __future__ import annotations

from fastapi import FastAPI

from awda.web.pages.landing import router as landing_router
from awda.web.pages.rendering import STATIC_PREFIX, CachedStaticFiles, Pages, render
from awda.web.pages.verify import router as verify_router

__all__ = ["install", "render"]


def install(app: FastAPI) -> None:
    """Compile the catalogues, build the template environments, mount /static and add the page routes."""
    app.state.pages = Pages.build()
    app.mount(STATIC_PREFIX, CachedStaticFiles(packages=[("awda.web", "static")]), name="static")
    for router in (landing_router, verify_router):
        app.include_router(router)
