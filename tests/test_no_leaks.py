"""No personal value in logs, error messages or URLs: what operators and log collectors see names nobody."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import Done
from tests.test_api import (
    API,
    PERSONAL,
    TestClient,
    app,  # noqa: F401 - fixtures
    client,  # noqa: F401
    household_json,
    if_match,
    login,
    registered,  # noqa: F401
)
from tests.test_import import household_rows, write_csv

pytestmark = pytest.mark.usefixtures("gazetteer")
# Query parameters may carry only these: anything else in a URL lands in access logs and browser history.
ALLOWED_QUERY = {"agreement", "as_of", "hours", "level", "limit", "monitor", "offset", "parent", "site", "today"}
ALLOWED_QUERY |= {"type", "verification", "week", "since", "until"}  # incidents by date: no person in them
PERSONAL_WORDS = ("name", "phone", "document", "birth", "email", "address", "pin", "password", "reference")


def test_no_query_parameter_carries_personal_data(client: TestClient) -> None:  # noqa: F811 - the fixture
    schema = client.get(f"{API}/openapi.json").json()
    found = {
        (path, parameter["name"])
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    unexpected = {(path, name) for path, name in found if name not in ALLOWED_QUERY}
    assert unexpected == set(), "a new query parameter: keep personal values in bodies, not URLs"
    assert not [name for _, name in found if any(word in name for word in PERSONAL_WORDS)]


def test_errors_and_logs_of_a_working_day_name_nobody(
    client: TestClient,  # noqa: F811 - the fixture
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = login(client, session, "reg-logs", "registrar")
    created = client.post(f"{API}/households", json=household_json(), headers=headers)
    uid = created.json()["uid"]
    answers: list[Any] = []
    bad = household_json()
    bad["members"][0]["birth_date"] = PERSONAL[0]  # a name typed into the wrong field is not echoed
    bad["members"][1]["given_name_lat"] = PERSONAL[1] * 40
    answers.append(client.post(f"{API}/households", json=bad, headers=headers))
    answers.append(client.post(f"{API}/households", content=str(household_json()), headers=headers))
    stale = if_match(headers, '"v9"')
    answers.append(client.put(f"{API}/persons/{created.json()['persons'][0]}", json=bad["members"][0], headers=stale))
    answers.append(client.get(f"{API}/households/{uid[:-4]}ffff", headers=headers))
    answers.append(client.post(f"{API}/auth/token", json={"username": PERSONAL[1], "password": PERSONAL[0]}))
    answers.append(client.post(f"{API}/status", json={"reference": PERSONAL[1], "pin": "12"}))
    answers.append(client.get(f"{API}/households/{uid}", headers=headers))  # the one answer that may name them
    for answer in answers[:-1]:
        assert answer.status_code >= 400
        assert [value for value in PERSONAL if value in answer.text] == [], answer.text
    assert answers[-1].status_code == 200 and PERSONAL[0] in answers[-1].text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert [value for value in PERSONAL if value in logged] == []


def test_import_errors_name_the_row_and_field_not_the_value(awda: Any, tmp_path: Path) -> None:
    # A name typed into the birth year and the sex columns of the second member (file row 3).
    rows = household_rows("sub-1", 3, **{"1__birth_year": "Yousef", "1__sex": "العلي"})
    path = write_csv(tmp_path / "households.csv", rows)
    awda("init")
    done: Done = awda("import", "registrations", str(path), expect=1)
    message = done.stdout + done.stderr
    assert "row 3" in message and ("birth_year" in message or "sex" in message)
    assert [name for name in ("Yousef", "العلي", "Ahmad", "أحمد", "al-Ali") if name in message] == []
