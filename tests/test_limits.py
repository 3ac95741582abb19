"""Body limits (web/limits.py): declared and chunked bodies, JSON and uploads, refused with 413 and nothing written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import Message

from awda.audit.models import Event
from awda.households.models import Household
from awda.runtime import Runtime
from awda.web.app import create_app
from awda.web.limits import declared_length, limit_for
from tests.test_api import API, PROBLEM, TestClient, household_json, login

pytestmark = pytest.mark.usefixtures("gazetteer")

BODY_LIMIT = 4096
UPLOAD_LIMIT = 16384
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    small = runtime.settings.model_copy(update={"max_body_bytes": BODY_LIMIT, "max_upload_bytes": UPLOAD_LIMIT})
    with TestClient(create_app(small, runtime)) as opened:
        yield opened


def written(session: Session) -> tuple[int, int]:
    session.expire_all()
    households = session.scalar(select(func.count()).select_from(Household)) or 0
    events = session.scalar(select(func.count()).select_from(Event)) or 0
    return households, events


def refused(response: Any, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["title"], body["max_bytes"]) == (413, "Request body too large", limit)
    assert str(limit) in body["detail"]


def padded_household(size: int) -> bytes:
    """A valid registration padded with spaces to `size` bytes (JSON ignores the padding)."""
    text = json.dumps(household_json()).encode()
    assert len(text) < size
    return text + b" " * (size - len(text))


def chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_json_body_within_the_limit_is_served(client: TestClient, session: Session) -> None:
    headers = login(client, session, "reg", "registrar")
    response = client.post(f"{API}/households", content=padded_household(BODY_LIMIT), headers=headers | JSON_TYPE)
    assert response.status_code == 201, response.text


def test_a_declared_json_body_over_the_limit_is_refused_and_nothing_written(
    client: TestClient, session: Session
) -> None:
    headers = login(client, session, "reg", "registrar")
    before = written(session)
    response = client.post(f"{API}/households", content=padded_household(BODY_LIMIT + 1), headers=headers | JSON_TYPE)
    refused(response, BODY_LIMIT)
    assert written(session) == before


def test_a_chunked_json_body_over_the_limit_is_refused_and_nothing_written(
    client: TestClient, session: Session
) -> None:
    headers = login(client, session, "reg", "registrar")
    before = written(session)
    stream = chunks(padded_household(BODY_LIMIT * 3))
    response = client.post(f"{API}/households", content=stream, headers=headers | JSON_TYPE)
    assert "content-length" not in response.request.headers
    refused(response, BODY_LIMIT)
    assert written(session) == before


def test_a_public_form_post_over_the_body_limit_is_refused(client: TestClient) -> None:
    response = client.post("/verify", data={"card": "AW1:" + "A" * BODY_LIMIT})
    refused(response, BODY_LIMIT)


def test_uploads_have_their_own_larger_limit(client: TestClient) -> None:
    image = b"\x89PNG" + b"\0" * (BODY_LIMIT * 2)  # over the body limit, under the upload limit
    accepted = client.post("/verify", data={"card": ""}, files={"image": ("card.png", image, "image/png")})
    assert accepted.status_code == 200, accepted.text
    too_big = b"\x89PNG" + b"\0" * UPLOAD_LIMIT
    refused(client.post("/verify", files={"image": ("card.png", too_big, "image/png")}), UPLOAD_LIMIT)


def test_a_chunked_upload_over_the_limit_is_refused(client: TestClient) -> None:
    boundary = "awda-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="c.png"\r\n\r\n'.encode()
    body = head + b"\0" * (UPLOAD_LIMIT * 2) + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    refused(client.post("/verify", content=chunks(body, 4096), headers=headers), UPLOAD_LIMIT)


def test_a_streamed_body_is_refused_before_it_is_read_to_the_end(runtime: Runtime, session: Session) -> None:
    """Raw ASGI: an endless chunked body; the app answers 413 having read just past the limit."""
    app: FastAPI = create_app(runtime.settings.model_copy(update={"max_body_bytes": BODY_LIMIT}), runtime)
    before = written(session)
    reads = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b" " * 1000, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": f"{API}/cards/verify",
             "raw_path": f"{API}/cards/verify".encode(), "query_string": b"", "headers": headers,
             "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "root_path": ""}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert (b"content-type", PROBLEM.encode()) in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["max_bytes"] == BODY_LIMIT
    assert reads == BODY_LIMIT // 1000 + 1
    assert written(session) == before


def test_limit_rules() -> None:
    assert limit_for("multipart/form-data; boundary=x", 1, 2) == 2
    assert limit_for("Multipart/Form-Data", 1, 2) == 2
    assert limit_for("application/json", 1, 2) == 1
    assert limit_for(None, 1, 2) == 1
    assert limit_for("application/x-www-form-urlencoded", 1, 2) == 1
    assert declared_length("12") == 12
    assert declared_length(" 7 ") == 7
    assert declared_length(None) is None
    assert declared_length("-1") is None
    assert declared_length("1e9") is None
