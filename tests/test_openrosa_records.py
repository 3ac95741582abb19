"""Phone submissions become records on both engines: registrations with sealed names, follow-up
outcomes, incidents with sealed photos; repeats, conflicts, scope and bad answers write nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.field.forms import FOLLOWUP, INCIDENT, REGISTRATION
from awda.field.models import FieldAttachment, FieldSubmission
from awda.field.openrosa import parse_instance
from awda.households.models import Household, Person
from awda.monitoring.arrivals import record_arrival
from awda.monitoring.commands import ArrivalIn
from awda.monitoring.models import FollowUp, Incident
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.conftest import make_user
from tests.openrosa_support import (
    HEAD_AR,
    HEAD_LAT,
    JPEG,
    SPOUSE_AR,
    basic,
    counts,
    form_of,
    instance_xml,
    message,
    new_id,
    registered_and_arrived,
    registration,
    submit,
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


def test_an_edit_of_a_sent_form_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, "reg", "registrar", ("RUKBAN",))
    xml = registration(form_of(client, basic("reg"), REGISTRATION), new_id())
    edited = xml.replace(b"</instanceID>", b"</instanceID><deprecatedID>uuid:1</deprecatedID>")
    before = counts(session)
    response = submit(client, basic("reg"), edited)
    assert response.status_code == 422 and message(response).startswith("meta/deprecatedID")
    assert counts(session) == before


def test_a_follow_up_from_a_phone_records_its_outcome(client: TestClient, session: Session) -> None:
    registration_uuid = registered_and_arrived(client, session)
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


def test_contacted_on_before_arrival_is_refused(client: TestClient, session: Session) -> None:
    registration_uuid = registered_and_arrived(client, session)
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


def test_an_incident_with_a_photo_sent_in_two_posts(client: TestClient, session: Session, runtime: Runtime) -> None:
    registration_uuid = registered_and_arrived(client, session)
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


def test_a_photo_that_never_arrives_is_counted_missing(client: TestClient, session: Session) -> None:
    registration_uuid = registered_and_arrived(client, session)
    make_user(session, "mon", "monitor", ("RUKBAN",))
    form = form_of(client, basic("mon"), INCIDENT)
    instance_id = new_id()
    answers = {"instanceID": instance_id, "type": "extortion", "date": "2024-06-01", "source": "community"}
    answers |= {"evidence": "1718000001.jpg"}
    xml = instance_xml(form, answers, {"persons": [{"registration_uuid": registration_uuid, "member_index": "1"}]})
    response = submit(client, basic("mon"), xml)
    assert response.status_code == 201
    assert message(response) == f"received ({INCIDENT}); 1 file(s) it names never arrived"
    payload = session.scalar(
        select(Event.payload).where(Event.action == "receive_submission", Event.subject_id == instance_id)
    )
    assert payload is not None and '"attachments_missing":1' in str(payload).replace(" ", "")


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
    registration_uuid = registered_and_arrived(client, session)
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
