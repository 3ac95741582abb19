"""RFC 9457 problem details for every error the API returns; never a traceback or personal data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from awda.db import written_meanwhile
from awda.errors import AuthenticationFailed, AwdaError, StaleVersion, TooManyAttempts, ValidationFailed
from awda.vault import VaultError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("awda.web")
# Paths answered with problem+json; every other path is a page, whose errors are pages too
# (`app.state.page_error`, set by `pages.install`), in the visitor's language.
MACHINE_PREFIXES = ("/api/", "/openrosa", "/static/")
PageError = Callable[[Request, int], Response]


def _page_error(request: Request, status: int) -> Response | None:
    """The error as a page when the request was for a page, else None (the caller answers problem+json)."""
    render: PageError | None = getattr(request.app.state, "page_error", None)
    if render is None or request.url.path.startswith(MACHINE_PREFIXES):
        return None
    return render(request, status)


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    merged = ({"WWW-Authenticate": "Bearer"} if status == 401 else {}) | (headers or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=merged or None)


async def _awda_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AwdaError)
    page = _page_error(request, error.status)
    if page is not None:
        return page
    if isinstance(error, ValidationFailed):
        return problem(error.status, error.title, str(error), errors=[{"field": error.field, "message": error.message}])
    if isinstance(error, AuthenticationFailed):
        return problem(401, error.title, str(error))
    if isinstance(error, TooManyAttempts):
        return problem(429, error.title, str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, StaleVersion) and error.current_version is not None:
        current = error.current_version  # the client re-reads from here and retries
        return problem(412, error.title, str(error), headers={"ETag": f'"v{current}"'}, current_version=current)
    return problem(error.status, error.title, str(error))


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in {"body", "query", "path", "header"}]
    return ".".join(parts) or "body"


async def _request_invalid(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    page = _page_error(request, 422)
    if page is not None:
        return page
    # Echoing the input back could echo a name or a phone number: only the field and the message.
    errors = [
        {"field": _field_path(tuple(item["loc"])), "message": str(item["msg"]).removeprefix("Value error, ")}
        for item in error.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem(422, "Invalid input", f"{first['field']}: {first['message']}", errors=errors)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    page = _page_error(request, error.status_code) if error.status_code in (404, 405) else None
    if page is not None:
        return page
    # Keep the headers the framework set; a 405 names every method of the resource, not the first route's.
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(sorted(allowed_methods(request)))
    return problem(error.status_code, str(error.detail), str(error.detail), headers=headers)


def allowed_methods(request: Request) -> set[str]:
    """Every method some route answers for this path (Starlette stops at the first route that matches it)."""
    path = request.url.path
    methods: set[str] = set()
    for context in routing.iter_route_contexts(request.app.routes):
        if context.methods and compile_path(str(context.path))[0].match(path):
            methods |= context.methods
    return methods


async def _integrity_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, IntegrityError)
    conflict = written_meanwhile(error)
    return await (_awda_error(request, conflict) if conflict is not None else _unexpected(request, error))


async def _vault_error(request: Request, _error: Exception) -> Response:
    return _page_error(request, 500) or problem(500, "Protected data unavailable", "protected data could not be opened")


async def _unexpected(request: Request, error: Exception) -> Response:
    log.error("unexpected %s", type(error).__name__)
    detail = "an unexpected error occurred; it has been logged"
    return _page_error(request, 500) or problem(500, "Internal error", detail)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AwdaError, _awda_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(VaultError, _vault_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected)
