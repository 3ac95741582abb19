"""The OpenRosa protocol on both engines: form lists per user, downloads, credentials and their
throttle, refusals as OpenRosa XML, every role, any bytes, and a real socket with its access log."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from awda.errors import ValidationFailed
from awda.field.forms import FOLLOWUP, INCIDENT, REGISTRATION, BuiltForm
from awda.field.openrosa import multipart_parts, parse_instance, upload_from
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.conftest import PASSWORD, make_user
from tests.openrosa_support import (
    HEAD_AR,
    HEAD_LAT,
    basic,
    counts,
    form_of,
    forms_listed,
    message,
    new_id,
    registration,
    submit,
    submit_raw,
)
from tests.test_api import TestClient

pytestmark = pytest.mark.usefixtures("gazetteer")


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime.settings, runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def test_each_user_lists_only_the_forms_of_their_role_with_only_their_sites(
    client: TestClient, session: Session
) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    make_user(session, "mon", "monitor", ("RUKBAN",))
    make_user(session, "ana", "analyst")
    assert set(forms_listed(client, basic("reg"))) == {REGISTRATION}
    assert set(forms_listed(client, basic("mon"))) == {FOLLOWUP, INCIDENT}
    assert forms_listed(client, basic("ana")) == {}
    make_user(session, "reg-nowhere", "registrar")  # no site in scope: nowhere to register
    assert forms_listed(client, basic("reg-nowhere")) == {}
    form = form_of(client, basic("reg"), REGISTRATION)
    assert "RUKBAN" in form.xml and "ATMEH" not in form.xml and "JARABLUS" not in form.xml
    assert "C6101" in form.xml  # places are the public gazetteer
    entry = forms_listed(client, basic("reg"))[REGISTRATION]
    assert entry["downloadUrl"].endswith("/openrosa/forms/awda_registration.xml") and entry["version"].startswith("1.")
    one = client.get("/openrosa/formList", params={"formID": INCIDENT}, headers=basic("mon"))
    assert one.status_code == 200 and INCIDENT in one.text and FOLLOWUP not in one.text
    refused = client.get("/openrosa/forms/awda_incident.xml", headers=basic("reg"))
    assert refused.status_code == 404 and "no form" in message(refused)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<data id='awda_registration'><site>RUKBAN", "is not well-formed XML"),
        (b"<!DOCTYPE d [<!ENTITY e 'x'>]><data id='awda_registration'>&e;</data>", "declaration is not allowed"),
        (b"<data id='awda_registration'><site>RUKBAN</site></data>", "meta/instanceID: is required"),
        (b"<data id='other'><meta><instanceID>uuid:1</instanceID></meta></data>", "awda has no form 'other'"),
    ],
)
def test_malformed_xml_gets_one_error_and_nothing_is_written(
    client: TestClient, session: Session, body: bytes, expected: str
) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    before = counts(session)
    response = submit(client, basic("reg"), body)
    assert response.status_code == 422 and expected in message(response)
    assert counts(session) == before


def test_credentials_are_challenged_checked_and_throttled(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    for method, path in (("HEAD", "/openrosa/submission"), ("GET", "/openrosa/formList")):
        anonymous = client.request(method, path, headers={"X-OpenRosa-Version": "1.0"})
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic realm=")
        assert anonymous.headers["x-openrosa-version"] == "1.0"
    wrong = client.get("/openrosa/formList", headers=basic("reg", "not the password"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    assert "wrong username or password" in message(wrong)
    preflight = client.head("/openrosa/submission", headers=basic("reg"))
    assert preflight.status_code == 204
    assert int(preflight.headers["x-openrosa-accept-content-length"]) == runtime.settings.max_upload_bytes
    for _ in range(5):
        client.get("/openrosa/formList", headers=basic("reg", "still not the password"))
    locked = client.get("/openrosa/formList", headers=basic("reg"))
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert client.post("/openrosa/submission", headers=basic("nobody", "x")).status_code == 401


def test_an_oversized_body_is_refused_before_anything_runs(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    make_user(session, "mon", "monitor", ("RUKBAN",))
    before = counts(session)
    big = b"\xff\xd8\xff" + b"0" * runtime.settings.max_upload_bytes
    files = {"photo.jpg": ("photo.jpg", big, "image/jpeg")}
    response = submit_raw(client, basic("mon"), b"<data/>", files)
    assert response.status_code == 413
    assert counts(session) == before


def test_a_bearer_token_works_too(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    token = client.post("/api/v1/auth/token", json={"username": "reg", "password": PASSWORD}).json()["access_token"]
    assert set(forms_listed(client, {"Authorization": f"Bearer {token}"})) == {REGISTRATION}
    assert client.get("/openrosa/formList", headers={"Authorization": "Bearer awda_nope"}).status_code == 401


def test_no_openrosa_route_takes_anything_secret_in_its_url(app: FastAPI) -> None:
    from fastapi import routing
    from fastapi.routing import APIRoute
    from starlette.routing import Mount

    mount = next(route for route in app.routes if isinstance(route, Mount) and route.path == "/openrosa")
    flatten: Any = getattr(routing, "iter_route_contexts", list)
    routes = [
        route for route in flatten(mount.app.routes) if isinstance(getattr(route, "original_route", route), APIRoute)
    ]
    found = sorted((method, str(route.path)) for route in routes for method in route.methods)
    reads = [("GET", "/formList"), ("GET", "/forms/{form_id}.xml")]
    assert found == [*reads, ("HEAD", "/submission"), ("POST", "/submission")]


@pytest.mark.parametrize("role", ["admin", "registrar", "coordinator", "monitor", "analyst", "auditor"])
def test_every_openrosa_route_for_every_role(client: TestClient, session: Session, role: str) -> None:
    make_user(session, f"rukban-{role}", role, ("RUKBAN",))
    headers = basic(f"rukban-{role}")
    listed = forms_listed(client, headers)
    expected = {"admin": {REGISTRATION, FOLLOWUP, INCIDENT}, "registrar": {REGISTRATION}}
    expected |= {"monitor": {FOLLOWUP, INCIDENT}}
    assert set(listed) == expected.get(role, set())
    for form_id in listed:
        form = form_of(client, headers, form_id)
        assert "ATMEH" not in form.xml or role == "admin"
    assert client.head("/openrosa/submission", headers=headers).status_code == 204
    xml = b"<data id='awda_registration'><site>RUKBAN</site><meta><instanceID>uuid:x</instanceID></meta></data>"
    refused = submit(client, headers, xml)
    assert refused.status_code in {403, 422}, refused.text
    assert (refused.status_code == 403) == (role not in {"admin", "registrar"})
    assert message(refused)
    missing = client.get("/openrosa/nothing", headers=headers)
    assert missing.status_code == 404 and missing.headers["x-openrosa-version"] == "1.0" and message(missing)


def refused_field(parse: Callable[[], object]) -> str | None:
    """The field a parser's one error names, or None when it accepted the input."""
    try:
        parse()
    except ValidationFailed as error:
        return error.field
    return None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_any_bytes_are_an_instance_or_one_error(data: bytes) -> None:
    fields = {None, "xml_submission_file", "id", "meta/instanceID", "meta/deprecatedID"}
    for body in (data, b"<data id='f'><meta><instanceID>" + data + b"</instanceID></meta></data>"):
        assert refused_field(lambda body=body: parse_instance(body)) in fields


CONTENT_TYPES = ["multipart/form-data; boundary=b", "text/xml", "", "multipart/form-data"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(CONTENT_TYPES))
def test_any_body_is_parts_or_one_error(data: bytes, content_type: str) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="xml_submission_file"\r\n\r\n' + data + b"\r\n--b--\r\n"
    for candidate in (data, body):
        parse = lambda candidate=candidate: upload_from(multipart_parts(content_type, candidate))  # noqa: E731
        assert refused_field(parse) in {None, "body", "xml_submission_file"}


def test_a_device_token_serves_as_the_password_and_is_revocable(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    make_user(session, "other", "registrar", ("RUKBAN",))
    token = client.post("/api/v1/auth/token", json={"username": "reg", "password": PASSWORD}).json()["access_token"]
    assert set(forms_listed(client, basic("reg", token))) == {REGISTRATION}
    assert client.head("/openrosa/submission", headers=basic("reg", token)).status_code == 204
    stolen = client.get("/openrosa/formList", headers=basic("other", token))  # another account's token
    assert stolen.status_code == 401 and "wrong username or password" in message(stolen)
    revoked = client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 204
    assert client.get("/openrosa/formList", headers=basic("reg", token)).status_code == 401


def test_over_a_real_socket_no_credential_reaches_the_access_log(
    app: FastAPI, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    import socket
    import threading
    import time

    import uvicorn

    make_user(session, "reg", "registrar", ("RUKBAN",))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    caplog.set_level(logging.INFO)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=("reg", PASSWORD)) as phone:
            listed = phone.get("/openrosa/formList")
            download = listed.text.split("<downloadUrl>")[1].split("</downloadUrl>")[0]
            form = phone.get(download)
            xml = registration(BuiltForm(REGISTRATION, "", "", form.text, ()), new_id())
            boundary = "awda-test-boundary"
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="s.xml"\r\n'
            body = f"{head}Content-Type: text/xml\r\n\r\n".encode() + xml + f"\r\n--{boundary}--\r\n".encode()
            sent = phone.post(
                "/openrosa/submission?deviceID=collect%3Aabc",
                content=iter([body[:500], body[500:]]),  # no length: sent chunked, as Collect may
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert listed.status_code == 200 and form.status_code == 200
    assert sent.status_code == 201, sent.text
    assert len(sent.headers.get_list("date")) == 1 and sent.headers["x-openrosa-version"] == "1.0"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/openrosa/submission" in logged  # the access log ran
    secrets = [PASSWORD, base64.b64encode(f"reg:{PASSWORD}".encode()).decode(), HEAD_AR, HEAD_LAT]
    assert [secret for secret in secrets if secret in logged] == []
