"""OpenRosa routes, an application of their own mounted at `/openrosa` (Collect's server URL is `https://HOST/openrosa`).

`GET /formList`, `GET /forms/{form_id}.xml`, `HEAD /submission`, `POST /submission`. Every answer
is XML with `X-OpenRosa-Version: 1.0`; refusals are OpenRosaResponse documents with the HTTP status
the protocol expects (401 with a Basic challenge, 403, 409, 422, 429), never problem+json, because
Collect shows their message to the person holding the phone. Credentials: HTTP Basic with the awda
account's password (checked against its Argon2 hash, throttled like sign-in) or with a device token of
the account as the password (revocable, and cheap to check), or a bearer token.
Nothing secret is ever put in a URL, so access logs name nobody.

A mounted application, not a router of the main one: the main app's form parsing (which would spool a
large photo to a temporary file in clear) never sees these bodies; `openrosa.multipart_parts` reads
them in memory, bounded by the body-size middleware that wraps the whole app (413 before any route).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from awda.access import throttle
from awda.access.rules import Actor
from awda.access.services import actor_for_token, authenticate
from awda.db import written_meanwhile
from awda.errors import AuthenticationFailed, AwdaError, TooManyAttempts
from awda.field import openrosa, services
from awda.runtime import Runtime
from awda.vault import VaultError
from awda.web.deps import RuntimeDep, SessionDep, client_address

PREFIX = "/openrosa"
router = APIRouter()
CHALLENGE = 'Basic realm="awda", charset="UTF-8"'
TOKEN_PREFIX = "awda_"  # noqa: S105 - not a secret: what `issue_token` starts every token with
log = logging.getLogger("awda.field")


def _xml(runtime: RuntimeDep, body: str, status: int, extra: dict[str, str] | None = None) -> Response:
    headers = openrosa.headers(runtime.settings.max_upload_bytes) | (extra or {})
    return Response(body, status_code=status, media_type=openrosa.XML_TYPE, headers=headers)


def _refusal(runtime: RuntimeDep, error: Exception) -> Response:
    """The OpenRosa answer to an error: its status, one clear message, the headers the client needs."""
    if isinstance(error, IntegrityError):
        conflict = written_meanwhile(error)
        if conflict is None:
            raise error
        error = conflict
    if isinstance(error, VaultError):
        return _xml(runtime, openrosa.response("protected data could not be opened", "submit_error"), 500)
    assert isinstance(error, AwdaError)
    extra: dict[str, str] = {}
    if isinstance(error, AuthenticationFailed):
        extra["WWW-Authenticate"] = CHALLENGE
    if isinstance(error, TooManyAttempts):
        extra["Retry-After"] = str(error.retry_after)
    return _xml(runtime, openrosa.response(str(error), "submit_error"), error.status, extra)


def _answer(runtime: RuntimeDep, work: Callable[[], Response]) -> Response:
    try:
        return work()
    except (AwdaError, IntegrityError, VaultError) as error:
        return _refusal(runtime, error)


def openrosa_actor(request: Request, session: SessionDep, runtime: RuntimeDep) -> Actor:
    """The user of HTTP Basic credentials (throttled per username and address) or of a bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return actor_for_token(session, value.strip())
    if scheme.lower() != "basic":
        raise AuthenticationFailed("sign in with your awda username and password")
    try:
        username, separator, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("the credentials are not readable") from None
    if not separator or not username or len(username) > 64 or len(password) > 200:
        raise AuthenticationFailed("wrong username or password")
    with throttle.guarded(runtime, throttle.login_gates(runtime, username, client_address(request))):
        if password.startswith(TOKEN_PREFIX):
            return _device_token_actor(session, username, password)
        return authenticate(session, username, password)


def _device_token_actor(session: SessionDep, username: str, token: str) -> Actor:
    """A token given as the Basic password: the phone keeps a revocable token, not the account's password."""
    try:
        actor = actor_for_token(session, token)
    except AuthenticationFailed:
        raise AuthenticationFailed("wrong username or password") from None
    if actor.username != username:
        raise AuthenticationFailed("wrong username or password")
    return actor


@router.get("/formList")
def form_list(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The forms this user may submit (OpenRosa Form List API), each limited to the user's sites.

    `?formID=` (as Enketo asks) narrows the list to one form.
    """
    wanted = request.query_params.get("formID")

    def work() -> Response:
        actor = openrosa_actor(request, session, runtime)
        listed = [
            openrosa.ListedForm(
                form.form_id,
                form.title,
                form.version,
                form.md5,
                str(request.url_for("openrosa_form", form_id=form.form_id)),
            )
            for form in services.forms_for(session, actor)
            if wanted is None or form.form_id == wanted
        ]
        return _xml(runtime, openrosa.form_list(listed), 200)

    return _answer(runtime, work)


@router.get("/forms/{form_id}.xml", name="openrosa_form")
def download_form(form_id: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """One XForm, exactly as the form list hashed it for this user."""

    def work() -> Response:
        actor = openrosa_actor(request, session, runtime)
        return _xml(runtime, services.form_for(session, actor, form_id).xml, 200)

    return _answer(runtime, work)


@router.head("/submission")
def submission_preflight(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Collect's pre-flight: 204 with the size limit once the credentials are good (401 challenges first)."""

    def work() -> Response:
        openrosa_actor(request, session, runtime)
        return Response(status_code=204, headers=openrosa.headers(runtime.settings.max_upload_bytes))

    return _answer(runtime, work)


async def _body(request: Request) -> bytes:
    """The whole body, in memory: AWDA_MAX_UPLOAD_BYTES bounds it (413 before any route runs)."""
    return await request.body()


@router.post("/submission")
def submit(
    request: Request, body: Annotated[bytes, Depends(_body)], session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Receive a submission: 201 when new, 202 when received already, an OpenRosaResponse either way."""

    def work() -> Response:
        actor = openrosa_actor(request, session, runtime)
        upload = openrosa.upload_from(openrosa.multipart_parts(request.headers.get("content-type"), body))
        receipt = services.receive_submission(session, runtime.vault, actor, upload)
        if receipt.duplicate:
            return _xml(runtime, openrosa.response("already received", "submit_success"), 202)
        message = f"received ({receipt.form_id})"
        if not receipt.complete:
            message = f"received; waiting for the rest of its files ({receipt.form_id})"
        elif receipt.attachments_missing:
            message += f"; {receipt.attachments_missing} file(s) it names never arrived"
        return _xml(runtime, openrosa.response(message, "submit_success"), 201)

    return _answer(runtime, work)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    headers = openrosa.headers() | dict(error.headers or {})
    body = openrosa.response(str(error.detail), "submit_error")
    return Response(body, status_code=error.status_code, media_type=openrosa.XML_TYPE, headers=headers)


async def _unexpected(_request: Request, error: Exception) -> Response:
    log.error("unexpected %s", type(error).__name__)
    body = openrosa.response("an unexpected error occurred; it has been logged", "submit_error")
    return Response(body, status_code=500, media_type=openrosa.XML_TYPE, headers=openrosa.headers())


def openrosa_app(runtime: Runtime) -> FastAPI:
    """The OpenRosa application for `create_app` to mount at PREFIX (no schema: it is not the JSON API)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.include_router(router)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    return app
