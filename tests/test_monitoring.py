"""Arrivals, follow-ups, incidents and cohort counts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.agreements.rules import AgreementRecord, TermRecord
from awda.agreements.services import create_agreement
from awda.audit.models import Event
from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from awda.households.services import Registered, register_household
from awda.monitoring import cohorts, followups, incidents, rules
from awda.monitoring.arrivals import arrivals_of_household, record_arrival
from awda.monitoring.commands import ArrivalIn, FollowUpOutcomeIn, IncidentIn, PersonRef, ReporterIn
from awda.monitoring.models import FollowUp
from awda.monitoring.rules import parse_schedule
from awda.runtime import Runtime
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("gazetteer")
ARRIVED = date(2019, 3, 1)
REPORTER = "Umm Khaled, the neighbour"


def _agreement(session: Session, schedule: str | None = None) -> None:
    record = AgreementRecord(
        code="AG-TEST",
        name_en="Test agreement",
        name_ar="اتفاق تجريبي",
        area_pcode=None,
        guarantor="Guarantor A",
        parties="",
        signed_on=date(2018, 5, 2),
        terms=(
            TermRecord("T-ARREST", "no_arrest", "returnees", 180),
            TermRecord("T-CONSCRIPT", "no_conscription", "men_18_42", 365),
        ),
        followup_days=parse_schedule(schedule or ""),
    )
    create_agreement(session, SYSTEM, record)


def _household(runtime: Runtime, session: Session, site: str = "RUKBAN") -> Registered:
    return register_household(session, runtime.vault, SYSTEM, factories.household(site=site))


def _arrive(session: Session, registered: Registered, members: list[int] | None = None, on: date = ARRIVED) -> None:
    command = ArrivalIn(
        household_uid=registered.household_uid,
        member_indexes=members,
        arrived_on=on,
        place="C4301",
        agreement="AG-TEST",
    )
    record_arrival(session, SYSTEM, command)


def _incident(runtime: Runtime, session: Session, registered: Registered, kind: str, day: int, **extra: object) -> str:
    values = {
        "type": kind,
        "occurred_on": ARRIVED + timedelta(days=day),
        "persons": [PersonRef(household_uid=registered.household_uid, member_index=1)],
        "perpetrator_category": "military_security",
    }
    command = IncidentIn.model_validate(values | extra)
    return incidents.record_incident(session, runtime.vault, SYSTEM, command)


def _followups(session: Session, registered: Registered) -> list[dict[str, object]]:
    return followups.followups_of_household(session, SYSTEM, registered.household_uid)


def test_an_arrival_schedules_the_agreements_follow_ups_once(runtime: Runtime, session: Session) -> None:
    _agreement(session, schedule="14,60")
    registered = _household(runtime, session)
    _arrive(session, registered, [1, 2])
    items = _followups(session, registered)
    assert [(i["days_after_arrival"], i["due_on"]) for i in items] == [(14, "2019-03-15"), (60, "2019-04-30")]
    with pytest.raises(Conflict):
        _arrive(session, registered, [1, 2])
    _arrive(session, registered, [3])  # the daughter arrives the same day: no second schedule
    assert len(_followups(session, registered)) == 2
    events = session.scalar(select(func.count()).select_from(Event).where(Event.action == "record_arrival"))
    assert events == 2


def test_default_schedule_and_unknown_members_or_places(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    registered = _household(runtime, session)
    with pytest.raises(ValidationFailed, match="member_indexes"):
        _arrive(session, registered, [7])
    bad_place = ArrivalIn(household_uid=registered.household_uid, arrived_on=ARRIVED, place="C9999")
    with pytest.raises(ValidationFailed, match="place"):
        record_arrival(session, SYSTEM, bad_place)
    assert _followups(session, registered) == []  # nothing half-written
    _arrive(session, registered)
    assert [i["days_after_arrival"] for i in _followups(session, registered)] == [7, 30, 90, 180, 365]


def test_moved_cancels_later_follow_ups_and_outcomes_are_guarded(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    registered = _household(runtime, session)
    _arrive(session, registered)
    first, second = _followups(session, registered)[:2]
    reached = FollowUpOutcomeIn(outcome="reached", contacted_on=ARRIVED + timedelta(days=8))
    with pytest.raises(StaleVersion):
        followups.record_outcome(session, SYSTEM, str(first["followup_id"]), reached, expected_version=5)
    followups.record_outcome(session, SYSTEM, str(first["followup_id"]), reached, expected_version=1)
    with pytest.raises(Conflict):
        followups.record_outcome(session, SYSTEM, str(first["followup_id"]), reached)
    moved = FollowUpOutcomeIn(outcome="moved", contacted_on=ARRIVED + timedelta(days=31))
    followups.record_outcome(session, SYSTEM, str(second["followup_id"]), moved)
    assert [i["outcome"] for i in _followups(session, registered)] == [
        "reached",
        "moved",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    early = FollowUpOutcomeIn(outcome="reached", contacted_on=ARRIVED - timedelta(days=1))
    other = _household(runtime, session)
    _arrive(session, other)
    with pytest.raises(ValidationFailed, match="contacted_on"):
        followups.record_outcome(session, SYSTEM, str(_followups(session, other)[0]["followup_id"]), early)


def test_overdue_lists_are_per_monitor_and_per_site(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    rukban, atmeh = _household(runtime, session), _household(runtime, session, "ATMEH")
    _arrive(session, rukban)
    _arrive(session, atmeh)
    monitor = make_user(session, "monitor-rukban", "monitor", ("RUKBAN",))
    today = ARRIVED + timedelta(days=95)
    page = followups.overdue_followups(session, monitor, today, grace_days=7)
    assert page["total"] == 2 and {i["household_id"] for i in page["items"]} == {rukban.household_uid}
    assert [i["days_after_arrival"] for i in page["items"]] == [7, 30]  # day 90 is within the grace days
    with pytest.raises(ValidationFailed, match="does not cover"):
        followups.assign_followups(session, SYSTEM, atmeh.household_uid, "monitor-rukban")
    assert followups.assign_followups(session, SYSTEM, rukban.household_uid, "monitor-rukban") == 5
    mine = followups.overdue_followups(session, SYSTEM, today, 7, monitor="monitor-rukban")
    assert mine["total"] == 2 and {i["monitor"] for i in mine["items"]} == {"monitor-rukban"}
    analyst = make_user(session, "analyst", "analyst")
    with pytest.raises(PermissionDenied):
        followups.overdue_followups(session, analyst, today, 7)


def test_unreached_households_are_escalated_once(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    quiet, reached = _household(runtime, session), _household(runtime, session)
    _arrive(session, quiet)
    _arrive(session, reached)
    contact = FollowUpOutcomeIn(outcome="reached", contacted_on=ARRIVED + timedelta(days=35))
    for item in _followups(session, reached)[:2]:
        followups.record_outcome(session, SYSTEM, str(item["followup_id"]), contact)
    today = ARRIVED + timedelta(days=60)
    found = followups.unreached_households(session, SYSTEM, today, after_days=45)
    assert [(i["household_id"], i["days"]) for i in found] == [(quiet.household_uid, 60)]
    coordinator = make_user(session, "coordinator-rukban", "coordinator", ("RUKBAN",))
    assert len(followups.escalate_unreached(session, coordinator, today, 45)) == 1  # needs no FOLLOW_UP
    assert followups.escalate_unreached(session, SYSTEM, today, 45) == []
    outsider = make_user(session, "coordinator-atmeh", "coordinator", ("ATMEH",))
    assert followups.escalate_unreached(session, outsider, today + timedelta(days=400), 45) == []
    assert session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.escalated_at.is_not(None))) == 2


def test_breached_terms_follow_time_person_and_kind(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    registered = _household(runtime, session)
    _arrive(session, registered)
    early = incidents.incident_view(session, SYSTEM, _incident(runtime, session, registered, "arrest", 30))
    late = incidents.incident_view(session, SYSTEM, _incident(runtime, session, registered, "arrest", 200))
    drafted = incidents.incident_view(session, SYSTEM, _incident(runtime, session, registered, "conscription", 200))
    assert early["breached_terms"] == ["T-ARREST"] and early["agreement"] == "AG-TEST"
    assert late["breached_terms"] == []  # the six-month promise had run out
    assert drafted["breached_terms"] == ["T-CONSCRIPT"]  # the head was 40 on arrival
    spouse = IncidentIn(
        type="conscription",
        occurred_on=ARRIVED + timedelta(days=20),
        persons=[PersonRef(household_uid=registered.household_uid, member_index=2)],
    )
    assert (
        incidents.incident_view(session, SYSTEM, incidents.record_incident(session, runtime.vault, SYSTEM, spouse))[
            "breached_terms"
        ]
        == []
    )
    with pytest.raises(ValidationFailed, match="no term"):
        _incident(runtime, session, registered, "arrest", 3, breached_terms=["T-NOPE"])


def test_reporters_are_sealed_and_reading_them_is_logged(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    registered = _household(runtime, session)
    _arrive(session, registered)
    uid = _incident(runtime, session, registered, "detention", 10, reporter=ReporterIn(name=REPORTER))
    raw = session.execute(text("SELECT sealed_reporter FROM incidents")).scalar_one()
    assert REPORTER.encode() not in bytes(raw)
    view = incidents.incident_view(session, SYSTEM, uid)
    assert view["has_reporter"] and REPORTER not in str(view)
    analyst = make_user(session, "analyst", "analyst")
    with pytest.raises(PermissionDenied):
        incidents.read_reporter(session, runtime.vault, analyst, uid)
    outsider = make_user(session, "monitor-atmeh", "monitor", ("ATMEH",))
    with pytest.raises(NotFound):
        incidents.read_reporter(session, runtime.vault, outsider, uid)
    assert incidents.read_reporter(session, runtime.vault, SYSTEM, uid)["reporter"]["name"] == REPORTER
    reads = session.scalar(select(func.count()).select_from(Event).where(Event.action == "read_incident_reporter"))
    assert reads == 1
    payloads = " ".join(session.scalars(select(Event.payload)))
    assert REPORTER not in payloads and "Umm" not in payloads


def test_verification_changes_are_versioned_and_filtered(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    registered = _household(runtime, session)
    _arrive(session, registered)
    uid = _incident(runtime, session, registered, "arrest", 10)
    assert incidents.set_verification(session, SYSTEM, uid, "credible", expected_version=1) == 2
    with pytest.raises(StaleVersion):
        incidents.set_verification(session, SYSTEM, uid, "verified", expected_version=1)
    with pytest.raises(Conflict):
        incidents.set_verification(session, SYSTEM, uid, "credible")
    assert incidents.list_incidents(session, SYSTEM, verification="credible")["total"] == 1
    assert incidents.list_incidents(session, SYSTEM, verification="verified")["total"] == 0
    outsider = make_user(session, "coord-atmeh", "coordinator", ("ATMEH",))
    assert incidents.list_incidents(session, outsider)["total"] == 0
    with pytest.raises(ValidationFailed, match="perpetrator_category"):
        _incident(runtime, session, registered, "arrest", 11, perpetrator_category="Captain Ahmad X.")


def test_cohort_counts_are_exact_and_censored_at_the_last_contact(runtime: Runtime, session: Session) -> None:
    _agreement(session)
    arrested, reached, silent = (_household(runtime, session) for _ in range(3))
    for registered in (arrested, reached, silent):
        _arrive(session, registered, [1])
    _incident(runtime, session, arrested, "arrest", 40)
    _incident(runtime, session, arrested, "killing", 40)  # same day: the graver cause is counted
    _incident(runtime, session, reached, "arrest", 120, verification="reported")
    _incident(runtime, session, reached, "extortion", 5)  # not serious
    for household in (arrested, reached):
        for item in _followups(session, household)[:3]:
            contact = FollowUpOutcomeIn(outcome="reached", contacted_on=ARRIVED + timedelta(days=95))
            followups.record_outcome(session, SYSTEM, str(item["followup_id"]), contact)
    rows = cohorts.survival_counts(session, cohorts.CohortQuery(by="agreement", min_verification="credible"))
    assert rows == [("AG-TEST", 0, 0, 1), ("AG-TEST", 95, 0, 2)]  # unverified reports left out
    rows = cohorts.survival_counts(session, cohorts.CohortQuery(by="agreement"))
    # the arrest on day 120 came after the last contact (day 95): that person is censored at 95
    assert rows == [("AG-TEST", 0, 0, 1), ("AG-TEST", 40, 3, 1), ("AG-TEST", 95, 0, 1)]
    rows = cohorts.survival_counts(session, cohorts.CohortQuery(by="profile"))
    assert {row[0] for row in rows} == {"male 18-42"}
    rows = cohorts.survival_counts(session, cohorts.CohortQuery(by="area", as_of=ARRIVED + timedelta(days=60)))
    assert rows == [("C4301", 0, 0, 3)]  # by then nobody had been reached: nothing is observed yet


def test_the_api_records_a_return_and_its_follow_up_and_guards_the_reporter(runtime: Runtime, session: Session) -> None:
    from awda.web.app import create_app
    from tests.test_api import API, TestClient, if_match, login, problem

    _agreement(session)
    registered = _household(runtime, session)
    with TestClient(create_app(runtime.settings, runtime)) as client:
        monitor = login(client, session, "monitor1", "monitor")
        body = {"household_uid": registered.household_uid, "arrived_on": "2019-03-01", "place": "C4301"}
        created = client.post(f"{API}/monitoring/arrivals", json=body | {"agreement": "AG-TEST"}, headers=monitor)
        assert created.status_code == 201 and created.json()["followups_scheduled"] == 5, created.text
        again = client.post(f"{API}/monitoring/arrivals", json=body, headers=monitor)
        problem(again, 409)
        items = client.get(f"{API}/monitoring/households/{registered.household_uid}/followups", headers=monitor).json()
        outcome_url = f"{API}/monitoring/followups/{items[0]['followup_id']}/outcome"
        outcome = {"outcome": "reached", "contacted_on": "2019-03-09"}
        problem(client.post(outcome_url, json=outcome, headers=monitor), 428)
        done = client.post(outcome_url, json=outcome, headers=if_match(monitor, '"v1"'))
        assert done.status_code == 200 and done.headers["etag"] == '"v2"'
        incident = {
            "type": "arrest",
            "occurred_on": "2019-04-01",
            "persons": [{"household_uid": registered.household_uid, "member_index": 1}],
            "perpetrator_category": "military_security",
            "reporter": {"name": REPORTER},
        }
        recorded = client.post(f"{API}/monitoring/incidents", json=incident, headers=monitor)
        assert recorded.status_code == 201 and recorded.json()["breached_terms"] == ["T-ARREST"], recorded.text
        assert REPORTER not in recorded.text
        uid = recorded.json()["incident_id"]
        analyst = login(client, session, "analyst1", "analyst")
        problem(client.get(f"{API}/monitoring/incidents/{uid}/reporter", headers=analyst), 403)
        named = client.get(f"{API}/monitoring/incidents/{uid}/reporter", headers=monitor)
        assert named.json()["reporter"]["name"] == REPORTER
        bad = client.post(f"{API}/monitoring/incidents", json=incident | {"type": "rumour"}, headers=monitor)
        assert problem(bad, 422)["errors"][0]["field"].endswith("type")


def test_an_arrival_cannot_be_in_the_future_but_may_precede_registration(runtime: Runtime, session: Session) -> None:
    today = date(2026, 3, 10)
    assert rules.arrival_day_problem(today + timedelta(days=1), today) is None  # tomorrow: time zones east of UTC
    assert rules.arrival_day_problem(today + timedelta(days=2), today) == "is in the future"
    assert rules.arrival_day_problem(date(2001, 1, 1), today) is None
    registered = _household(runtime, session)
    later = ArrivalIn(
        household_uid=registered.household_uid, arrived_on=date.today() + timedelta(days=30), place="C4301"
    )
    with pytest.raises(ValidationFailed, match="arrived_on: is in the future"):
        record_arrival(session, SYSTEM, later)
    assert arrivals_of_household(session, SYSTEM, registered.household_uid) == []
