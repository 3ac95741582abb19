"""`/api/v1/auth`: exchange a username and password for a bearer token; revoke it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from awda.access import services, throttle
from awda.web.deps import ClientAddress, CurrentActor, RuntimeDep, SessionDep

router = APIRouter(tags=["auth"])


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=200)


@router.post("/auth/token", status_code=status.HTTP_201_CREATED)
def create_token(login: Login, session: SessionDep, runtime: RuntimeDep, address: ClientAddress) -> dict[str, Any]:
    """A bearer token for these credentials; send it as `Authorization: Bearer ...`.

    Too many failures for one username or from one address lock it for a while (429 with Retry-After).
    """
    with throttle.guarded(runtime, throttle.login_gates(runtime, login.username, address)):
        actor = services.authenticate(session, login.username, login.password)
    hours = runtime.settings.token_ttl_hours
    token = services.issue_token(session, actor, hours, "api")
    return {"access_token": token, "token_type": "bearer", "expires_in": hours * 3600, "role": actor.role.value}


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    session: SessionDep,
    actor: CurrentActor,
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())],
) -> Response:
    """Revoke the token used for this request."""
    services.revoke_token(session, actor, credentials.credentials)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
