"""OpenRosa end to end on both engines: form lists per user, downloads, and real multipart submissions
built from the converted forms, as ODK Collect sends them."""

from __future__ import annotations

import base64
import copy
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.errors import ValidationFailed
from awda.field.forms import FOLLOWUP, INCIDENT, REGISTRATION, BuiltForm
from awda.field.models import FieldAttachment, FieldSubmission
from awda.field.openrosa import multipart_parts, parse_instance, upload_from
from awda.households.models import Household, Person
from awda.monitoring.arrivals import record_arrival
from awda.monitoring.commands import ArrivalIn
from awda.monitoring.models import FollowUp, Incident
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.conftest import PASSWORD, make_user
from tests.test_api import TestClient

pytestmark = pytest.mark.usefixtures("gazetteer")

XF = "{http://www.w3.org/2002/xforms}"
LIST_NS = "{http://openrosa.org/xforms/xformsList}"
RESPONSE_NS = "{http://openrosa.org/http/response}"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
HEAD_AR, HEAD_LAT, SPOUSE_AR = "عبد الستار", "Abdul Sattar", "خديجة"


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime.settings, runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}


def form_of(client: TestClient, headers: dict[str, str], form_id: str) -> BuiltForm:
    listed = forms_listed(client, headers)
    response = client.get(listed[form_id]["downloadUrl"], headers=headers)
    assert response.status_code == 200 and response.headers["x-openrosa-version"] == "1.0"
    assert hashlib.md5(response.content).hexdigest() == listed[form_id]["hash"].removeprefix("md5:")
    return BuiltForm(form_id, "", listed[form_id]["version"], response.text, ())


def forms_listed(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, str]]:
    response = client.get("/openrosa/formList", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["x-openrosa-version"] == "1.0" and response.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    return {
        entry.findtext(f"{LIST_NS}formID", ""): {child.tag.removeprefix(LIST_NS): child.text or "" for child in entry}
        for entry in root.findall(f"{LIST_NS}xform")
    }


def instance_xml(form: BuiltForm, answers: dict[str, str], repeats: dict[str, list[dict[str, str]]]) -> bytes:
    """An instance as Collect writes it: the form's own primary instance, filled in (every name must exist)."""
    template = ElementTree.fromstring(form.xml).find(f".//{XF}model/{XF}instance")[0]  # type: ignore[index]
    root = ElementTree.Element("data", id=str(template.get("id")), version=str(template.get("version")))
    seen: set[str] = set()
    for child in template:
        name = child.tag.removeprefix(XF)
        if name in repeats:
            if name not in seen:
                for item in repeats[name]:
                    group = ElementTree.SubElement(root, name)
                    for leaf in child:
                        leaf_name = leaf.tag.removeprefix(XF)
                        ElementTree.SubElement(group, leaf_name).text = item.pop(leaf_name, leaf.text)
                    assert item == {}, f"no such question in {name}: {item}"
            seen.add(name)
        elif name == "meta":
            meta = ElementTree.SubElement(root, "meta")
            ElementTree.SubElement(meta, "instanceID").text = answers.pop("instanceID")
        else:
            ElementTree.SubElement(root, name).text = answers.pop(name, child.text)
    assert answers == {}, f"no such question: {answers}"
    return b"<?xml version='1.0' ?>" + ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)


def registration(form: BuiltForm, instance_id: str, site: str = "RUKBAN", **changes: str) -> bytes:
    answers = {
        "instanceID": instance_id,
        "today": "2024-03-01",
        "registrar": "reg",
        "site": site,
        "consent_purposes": "registration movement follow_up",
        "consent_date": "2024-03-01",
        "intention": "return",
        "origin_pcode": "C4402",
        "destination_pcode": "C6101",
        "window_start": "",
        "window_end": "",
        "intention_members": "all",
    } | changes
    members = [
        {"member_index": "1", "relationship": "head", "given_name_ar": HEAD_AR, "given_name_lat": HEAD_LAT}
        | {"sex": "male", "birth_year": "1979", "document_type": "national_id", "document_number": "03120045678"}
        | {"phone": "+963944555777"},
        {"member_index": "2", "relationship": "spouse", "given_name_ar": SPOUSE_AR, "sex": "female"}
        | {"birth_date": "1984-02-03"},
    ]
    return instance_xml(form, answers, {"members": members})


def submit(
    client: TestClient, headers: dict[str, str], xml: bytes, files: dict[str, tuple[str, bytes, str]] | None = None
) -> httpx.Response:
    parts: list[tuple[str, Any]] = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
    parts += [(name, value) for name, value in (files or {}).items()]
    response: httpx.Response = client.post("/openrosa/submission", files=parts, headers=headers)
    assert response.headers["x-openrosa-version"] == "1.0"
    return response


def message(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("text/xml"), response.text
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{RESPONSE_NS}OpenRosaResponse"
    return root.findtext(f"{RESPONSE_NS}message", "")


def counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    models = (Household, Person, Event, FieldSubmission, FieldAttachment, Incident)
    return tuple(int(session.scalar(select(func.count()).select_from(model)) or 0) for model in models)


def new_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def test_each_user_lists_only_the_forms_of_their_role_with_only_their_sites(
    client: TestClient, session: Session
) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    make_user(session, "mon", "monitor", ("RUKBAN",))
    make_user(session, "ana", "analyst")
    assert set(forms_listed(client, basic("reg"))) == {REGISTRATION}
    assert set(forms_listed(client, basic("mon"))) == {FOLLOWUP, INCIDENT}
    assert forms_listed(client, basic("ana")) == {}
    form = form_of(client, basic("reg"), REGISTRATION)
    assert "RUKBAN" in form.xml and "ATMEH" not in form.xml and "JARABLUS" not in form.xml
    assert "C6101" in form.xml  # places are the public gazetteer
    entry = forms_listed(client, basic("reg"))[REGISTRATION]
    assert entry["downloadUrl"].endswith("/openrosa/forms/awda_registration.xml") and entry["version"].startswith("1.")
    one = client.get("/openrosa/formList", params={"formID": INCIDENT}, headers=basic("mon"))
    assert one.status_code == 200 and INCIDENT in one.text and FOLLOWUP not in one.text
    refused = client.get("/openrosa/forms/awda_incident.xml", headers=basic("reg"))
    assert refused.status_code == 404 and "no form" in message(refused)


def test_a_registration_from_a_phone_becomes_a_household_with_sealed_names(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    headers = basic("reg")
    instance_id = new_id()
    response = submit(client, headers, registration(form_of(client, headers, REGISTRATION), instance_id))
    assert response.status_code == 201, response.text
    assert "received" in message(response)
    household = session.scalar(select(Household).where(Household.source_ref == instance_id.removeprefix("uuid:")))
    assert household is not None
    persons = session.scalars(select(Person).where(Person.household_id == household.id)).all()
    assert len(persons) == 2
    for person in persons:
        assert person.sealed is not None and HEAD_AR.encode() not in person.sealed
        assert HEAD_LAT.encode() not in person.sealed and SPOUSE_AR.encode() not in person.sealed
    from awda.access.readers import household_for

    view = household_for(session, runtime.vault, SYSTEM, household.uid)
    assert view["members"][0]["given_name_ar"] == HEAD_AR and view["members"][1]["birth_date"] == "1984-02-03"
    assert view["intentions"][0]["kind"] == "return"
    actions = session.scalars(select(Event.action).where(Event.site_id == household.site_id)).all()
    assert "register_household" in actions and "receive_submission" in actions


def test_a_duplicate_is_received_again_and_a_conflicting_one_refused(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    headers = basic("reg")
    form = form_of(client, headers, REGISTRATION)
    instance_id = new_id()
    assert submit(client, headers, registration(form, instance_id)).status_code == 201
    before = counts(session)
    again = submit(client, headers, registration(form, instance_id))
    assert again.status_code == 202 and "already received" in message(again)
    assert counts(session) == before
    changed = submit(client, headers, registration(form, instance_id, travel_group="T-9"))
    assert changed.status_code == 409 and "different content" in message(changed)
    assert counts(session) == before


def test_a_submission_for_a_site_outside_the_users_scope_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    headers = basic("reg")
    before = counts(session)
    response = submit(client, headers, registration(form_of(client, headers, REGISTRATION), new_id(), site="ATMEH"))
    assert response.status_code == 403 and "may not register" in message(response)
    assert counts(session) == before


def test_an_invalid_answer_names_the_member_and_field_and_writes_nothing(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    headers = basic("reg")
    form = form_of(client, headers, REGISTRATION)
    xml = registration(form, new_id()).replace(
        b"<birth_date>1984-02-03</birth_date>", b"<birth_date>2984-02-03</birth_date>"
    )
    before = counts(session)
    response = submit(client, headers, xml)
    assert response.status_code == 422 and message(response) == "members[2]/birth_date: is in the future"
    assert counts(session) == before


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


def submit_raw(
    client: TestClient, headers: dict[str, str], xml: bytes, files: dict[str, tuple[str, bytes, str]]
) -> httpx.Response:
    parts: list[tuple[str, Any]] = [("xml_submission_file", ("submission.xml", xml, "text/xml")), *files.items()]
    response: httpx.Response = client.post("/openrosa/submission", files=parts, headers=headers)
    return response


def _registered_and_arrived(client: TestClient, session: Session) -> str:
    """A household registered from a phone, arrived at C4301 on the first of May; its registration id."""
    make_user(session, "reg", "registrar", ("RUKBAN",))
    instance_id = new_id()
    assert submit(client, basic("reg"), registration(form_of(client, basic("reg"), REGISTRATION), instance_id))
    uid = session.scalar(select(Household.uid).where(Household.source_ref == instance_id.removeprefix("uuid:")))
    assert uid is not None
    record_arrival(session, SYSTEM, ArrivalIn(household_uid=uid, arrived_on=date(2024, 5, 1), place="C4301"))
    return instance_id.removeprefix("uuid:")


def test_a_follow_up_from_a_phone_records_its_outcome(client: TestClient, session: Session) -> None:
    registration_uuid = _registered_and_arrived(client, session)
    make_user(session, "mon", "monitor", ("RUKBAN",))
    form = form_of(client, basic("mon"), FOLLOWUP)
    answers = {"registration_uuid": registration_uuid, "arrived_on": "2024-05-01", "days_after_arrival": "30"}
    answers |= {"outcome": "reached", "contacted_on": "2024-06-02"}
    response = submit(client, basic("mon"), instance_xml(form, answers | {"instanceID": new_id()}, {}))
    assert response.status_code == 201, message(response)
    followup = session.scalar(select(FollowUp).where(FollowUp.days_after_arrival == 30))
    assert followup is not None and followup.outcome == "reached" and followup.contacted_on == date(2024, 6, 2)
    twice = submit(client, basic("mon"), instance_xml(form, answers | {"instanceID": new_id()}, {}))
    assert twice.status_code == 409 and "recorded already (reached)" in message(twice)
    make_user(session, "mon-atmeh", "monitor", ("ATMEH",))
    other = form_of(client, basic("mon-atmeh"), FOLLOWUP)
    elsewhere = answers | {"days_after_arrival": "90", "instanceID": new_id()}
    refused = submit(client, basic("mon-atmeh"), instance_xml(other, elsewhere, {}))
    assert refused.status_code == 422 and "registration_uuid: no registered household" in message(refused)


def test_an_incident_with_a_photo_sent_in_two_posts(client: TestClient, session: Session, runtime: Runtime) -> None:
    registration_uuid = _registered_and_arrived(client, session)
    make_user(session, "mon", "monitor", ("RUKBAN",))
    headers = basic("mon")
    form = form_of(client, headers, INCIDENT)
    instance_id = new_id()
    answers = {"instanceID": instance_id, "type": "arrest", "date": "2024-06-10", "place_pcode": "C4301"}
    answers |= {"perpetrator_category": "checkpoint_forces", "source": "household", "verification": "reported"}
    answers |= {"reporter_name": "Umm Ahmad", "reporter_contact": "+963933000111", "evidence": "1718000000.jpg"}
    persons = [{"registration_uuid": registration_uuid, "member_index": "1"}]
    xml = instance_xml(form, dict(answers), {"persons": copy.deepcopy(persons)})
    first = submit(client, headers, xml, {"*isIncomplete*": ("", b"yes", "text/plain")})
    assert first.status_code == 201 and "waiting for the rest" in message(first)
    incident = session.scalar(select(Incident).where(Incident.source_ref == instance_id.removeprefix("uuid:")))
    assert incident is not None and incident.type == "arrest" and incident.sealed_reporter is not None
    assert b"Umm Ahmad" not in incident.sealed_reporter
    submission = session.scalar(select(FieldSubmission).where(FieldSubmission.instance_id == instance_id))
    assert submission is not None and not submission.complete
    photo = {"1718000000.jpg": ("1718000000.jpg", JPEG, "image/jpeg")}
    second = submit(client, headers, xml, photo)
    assert second.status_code == 201 and message(second) == f"received ({INCIDENT})"
    session.expire_all()
    assert submission.complete and session.scalar(select(func.count()).select_from(Incident)) == 1
    stored = session.scalars(select(FieldAttachment)).one()
    assert stored.size == len(JPEG) and JPEG[16:80] not in stored.sealed
    data_key = runtime.vault.unwrap(submission.wrapped_key, f"submission:{instance_id}")
    assert runtime.vault.open(data_key, stored.sealed, f"submission:{instance_id}:1718000000.jpg") == JPEG
    before = counts(session)
    assert submit(client, headers, xml, photo).status_code == 202
    assert counts(session) == before


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"other.jpg": ("other.jpg", JPEG, "image/jpeg")}, "other.jpg is not named by any photo question"),
        ({"p.jpg": ("p.jpg", b"MZ\x90\x00", "image/jpeg")}, "p.jpg: the content is not image/jpeg"),
        ({"p.jpg": ("p.jpg", JPEG, "application/pdf")}, "type application/pdf is not accepted"),
    ],
)
def test_attachments_are_checked_before_anything_is_written(
    client: TestClient, session: Session, files: dict[str, tuple[str, bytes, str]], expected: str
) -> None:
    registration_uuid = _registered_and_arrived(client, session)
    make_user(session, "mon", "monitor", ("RUKBAN",))
    form = form_of(client, basic("mon"), INCIDENT)
    answers = {"instanceID": new_id(), "type": "injury", "date": "2024-06-10", "source": "monitor"}
    answers |= {"evidence": "p.jpg"}
    xml = instance_xml(form, answers, {"persons": [{"registration_uuid": registration_uuid, "member_index": "2"}]})
    before = counts(session)
    response = submit(client, basic("mon"), xml, files)
    assert response.status_code == 422 and expected in message(response)
    assert counts(session) == before


def test_a_registration_accepts_no_attachment(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    xml = registration(form_of(client, basic("reg"), REGISTRATION), new_id())
    response = submit(client, basic("reg"), xml, {"id.jpg": ("id.jpg", JPEG, "image/jpeg")})
    assert response.status_code == 422 and "not named by any photo question" in message(response)


def test_no_personal_value_in_any_refusal(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    form = form_of(client, basic("reg"), REGISTRATION)
    xml = registration(form, new_id()).replace(b"<sex>female</sex>", f"<sex>{SPOUSE_AR}</sex>".encode())
    response = submit(client, basic("reg"), xml)
    assert response.status_code == 422 and message(response).startswith("members[2]/sex")
    assert HEAD_AR not in response.text and SPOUSE_AR not in response.text and HEAD_LAT not in response.text


def test_a_bearer_token_works_too(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    token = client.post("/api/v1/auth/token", json={"username": "reg", "password": PASSWORD}).json()["access_token"]
    assert set(forms_listed(client, {"Authorization": f"Bearer {token}"})) == {REGISTRATION}
    assert client.get("/openrosa/formList", headers={"Authorization": "Bearer awda_nope"}).status_code == 401


def test_contacted_on_before_arrival_is_refused(client: TestClient, session: Session) -> None:
    registration_uuid = _registered_and_arrived(client, session)
    make_user(session, "mon", "monitor", ("RUKBAN",))
    form = form_of(client, basic("mon"), FOLLOWUP)
    answers = {"registration_uuid": registration_uuid, "arrived_on": "2024-05-01", "days_after_arrival": "7"}
    answers |= {"outcome": "moved", "contacted_on": str(date(2024, 5, 1) - timedelta(days=1)), "instanceID": new_id()}
    response = submit(client, basic("mon"), instance_xml(form, answers, {}))
    assert response.status_code == 422 and message(response).startswith("contacted_on")


def test_a_household_registered_otherwise_is_named_by_its_id(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    from awda.households.services import register_household
    from tests.factories import household

    registered = register_household(session, runtime.vault, SYSTEM, household(site="RUKBAN"))
    record_arrival(
        session, SYSTEM, ArrivalIn(household_uid=registered.household_uid, arrived_on=date(2024, 5, 1), place="C4301")
    )
    make_user(session, "mon", "monitor", ("RUKBAN",))
    form = form_of(client, basic("mon"), FOLLOWUP)
    answers = {"registration_uuid": registered.household_uid, "arrived_on": "2024-05-01", "days_after_arrival": "7"}
    answers |= {"outcome": "not_reached", "contacted_on": "2024-05-09", "instanceID": new_id()}
    assert submit(client, basic("mon"), instance_xml(form, answers, {})).status_code == 201


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


def test_an_edit_of_a_sent_form_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    xml = registration(form_of(client, basic("reg"), REGISTRATION), new_id())
    edited = xml.replace(b"</instanceID>", b"</instanceID><deprecatedID>uuid:1</deprecatedID>")
    before = counts(session)
    response = submit(client, basic("reg"), edited)
    assert response.status_code == 422 and message(response).startswith("meta/deprecatedID")
    assert counts(session) == before


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


def test_a_phone_registration_and_an_export_of_it_are_one_household(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    from awda.households.importer import import_registration_rows
    from awda.households.rows import HOUSEHOLD_COLUMNS, PERSON_COLUMNS

    make_user(session, "reg", "registrar", ("RUKBAN",))
    form = form_of(client, basic("reg"), REGISTRATION)
    instance_id = new_id()
    xml = registration(form, instance_id)
    assert submit(client, basic("reg"), xml).status_code == 201
    instance = parse_instance(xml)  # the same submission, as an export flattens it
    header = ["_uuid", *HOUSEHOLD_COLUMNS[1:], *PERSON_COLUMNS]
    household = [instance.uuid, *(instance.fields.get(name, "") for name in HOUSEHOLD_COLUMNS[1:])]
    exported = [household + [member.get(name, "") for name in PERSON_COLUMNS] for member in instance.repeats["members"]]
    actor = SYSTEM
    report = import_registration_rows(session, runtime.vault, actor, header, exported, "export.xlsx", workers=0)
    assert report.skipped == 1 and report.households == 0
    exported[1][header.index("sex")] = "male"  # the export says otherwise: a conflict, not a second household
    changed = import_registration_rows(session, runtime.vault, actor, header, exported, "export.xlsx", workers=0)
    assert changed.households == 0 and changed.skipped == 0
    assert session.scalar(select(func.count()).select_from(Household)) == 1


def test_a_household_imported_first_is_not_registered_again_by_its_phone_submission(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    from awda.households.importer import import_registration_rows
    from awda.households.rows import HOUSEHOLD_COLUMNS, PERSON_COLUMNS

    make_user(session, "reg", "registrar", ("RUKBAN",))
    xml = registration(form_of(client, basic("reg"), REGISTRATION), new_id())
    instance = parse_instance(xml)
    header = ["_uuid", *HOUSEHOLD_COLUMNS[1:], *PERSON_COLUMNS]
    household = [instance.uuid, *(instance.fields.get(name, "") for name in HOUSEHOLD_COLUMNS[1:])]
    exported = [household + [member.get(name, "") for name in PERSON_COLUMNS] for member in instance.repeats["members"]]
    report = import_registration_rows(session, runtime.vault, SYSTEM, header, exported, "export.xlsx", workers=0)
    assert report.households == 1
    response = submit(client, basic("reg"), xml)
    assert response.status_code == 201, message(response)
    assert session.scalar(select(func.count()).select_from(Household)) == 1
    submission = session.scalar(select(FieldSubmission).where(FieldSubmission.instance_id == instance.instance_id))
    household_uid = session.scalar(select(Household.uid))
    assert submission is not None and submission.record_uid == household_uid
    other = registration(form_of(client, basic("reg"), REGISTRATION), instance.instance_id, travel_group="T-2")
    conflict = submit(client, basic("reg"), other)
    assert conflict.status_code == 409


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
