"""Protection incidents from the pages: recorded from the household page by a monitor, with problems
next to the fields; the incident's page and its verification level; on both engines.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.households import services
from awda.runtime import Runtime
from tests import factories
from tests.test_pages_households import (  # noqa: F401 - fixtures
    ARABIC,
    ENGLISH,
    TestClient,
    app,
    arabic_page_problems,
    client,
    field_errors,
    sign_in,
    token_of,
)

pytestmark = pytest.mark.usefixtures("gazetteer")


def test_record_an_incident_and_raise_its_verification(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    sign_in(client, session, "mon-incident", "monitor")
    path = f"/households/{registered.household_uid}"
    page = client.get(path, headers=ARABIC)
    assert arabic_page_problems(page.text) == [] and 'action="' + path + '/incidents"' in page.text
    data = {"csrf_token": token_of(page), "type": "arrest", "occurred_on": "2300-01-01", "place": "C4001"}
    nobody = client.post(f"{path}/incidents", data=data, headers=ARABIC)
    assert nobody.status_code == 422 and list(field_errors(nobody.text)) == ["persons"]
    assert 'value="C4001"' in nobody.text and '<details class="panel" id="record-incident" open>' in nobody.text
    future = client.post(f"{path}/incidents", data=data | {"members": ["1", "2"]}, headers=ENGLISH)
    assert list(field_errors(future.text)) == ["occurred_on"]
    assert 'value="1" checked' in future.text and 'value="2" checked' in future.text
    recorded = client.post(f"{path}/incidents", data=data | {"members": ["1"], "occurred_on": "2025-03-04"})
    assert recorded.status_code == 303 and recorded.headers["location"].endswith("?done=recorded")
    incident_path = recorded.headers["location"].split("?")[0]
    shown = client.get(recorded.headers["location"], headers=ARABIC)
    assert arabic_page_problems(shown.text) == [] and "اعتقال" in shown.text
    assert 'data-verification="reported"' in shown.text and factories.HEAD_NAME_AR not in shown.text
    version = re.search(r'name="version" value="(\d+)"', shown.text)
    assert version is not None
    raise_to = {"csrf_token": token_of(shown), "verification": "credible", "version": version.group(1)}
    raised = client.post(f"{incident_path}/verification", data=raise_to)
    assert raised.headers["location"].endswith("?done=verified")
    assert 'data-verification="credible"' in client.get(incident_path).text
    stale = client.post(f"{incident_path}/verification", data=raise_to | {"verification": "verified"})
    assert stale.headers["location"].endswith("?problem=stale")
    assert 'data-verification="credible"' in client.get(incident_path).text


def test_only_monitors_record_incidents(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    registered = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    sign_in(client, session, "reg-incident", "registrar")
    page = client.get(f"/households/{registered.household_uid}")
    assert "/incidents" not in page.text
    data = {"csrf_token": token_of(page), "type": "arrest", "occurred_on": "2025-03-04", "members": ["1"]}
    assert client.post(f"/households/{registered.household_uid}/incidents", data=data).status_code == 403
    assert client.get("/incidents/no-such-incident").status_code == 404
