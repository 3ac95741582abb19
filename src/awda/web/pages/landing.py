"""The landing page `/`, open to every visitor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from awda.web.pages.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def landing(request: Request) -> Response:
    return render(request, "landing.html")
