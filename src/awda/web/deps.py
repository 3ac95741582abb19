"""Typed dependencies: the session, the vault, the acting user and If-Match preconditions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from awda.access.rules import Actor
from awda.access.services import actor_for_token
from awda.cards.documents import StatusListCache
from awda.errors import AuthenticationFailed, PreconditionRequired, StaleVersion
from awda.runtime import Runtime
from awda.vault import Vault

_bearer = HTTPBearer(auto_error=False)
_ETAG = re.compile(r'^(?:W/)?"v(\d+)"$')


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_session(request: Request) -> Iterator[Session]:
    with runtime_of(request).sessions() as session:
        yield session


def get_vault(request: Request) -> Vault:
    return runtime_of(request).vault


def get_status_lists(request: Request) -> StatusListCache:
    cache: StatusListCache = request.app.state.status_lists
    return cache


SessionDep = Annotated[Session, Depends(get_session)]
StatusListsDep = Annotated[StatusListCache, Depends(get_status_lists)]
VaultDep = Annotated[Vault, Depends(get_vault)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, run uvicorn with --proxy-headers so this is the real client)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


def current_actor(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed("send a bearer token (POST /api/v1/auth/token to get one)")
    return actor_for_token(session, credentials.credentials)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def etag(version: int) -> str:
    return f'"v{version}"'


def required_version(if_match: Annotated[str | None, Header()] = None) -> int:
    """The version the client last read, from If-Match; writes without it are refused (428)."""
    if if_match is None:
        raise PreconditionRequired("send If-Match with the ETag you last read")
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise StaleVersion("If-Match does not match the current ETag")
    return int(match.group(1))


IfMatch = Annotated[int, Depends(required_version)]
