"""What the OpenRosa tests share: the app and client, credentials, and submissions built from the
converted forms' own instances, as ODK Collect writes them."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date
from typing import Any
from xml.etree import ElementTree

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.field.forms import REGISTRATION, BuiltForm
from awda.field.models import FieldAttachment, FieldSubmission
from awda.households.models import Household, Person
from awda.monitoring.arrivals import record_arrival
from awda.monitoring.commands import ArrivalIn
from awda.monitoring.models import Incident
from tests.conftest import PASSWORD, make_user
from tests.test_api import TestClient

XF = "{http://www.w3.org/2002/xforms}"
LIST_NS = "{http://openrosa.org/xforms/xformsList}"
RESPONSE_NS = "{http://openrosa.org/http/response}"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
HEAD_AR, HEAD_LAT, SPOUSE_AR = "عبد الستار", "Abdul Sattar", "خديجة"


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


def submit_raw(
    client: TestClient, headers: dict[str, str], xml: bytes, files: dict[str, tuple[str, bytes, str]]
) -> httpx.Response:
    parts: list[tuple[str, Any]] = [("xml_submission_file", ("submission.xml", xml, "text/xml")), *files.items()]
    response: httpx.Response = client.post("/openrosa/submission", files=parts, headers=headers)
    return response


def registered_and_arrived(client: TestClient, session: Session) -> str:
    """A household registered from a phone, arrived at C4301 on the first of May; its registration id."""
    make_user(session, "reg", "registrar", ("RUKBAN",))
    instance_id = new_id()
    assert submit(client, basic("reg"), registration(form_of(client, basic("reg"), REGISTRATION), instance_id))
    uid = session.scalar(select(Household.uid).where(Household.source_ref == instance_id.removeprefix("uuid:")))
    assert uid is not None
    record_arrival(session, SYSTEM, ArrivalIn(household_uid=uid, arrived_on=date(2024, 5, 1), place="C4301"))
    return instance_id.removeprefix("uuid:")
