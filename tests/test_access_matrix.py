"""Every API route against every role in the household's own site: no server error, and no personal
value ever reaches a role that may not read personal fields (the refusals outside the scope are in
tests/test_api.py, the pages in tests/test_sessions.py)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from awda.access.rules import ROLE_PERMISSIONS, Permission, Role
from tests.test_api import Registered as Household
from tests.test_api import (
    TestClient,
    api_routes,
    app,  # noqa: F401 - fixtures
    call,
    client,  # noqa: F401
    leaked,
    login,
    registered,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("gazetteer")


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_route_for_every_role_in_scope(
    app: FastAPI,  # noqa: F811 - the fixture
    client: TestClient,  # noqa: F811
    session: Session,
    registered: Household,  # noqa: F811
    role: str,
) -> None:
    headers = login(client, session, f"rukban-{role}", role, ("RUKBAN",))
    reads_personal = Permission.READ_PERSONAL in ROLE_PERMISSIONS[Role(role)]
    for method, path in api_routes(app):
        response = call(client, method, path, registered, headers)
        where = (role, method, path, response.status_code)
        assert response.status_code < 500, (*where, response.text)
        assert response.status_code != 401, where
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", where
        if not reads_personal:
            assert leaked(response) == [], where
