"""Races between concurrent writers, on both engines: what is allocated as "the next one" is never
handed out twice, a check made before a write still holds when the write commits, and a tree
head never signs over a log that an event still in flight would change.

Writers run in threads with their own sessions; where the order matters, the test holds another
writer's transaction open (`held_write`) and waits until the writer under test queues behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.audit.services import event_row, issue_tree_head, record_event, verify_log
from awda.cards.keys import create_issuer_key
from awda.cards.models import Card, IssuerKey
from awda.cards.services import issue_card, revoke_card
from awda.convoys import booking, selfservice
from awda.convoys.commands import PlanWeekIn
from awda.convoys.models import Booking
from awda.db import action, written_meanwhile
from awda.errors import AuthenticationFailed, Conflict
from awda.households.models import Household
from awda.ids import new_uid
from awda.places.models import Place, Site
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.cards_support import AGREEMENT, card_world
from tests.test_api import API, TestClient, household_json, login, problem
from tests.test_convoys_registry import TODAY, _convoy, _register, _week
from tests.test_stale_writes import held_write

pytestmark = pytest.mark.usefixtures("gazetteer")
LIMITS = selfservice.Limits(max_failures=3, lock_minutes=15, window_days=7)


def together(count: int, work: Callable[[Session, int], Any], runtime: Runtime) -> list[Any]:
    """Run `work(own_session, i)` in `count` threads released at once; results or raised errors."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        with runtime.sessions() as own:
            start.wait(timeout=30)
            try:
                results[index] = work(own, index)
            except Exception as error:  # handed to the test, which names what it expects
                results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


# Cards: status indexes (max + 1), revocation (check then write), key rotation (one active key)


def test_concurrent_issuance_never_hands_out_a_status_index_twice(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    persons = [*world.household.person_uids]

    def issue(own: Session, index: int) -> int:
        cards = [issue_card(own, runtime.vault, runtime.settings, SYSTEM, uid, AGREEMENT) for uid in persons]
        return len(cards)

    assert together(4, issue, runtime) == [3, 3, 3, 3]
    assert sorted(session.scalars(select(Card.status_index))) == list(range(12))


def test_a_card_revoked_twice_at_once_is_revoked_once(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    card = issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    reasons = ["lost", "stolen", "misuse", "replaced"]
    outcomes = together(4, lambda own, i: revoke_card(own, SYSTEM, card.card_id, reasons[i]), runtime)
    revoked = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    assert len(revoked) == 1 and all(isinstance(o, Conflict) for o in outcomes if o not in revoked), outcomes
    stored = session.scalar(select(Card.revoked_reason).where(Card.uid == card.card_id))
    assert stored == revoked[0]["revoked_reason"]
    assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "revoke_card")) == 1


def test_keys_rotated_at_once_leave_one_active_key(runtime: Runtime, session: Session) -> None:
    outcomes = together(3, lambda own, _: create_issuer_key(own, runtime.vault, SYSTEM, "awda").kid, runtime)
    assert all(isinstance(kid, bytes) for kid in outcomes), outcomes
    assert session.scalar(select(func.count()).select_from(IssuerKey).where(IssuerKey.active)) == 1


# A household's PIN: each attempt is counted before its PIN is compared


def _with_pin(runtime: Runtime, session: Session) -> tuple[str, dict[str, str]]:
    registered = _register(runtime, session, TODAY - timedelta(days=30))
    return registered.household_uid, selfservice.issue_pin(session, runtime.vault, SYSTEM, registered.household_uid)


def test_parallel_wrong_pins_are_all_counted_and_lock(runtime: Runtime, session: Session) -> None:
    uid, pins = _with_pin(runtime, session)
    version = session.scalar(select(Household.version).where(Household.uid == uid))
    wrong = f"{(int(pins['pin']) + 1) % 1_000_000:06d}"

    def guess(own: Session, _: int) -> None:
        selfservice.household_status(own, runtime.vault, pins["reference"], wrong, TODAY, LIMITS)

    outcomes = together(6, guess, runtime)
    assert all(isinstance(outcome, AuthenticationFailed) for outcome in outcomes), outcomes
    refused_locked = sum("too many" in str(outcome) for outcome in outcomes)
    failed = select(func.count()).select_from(Event).where(Event.action == "household_lookup_failed")
    assert session.scalar(failed) == 6 - refused_locked >= LIMITS.max_failures  # each counted attempt, once
    with pytest.raises(AuthenticationFailed, match="too many"):
        selfservice.household_status(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)
    session.expire_all()
    # Lookups count in their own columns: staff editing the household are not made stale by them.
    assert session.scalar(select(Household.version).where(Household.uid == uid)) == version


def test_an_attempt_past_the_limit_is_refused_even_with_the_right_pin(runtime: Runtime, session: Session) -> None:
    """As if `max_failures` other guesses were in flight: the next attempt is not even compared."""
    uid, pins = _with_pin(runtime, session)
    with action(session):
        session.execute(update(Household).where(Household.uid == uid).values(pin_failures=LIMITS.max_failures))
    with pytest.raises(AuthenticationFailed) as refused:
        selfservice.household_status(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)
    assert "too many" not in str(refused.value)  # it looks like any wrong PIN, and locks the reference
    with pytest.raises(AuthenticationFailed, match="too many"):
        selfservice.household_status(session, runtime.vault, pins["reference"], pins["pin"], TODAY, LIMITS)


# Convoys: a week's plan counts seats before its transaction; it counts them again at booking


def test_a_plan_is_refused_when_another_plan_filled_the_convoy_meanwhile(runtime: Runtime, session: Session) -> None:
    planned = [_register(runtime, session, TODAY - timedelta(days=20 - i)) for i in range(2)]
    departs = TODAY + timedelta(days=2)
    _convoy(session, "CV-R", departs, seats=6)  # two households of three
    week = PlanWeekIn(week=_week(departs))
    interleaved: list[int] = []

    def meanwhile(_done: int) -> None:
        """While the first plan is being solved, two households that waited longer are booked."""
        if interleaved:
            return
        with runtime.sessions() as other:
            senior = [_register(runtime, other, TODAY - timedelta(days=90 + i)) for i in range(2)]
            second = booking.plan_week(other, SYSTEM, week)
            interleaved.append(len(second.booked))
            assert set(second.plan.assignments) == {s.intention_uid for s in senior}

    with pytest.raises(Conflict, match="plan the week again"):
        booking.plan_week(session, SYSTEM, week, on_progress=meanwhile)
    assert interleaved == [2]
    assert session.scalar(select(func.count()).select_from(Booking)) == 2  # the first plan wrote nothing
    assert all(p.intention_uid for p in planned)


def test_a_plan_is_refused_when_the_convoy_left_meanwhile(runtime: Runtime, session: Session) -> None:
    _register(runtime, session, TODAY - timedelta(days=20))
    departs = TODAY + timedelta(days=2)
    _convoy(session, "CV-L", departs, seats=9)

    def meanwhile(_done: int) -> None:
        with runtime.sessions() as other:
            booking.depart_convoy(other, SYSTEM, "CV-L", 7)

    with pytest.raises(Conflict, match="plan the week again"):
        booking.plan_week(session, SYSTEM, PlanWeekIn(week=_week(departs)), on_progress=meanwhile)
    assert session.scalar(select(func.count()).select_from(Booking)) == 0


# Check-then-insert: a unique key taken meanwhile is a 409, never a 500


def test_a_source_reference_registered_meanwhile_is_a_409(runtime: Runtime, session: Session) -> None:
    site_id = session.scalar(select(Site.id).where(Site.code == "RUKBAN"))
    answers: list[Any] = []
    with TestClient(create_app(runtime.settings, runtime)) as client:
        headers = login(client, session, "registrar1", "registrar")
        body = household_json(source_ref="KOBO-7")
        thread = threading.Thread(
            target=lambda: answers.append(client.post(f"{API}/households", json=body, headers=headers))
        )
        with held_write(runtime) as holder:
            row = {"uid": new_uid(), "site_id": site_id, "source_ref": "KOBO-7", "registered_on": date(2024, 2, 1)}
            holder.connection.execute(insert(Household), [row])
            thread.start()
            holder.wait_until_blocking(thread)
        thread.join(timeout=60)
    assert "meanwhile" in problem(answers[0], 409)["detail"] or "already registered" in answers[0].text
    assert session.scalar(select(func.count()).select_from(Household)) == 1


def test_only_unique_keys_count_as_written_meanwhile(session: Session) -> None:
    with pytest.raises(IntegrityError) as duplicate, action(session):
        session.execute(insert(Place), [{"pcode": "C4402", "name_en": "x", "name_ar": "x", "admin_level": 4}])
    assert isinstance(written_meanwhile(duplicate.value), Conflict)
    row = {"uid": new_uid(), "site_id": 987654, "registered_on": date(2024, 2, 1)}
    with pytest.raises(IntegrityError) as dangling, action(session):
        session.execute(insert(Household), [row])
    assert written_meanwhile(dangling.value) is None


# The transparency log: a head waits for every event in flight


def test_a_tree_head_waits_for_events_in_flight(runtime: Runtime, session: Session) -> None:
    heads: list[Any] = []

    def head() -> None:
        with runtime.sessions() as own:
            heads.append(issue_tree_head(own, runtime.vault, SYSTEM))

    with held_write(runtime) as holder:
        holder.connection.execute(insert(Event), [event_row(SYSTEM, "held_open", "test", "1", {})])
        if not holder.sqlite:  # PostgreSQL: a later id commits first (SQLite has one writer at a time)
            with runtime.sessions() as other, action(other):
                record_event(other, SYSTEM, "committed_first", "test", "2", {})
        thread = threading.Thread(target=head)
        thread.start()
        holder.wait_until_blocking(thread)
    thread.join(timeout=60)
    events = session.scalars(select(func.count()).select_from(Event)).one()
    assert heads and heads[0]["tree_size"] == events - 1  # every event but the head's own
    report = verify_log(session, SYSTEM, runtime.vault)
    assert report["ok"], report["problems"]
