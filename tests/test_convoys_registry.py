"""Waiting lists, week plans, re-confirmation, check-in, alarms and a household's own lookup, on both engines."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.convoys import booking, checkin, selfservice, services, waitlists
from awda.convoys.commands import CheckInIn, ConvoyIn, PlanWeekIn
from awda.convoys.messages import FileSender
from awda.db import utcnow
from awda.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from awda.households.intentions import withdraw_intention
from awda.households.models import Intention
from awda.households.services import Registered, register_household
from awda.monitoring.models import Arrival, FollowUp
from awda.runtime import Runtime
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("gazetteer")
TODAY = date.today()
LIMITS = selfservice.Limits(max_failures=3, lock_minutes=15, window_days=7)


def _register(runtime: Runtime, session: Session, declared: date, **overrides: Any) -> Registered:
    command = factories.household(registered_on=declared, **overrides)
    registered = register_household(session, runtime.vault, SYSTEM, command)
    assert registered.intention_uid is not None
    return registered


def _iid(registered: Registered) -> str:
    assert registered.intention_uid is not None
    return registered.intention_uid


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _convoy(session: Session, code: str, day: date, seats: int, destinations: tuple[str, ...] = ("C4301",)) -> None:
    command = ConvoyIn(code=code, site="RUKBAN", departs_on=day, destinations=list(destinations), seats=seats)
    services.schedule_convoy(session, SYSTEM, command)


def _sick(index: int = 4) -> list[object]:
    members = list(factories.household().members)
    return [*members[:1], members[0].model_copy(update={"member_index": index, "relationship": "son",
                                                       "vulnerabilities": ["medical"], "phone": None,
                                                       "document_type": None, "document_number": None})]  # fmt: skip


def test_the_list_orders_by_declaration_brought_forward_by_need(runtime: Runtime, session: Session) -> None:
    early = _register(runtime, session, TODAY - timedelta(days=200))
    late = _register(runtime, session, TODAY - timedelta(days=100))
    # A medical case (score 0.5) counts as declared 45 days earlier: still after `early`, before `late`.
    sick = _register(runtime, session, TODAY - timedelta(days=130), members=_sick())
    listed = waitlists.waiting_list(session, SYSTEM, "RUKBAN", "C4301", TODAY)
    order = [item["household"] for item in listed["items"]]
    assert order == [early.household_uid, sick.household_uid, late.household_uid]
    assert [item["position"] for item in listed["items"]] == [1, 2, 3]
    assert listed["items"][1]["vulnerability"] == 0.5
    assert listed["items"][1]["waiting_since"] == (TODAY - timedelta(days=175)).isoformat()
    assert listed["items"][2]["people_ahead"] == 3 + 2
    # A household the field reports as arrived at its destination no longer waits, whatever its status says.
    from awda.monitoring.arrivals import record_arrival
    from awda.monitoring.commands import ArrivalIn

    record_arrival(session, SYSTEM, ArrivalIn(household_uid=late.household_uid, arrived_on=TODAY, place="C4301"))
    remaining = waitlists.waiting_list(session, SYSTEM, "RUKBAN", "C4301", TODAY)["items"]
    assert late.household_uid not in [item["household"] for item in remaining]
    assert waitlists.list_summaries(session, SYSTEM)[0]["households"] == 2
    # AWDA_WAITLIST_PRIORITY_DAYS=200: the medical case now counts as declared 100 days earlier, ahead of `early`.
    wider = waitlists.waiting_list(session, SYSTEM, "RUKBAN", "C4301", TODAY, priority_days=200)
    assert [item["household"] for item in wider["items"]][:2] == [sick.household_uid, early.household_uid]


def test_expected_weeks_fill_scheduled_convoys_in_list_order(runtime: Runtime, session: Session) -> None:
    first = _register(runtime, session, TODAY - timedelta(days=30))
    second = _register(runtime, session, TODAY - timedelta(days=20))
    third = _register(runtime, session, TODAY - timedelta(days=10))
    _convoy(session, "CV-A", TODAY + timedelta(days=7), seats=3)
    _convoy(session, "CV-B", TODAY + timedelta(days=14), seats=4)
    items = {i["household"]: i for i in waitlists.waiting_list(session, SYSTEM, "RUKBAN", "C4301", TODAY)["items"]}
    assert items[first.household_uid]["expected_convoy"] == "CV-A"
    assert items[second.household_uid]["expected_convoy"] == "CV-B"
    third_item = items[third.household_uid]
    assert third_item["expected_convoy"] is None and third_item["expected_date_estimated"] is True
    assert third_item["expected_week"] > _week(TODAY + timedelta(days=14))


def test_plan_week_books_within_seats_keeps_groups_and_tells_households(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    alone = _register(runtime, session, TODAY - timedelta(days=40))
    group = [_register(runtime, session, TODAY - timedelta(days=90), travel_group="G1") for _ in range(2)]
    departs = TODAY + timedelta(days=3)
    _convoy(session, "CV-1", departs, seats=5)
    week = booking.plan_week(session, SYSTEM, PlanWeekIn(week=_week(departs), time_limit=5))
    # The group (6 people) does not fit 5 seats together, so it waits whole; the lone household rides.
    assert week.plan.assignments == {alone.intention_uid: "CV-1"}
    statuses = dict(session.execute(select(Intention.uid, Intention.status)).tuples().all())
    assert statuses[_iid(alone)] == "assigned"
    assert {statuses[_iid(g)] for g in group} == {"registered"}
    outbox = tmp_path / "outbox.jsonl"
    sent = booking.notify_bookings(session, runtime.vault, SYSTEM, week.booked, FileSender(outbox), 7)
    assert sent == {"sent": 1, "unreachable": 0}
    message = json.loads(outbox.read_text(encoding="utf-8"))
    assert message["to"] == factories.HEAD_PHONE and departs.isoformat() in message["text"]
    assert factories.HEAD_NAME_LAT not in message["text"] and "C4301" not in message["text"]
    assert outbox.stat().st_mode & 0o077 == 0
    assert datetime.fromisoformat(message["queued_at"]).tzinfo is not None  # for retention
    with pytest.raises(Conflict, match="no scheduled convoy"):
        booking.plan_week(session, SYSTEM, PlanWeekIn(week=_week(departs + timedelta(days=30))))


def test_seats_are_never_exceeded_and_a_withdrawal_frees_them(runtime: Runtime, session: Session) -> None:
    registered = [_register(runtime, session, TODAY - timedelta(days=50 - i)) for i in range(4)]
    departs = TODAY + timedelta(days=2)
    _convoy(session, "CV-S", departs, seats=7)
    week = booking.plan_week(session, SYSTEM, PlanWeekIn(week=_week(departs)))
    assert week.plan.assigned_people <= 7 and len(week.plan.assignments) == 2
    assert set(week.plan.assignments) == {registered[0].intention_uid, registered[1].intention_uid}
    withdraw_intention(session, SYSTEM, _iid(registered[0]))
    again = booking.plan_week(session, SYSTEM, PlanWeekIn(week=_week(departs)))
    assert set(again.plan.assignments) == {registered[2].intention_uid}
    view = services.convoy_view(session, SYSTEM, "CV-S")
    assert view["booked_people"] == 6  # the withdrawn household's booking no longer holds seats


def _booked_household(runtime: Runtime, session: Session, code: str, departs: date) -> Registered:
    registered = _register(runtime, session, TODAY - timedelta(days=60))
    _convoy(session, code, departs, seats=10)
    booking.plan_week(session, SYSTEM, PlanWeekIn(week=_week(departs)))
    return registered


def test_departure_needs_reconfirmation_and_an_unconfirmed_household_keeps_its_place(
    runtime: Runtime, session: Session
) -> None:
    departs = TODAY + timedelta(days=1)
    confirmed = _booked_household(runtime, session, "CV-R", departs)
    silent = _register(runtime, session, TODAY - timedelta(days=59))
    booking.plan_week(session, SYSTEM, PlanWeekIn(week=_week(departs)))
    later = _register(runtime, session, TODAY - timedelta(days=5))
    with pytest.raises(Conflict, match="re-confirmed"):
        checkin.check_in_departure(session, SYSTEM, "CV-R", CheckInIn(persons=confirmed.person_uids[:1]), 7)
    pins = selfservice.issue_pin(session, runtime.vault, SYSTEM, confirmed.household_uid)
    status = selfservice.reconfirm_by_household(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)
    assert status["convoy"]["reconfirmed"] is True
    done = checkin.check_in_departure(session, SYSTEM, "CV-R", CheckInIn(persons=confirmed.person_uids), 7)
    assert done["checked_in"] == 3
    again = checkin.check_in_departure(session, SYSTEM, "CV-R", CheckInIn(persons=confirmed.person_uids), 7)
    assert again == {"convoy": "CV-R", "checked_in": 0, "already": 3}
    closed = booking.depart_convoy(session, SYSTEM, "CV-R", 7)
    assert closed["released"]["not_reconfirmed"] == 1
    listed = waitlists.waiting_list(session, SYSTEM, "RUKBAN", "C4301", TODAY)["items"]
    assert [i["household"] for i in listed] == [silent.household_uid, later.household_uid]
    with pytest.raises(Conflict, match="boarding is closed"):
        checkin.check_in_departure(session, SYSTEM, "CV-R", CheckInIn(persons=confirmed.person_uids), 7)


def test_arrival_check_in_records_the_arrival_and_the_alarm_lists_who_is_missing(
    runtime: Runtime, session: Session
) -> None:
    departs = TODAY
    registered = _booked_household(runtime, session, "CV-X", departs)
    pins = selfservice.issue_pin(session, runtime.vault, SYSTEM, registered.household_uid)
    selfservice.reconfirm_by_household(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)
    left_at = utcnow() - timedelta(hours=30)
    checkin.check_in_departure(session, SYSTEM, "CV-X", CheckInIn(persons=registered.person_uids, at=left_at), 7)
    with pytest.raises(ValidationFailed, match="persons\\[0\\]"):
        checkin.check_in_arrival(session, SYSTEM, "CV-X", CheckInIn(persons=["no-such-person"]))
    checkin.check_in_arrival(session, SYSTEM, "CV-X", CheckInIn(persons=registered.person_uids[:2]))
    assert session.scalar(select(func.count()).select_from(Arrival)) == 2
    assert session.scalar(select(func.count()).select_from(FollowUp)) == 5
    missing = checkin.missed_arrivals(session, SYSTEM, hours=24, raise_alarm=True)
    assert missing["total"] == 1 and missing["convoys"][0]["persons"][0]["person"] == registered.person_uids[2]
    assert checkin.missed_arrivals(session, SYSTEM, hours=48)["total"] == 0  # not yet 48 hours
    checkin.missed_arrivals(session, SYSTEM, hours=24, raise_alarm=True)
    alarms = session.scalar(select(func.count()).select_from(Event).where(Event.action == "missed_arrival_alarm"))
    assert alarms == 1
    view = services.convoy_view(session, SYSTEM, "CV-X")["safe_arrival"]
    assert (view["departed"], view["arrived"]) == (3, 2) and view["rate"] == pytest.approx(2 / 3)
    low, high = view["interval_95"]
    assert low < 2 / 3 < high
    checkin.check_in_arrival(session, SYSTEM, "CV-X", CheckInIn(persons=registered.person_uids[2:]))
    statuses = session.scalar(select(Intention.status).where(Intention.uid == registered.intention_uid))
    assert statuses == "arrived"
    assert checkin.missed_arrivals(session, SYSTEM, hours=24)["total"] == 0


def test_a_household_sees_its_own_status_and_nothing_else(runtime: Runtime, session: Session) -> None:
    mine = _register(runtime, session, TODAY - timedelta(days=30))
    other = _register(runtime, session, TODAY - timedelta(days=60), members=_sick())
    pins = selfservice.issue_pin(session, runtime.vault, SYSTEM, mine.household_uid)
    status = selfservice.household_status(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)
    assert status["status"] == "registered" and status["position"] == 2
    assert status["destination"]["pcode"] == "C4301"
    text = json.dumps(status, ensure_ascii=False)
    for secret in (other.household_uid, mine.household_uid, factories.HEAD_NAME_AR, factories.HEAD_PHONE,
                   factories.HEAD_DOCUMENT, _iid(other), _iid(mine)):  # fmt: skip
        assert secret not in text
    assert set(status) <= {"reference", "as_of", "status", "destination", "reconfirmed_at", "position",
                           "expected_week", "expected_week_estimated", "convoy"}  # fmt: skip


def test_wrong_pins_and_unknown_references_look_the_same_and_lock(runtime: Runtime, session: Session) -> None:
    mine = _register(runtime, session, TODAY - timedelta(days=30))
    pins = selfservice.issue_pin(session, runtime.vault, SYSTEM, mine.household_uid)
    wrong = f"{(int(pins['pin']) + 1) % 1_000_000:06d}"
    messages = set()
    for reference, pin in ((pins["reference"], wrong), ("0000-0000-00", pins["pin"]), ("nonsense", "1")):
        with pytest.raises(AuthenticationFailed) as caught:
            selfservice.household_status(session, runtime.vault, reference, pin, TODAY, LIMITS)
        messages.add(str(caught.value))
    assert len(messages) == 1
    for _ in range(2):  # three wrong PINs in all lock the reference, even for the right PIN
        with pytest.raises(AuthenticationFailed):
            selfservice.household_status(session, runtime.vault, pins["reference"], wrong, TODAY, LIMITS)
    with pytest.raises(AuthenticationFailed, match="too many"):
        selfservice.household_status(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)
    other = _register(runtime, session, TODAY - timedelta(days=30))
    fresh = selfservice.issue_pin(session, runtime.vault, SYSTEM, other.household_uid)
    arabic_digits = fresh["pin"].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    typed = fresh["reference"].lower().replace("-", " ")
    assert selfservice.household_status(session, runtime.vault, typed, arabic_digits, TODAY, LIMITS)["status"]


def test_convoys_of_another_site_look_absent(runtime: Runtime, session: Session) -> None:
    _convoy(session, "CV-Z", TODAY + timedelta(days=3), seats=10)
    outsider = make_user(session, "waer_coordinator", "coordinator", ("ALWAER",))
    with pytest.raises(NotFound):
        services.convoy_view(session, outsider, "CV-Z")
    assert services.list_convoys(session, outsider)["total"] == 0
    with pytest.raises(NotFound):
        waitlists.waiting_list(session, outsider, "RUKBAN", "C4301", TODAY)
    with pytest.raises(NotFound):
        checkin.check_in_departure(session, outsider, "CV-Z", CheckInIn(persons=["x"]), 7)


def test_site_flows_count_departures_moves_and_arrivals_once(runtime: Runtime, session: Session) -> None:
    from awda.convoys.site_flows import site_flows_input
    from awda.monitoring.arrivals import record_arrival
    from awda.monitoring.commands import ArrivalIn
    from awda.stats.flows import site_flows

    declared = TODAY - timedelta(days=40)
    travelled = _booked_household(runtime, session, "CV-F", TODAY)
    pins = selfservice.issue_pin(session, runtime.vault, SYSTEM, travelled.household_uid)
    selfservice.reconfirm_by_household(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)
    left = utcnow() - timedelta(days=1)
    checkin.check_in_departure(session, SYSTEM, "CV-F", CheckInIn(persons=travelled.person_uids, at=left), 7)
    checkin.check_in_arrival(session, SYSTEM, "CV-F", CheckInIn(persons=travelled.person_uids))
    walked = _register(runtime, session, declared)  # left on its own: only its arrival elsewhere is known
    on_foot = ArrivalIn(household_uid=walked.household_uid, arrived_on=TODAY - timedelta(days=2), place="C4301")
    record_arrival(session, SYSTEM, on_foot)
    came = _register(runtime, session, declared, site_code="ALWAER")  # from Al-Waer to Rukban's place
    record_arrival(session, SYSTEM, ArrivalIn(household_uid=came.household_uid, arrived_on=TODAY, place="C4402"))
    report = site_flows(site_flows_input(session, SYSTEM, "RUKBAN", TODAY, k=1))
    assert report["totals"] == {"registered": 6, "departed": 3, "moved_out": 3, "arrived": 3, "reached": 6}
    assert report["latest"]["population"] == 6 - 3 - 3 + 3
    assert report["by_destination"][0]["destination"] == "C4301" and report["by_destination"][0]["total"] == 3
    assert report["by_destination"][0]["arrived_total"] == 6  # the convoy's three and the three on foot
    assert report["waiting_days"]["overall"]["n"] == 6  # the convoy's three and the three on foot
    withheld = site_flows(site_flows_input(session, SYSTEM, "RUKBAN", TODAY, k=10))
    assert withheld["totals"]["departed"] is None and withheld["by_destination"][0]["total"] is None


def test_needs_summed_in_sql_match_the_written_rule_member_by_member(runtime: Runtime, session: Session) -> None:
    """The list scores each household from SQL aggregates; the rule scores members one by one: they agree."""
    from awda.convoys.waitlist_rules import VULNERABILITY_WEIGHTS, member_needs, vulnerability
    from awda.households.importer import import_registrations
    from awda.households.models import IntentionMember, Person
    from awda.simulate.scenario import write_scenario

    folder = Path(runtime.settings.data_dir) / "scenario"
    write_scenario(folder, 120, seed=11)
    year = 2022  # the scenario's time: its youngest are small children then
    import_registrations(session, runtime.vault, SYSTEM, folder / "registrations.csv")
    entries = waitlists.waiting_entries(session, None, year)
    assert len(entries) > 50 and len({entry.score for entry in entries}) >= 4  # many kinds of household
    expected: dict[str, tuple[int, set[str]]] = {}
    members = session.execute(
        select(Intention.uid, Person.vulnerabilities, Person.birth_year)
        .join(IntentionMember, IntentionMember.intention_id == Intention.id)
        .join(Person, Person.id == IntentionMember.person_id)
    )
    for intention, flags, birth_year in members.tuples():
        people, needs = expected.get(intention, (0, set()))
        expected[intention] = (people + 1, needs | member_needs(flags.split(), birth_year, year))
    kinds = set().union(*(needs for _people, needs in expected.values()))
    assert kinds == set(VULNERABILITY_WEIGHTS), kinds  # every kind of need is met somewhere
    for entry in entries:
        people, needs = expected[entry.intention_uid]
        assert (entry.people, entry.score) == (people, vulnerability(needs)), entry.intention_uid
