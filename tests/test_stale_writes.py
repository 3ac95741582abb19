"""Stale writes, on both engines: two clients read the same version, the first write wins, the
second (with the old If-Match) gets 412 problem+json carrying the current version and ETag, and
what is stored is the first write's. A write without If-Match gets 428. The same at the service
level with two sessions, and with a second writer that overlaps the first one's transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.cards.services import issue_card
from awda.convoys import services as convoys
from awda.convoys.commands import ConvoyIn
from awda.errors import StaleVersion
from awda.households import services
from awda.households.models import Household, Person
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.cards_support import AGREEMENT, card_world
from tests.factories import household, person
from tests.test_api import API, Headers, TestClient, household_json, if_match, login, person_json, problem

pytestmark = pytest.mark.usefixtures("gazetteer")
CONSENT = {"purposes": ["registration", "movement", "follow_up"], "given_on": "2024-03-01"}


@dataclass(frozen=True)
class World:
    client: TestClient
    first: Headers  # two users, each with their own token: two clients of one API
    second: Headers
    ids: dict[str, str]


@pytest.fixture
def world(runtime: Runtime, session: Session) -> Iterator[World]:
    with TestClient(create_app(runtime.settings, runtime)) as client:
        first = login(client, session, "admin-a", "admin")
        second = login(client, session, "admin-b", "admin")
        made = client.post(f"{API}/households", json=household_json(), headers=first).json()
        bare = client.post(f"{API}/households", json=household_json(with_intention=False), headers=first).json()
        arrival = {"household_uid": made["uid"], "arrived_on": "2024-05-01", "place": "C4301"}
        assert client.post(f"{API}/monitoring/arrivals", json=arrival, headers=first).status_code == 201
        followups = client.get(f"{API}/monitoring/households/{made['uid']}/followups", headers=first).json()
        affected = [{"household_uid": made["uid"], "member_index": 1}]
        incident = {"type": "arrest", "occurred_on": "2024-05-09", "persons": affected}
        recorded = client.post(f"{API}/monitoring/incidents", json=incident, headers=first)
        ids = {"household": made["uid"], "head": made["persons"][0], "intention": made["intention"]}
        ids |= {
            "bare": bare["uid"],
            "followup": followups[0]["followup_id"],
            "incident": recorded.json()["incident_id"],
        }
        yield World(client, first, second, ids)


Reader = Callable[[World], tuple[int, Any]]


def read_tagged(path: str) -> Reader:
    """The version (from the ETag) and the stored view of one resource."""

    def read(world: World) -> tuple[int, Any]:
        response = world.client.get(f"{API}{path.format(**world.ids)}", headers=world.first)
        assert response.status_code == 200, response.text
        return int(response.headers["etag"].strip('"v')), response.json()

    return read


def read_followup(world: World) -> tuple[int, Any]:
    """Follow-ups are listed per household; each item carries its version."""
    listed = world.client.get(f"{API}/monitoring/households/{world.ids['household']}/followups", headers=world.first)
    item = next(one for one in listed.json() if one["followup_id"] == world.ids["followup"])
    return int(item["version"]), item


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    body: dict[str, Any] | None = None

    def send(self, world: World, headers: Headers) -> httpx.Response:
        url = f"{API}{self.path.format(**world.ids)}"
        response: httpx.Response = world.client.request(self.method, url, json=self.body, headers=headers)
        return response


HOUSEHOLD = read_tagged("/households/{household}")
ADD_SON = Write("POST", "/households/{household}/members", person_json(4, "son"))
ADD_DAUGHTER = Write("POST", "/households/{household}/members", person_json(5, "daughter", given_name_lat="Huda"))
INTENTION_MOVE = "/intentions/{intention}/transitions"
RELOCATE = {"kind": "relocate", "origin_pcode": "C4402", "destination_pcode": "C6101"}
# (what guards the write, the first client's write, the second client's write)
CASES: dict[str, tuple[Reader, Write, Write]] = {
    "add member": (HOUSEHOLD, ADD_SON, ADD_DAUGHTER),
    "record consent": (
        HOUSEHOLD,
        Write("POST", "/households/{household}/consent", CONSENT | {"purposes": ["registration", "card"]}),
        Write("POST", "/households/{household}/consent", CONSENT | {"purposes": ["registration"]}),
    ),
    "withdraw consent": (HOUSEHOLD, ADD_SON, Write("DELETE", "/households/{household}/consent")),
    "declare intention": (
        read_tagged("/households/{bare}"),
        Write("POST", "/households/{bare}/consent", CONSENT),
        Write("POST", "/households/{bare}/intentions", RELOCATE),
    ),
    "erase household": (HOUSEHOLD, ADD_SON, Write("DELETE", "/households/{household}")),
    "correct person": (
        read_tagged("/persons/{head}"),
        Write("PUT", "/persons/{head}", person(given_name_lat="Abd al-Sattar").model_dump(mode="json")),
        Write("PUT", "/persons/{head}", person(given_name_lat="Abdulsattar").model_dump(mode="json")),
    ),
    "move intention": (
        read_tagged("/intentions/{intention}"),
        Write("POST", INTENTION_MOVE, {"to": "waitlisted"}),
        Write("POST", INTENTION_MOVE, {"to": "withdrawn", "reason": "changed_mind"}),
    ),
    "reconfirm intention": (
        read_tagged("/intentions/{intention}"),
        Write("POST", "/intentions/{intention}/reconfirm"),
        Write("POST", INTENTION_MOVE, {"to": "waitlisted"}),
    ),
    "follow-up outcome": (
        read_followup,
        Write("POST", "/monitoring/followups/{followup}/outcome", {"outcome": "reached", "contacted_on": "2024-05-08"}),
        Write("POST", "/monitoring/followups/{followup}/outcome", {"outcome": "refused", "contacted_on": "2024-05-09"}),
    ),
    "verify incident": (
        read_tagged("/monitoring/incidents/{incident}"),
        Write("POST", "/monitoring/incidents/{incident}/verification", {"verification": "credible"}),
        Write("POST", "/monitoring/incidents/{incident}/verification", {"verification": "verified"}),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_second_stale_write_gets_412_with_the_current_version(world: World, case: str) -> None:
    read, first_write, second_write = CASES[case]
    version, _ = read(world)
    tag = f'"v{version}"'  # both clients read this version
    done = first_write.send(world, if_match(world.first, tag))
    assert done.status_code < 300, done.text
    current, stored = read(world)
    assert current == version + 1
    refused = second_write.send(world, if_match(world.second, tag))
    assert problem(refused, 412)["current_version"] == current
    assert refused.headers["etag"] == f'"v{current}"'
    assert read(world) == (current, stored)  # nothing of the second write was stored
    problem(second_write.send(world, world.second), 428)
    assert read(world) == (current, stored)
    retried = second_write.send(world, if_match(world.second, f'"v{current}"'))
    assert retried.status_code < 300 or retried.status_code == 409, retried.text  # re-read, then it is judged


def test_card_revocation_needs_no_etag_and_a_second_one_is_refused(runtime: Runtime, session: Session) -> None:
    """Revocation only goes one way: the second is a 409 and the first one's reason stays."""
    cards = card_world(runtime, session)
    card = issue_card(session, runtime.vault, runtime.settings, SYSTEM, cards.head, AGREEMENT)
    with TestClient(create_app(runtime.settings, runtime)) as client:
        first, second = login(client, session, "admin-a", "admin"), login(client, session, "admin-b", "admin")
        url = f"{API}/cards/{card.card_id}/revoke"
        assert client.post(url, json={"reason": "lost"}, headers=first).status_code == 200
        assert "revoked already" in problem(client.post(url, json={"reason": "stolen"}, headers=second), 409)["detail"]
        stored = client.get(f"{API}/cards/{card.card_id}", headers=first).json()
    assert stored["revoked_reason"] == "lost"


def test_a_convoy_departs_once(runtime: Runtime, session: Session) -> None:
    """Convoy actions carry no If-Match: they queue on the convoy's row and are judged by its state."""
    command = ConvoyIn(code="CV-1", site="RUKBAN", departs_on=date(2030, 1, 1), destinations=["C4301"], seats=9)
    convoys.schedule_convoy(session, SYSTEM, command)
    with TestClient(create_app(runtime.settings, runtime)) as client:
        first, second = login(client, session, "admin-a", "admin"), login(client, session, "admin-b", "admin")
        assert client.post(f"{API}/convoys/CV-1/depart", headers=first).status_code == 200
        assert (
            "not waiting to leave" in problem(client.post(f"{API}/convoys/CV-1/depart", headers=second), 409)["detail"]
        )


# The service level: two sessions


def _register(runtime: Runtime, session: Session) -> str:
    return services.register_household(session, runtime.vault, SYSTEM, household()).household_uid


def test_two_sessions_one_stale(runtime: Runtime, session: Session) -> None:
    uid = _register(runtime, session)
    with runtime.sessions() as first, runtime.sessions() as second:
        read_first = first.scalar(select(Household.version).where(Household.uid == uid))
        read_second = second.scalar(select(Household.version).where(Household.uid == uid))
        assert read_first == read_second == 1
        services.add_member(first, runtime.vault, SYSTEM, uid, person(4, "son"), read_first)
        with pytest.raises(StaleVersion) as refused:
            services.add_member(second, runtime.vault, SYSTEM, uid, person(5, "daughter"), read_second)
    assert refused.value.current_version == 2
    assert session.scalar(select(func.count()).select_from(Person).where(Person.member_index == 5)) == 0


def test_a_writer_that_overlaps_another_waits_for_it_and_then_sees_its_version(
    runtime: Runtime, session: Session
) -> None:
    """The second writer starts while the first one's transaction is open: it waits on the
    household's lock and then refuses with the version the first one committed, instead of
    reading the old version and failing later at its UPDATE (or worse, overwriting)."""
    uid = _register(runtime, session)
    outcome: list[BaseException | str] = []

    def second_writer() -> None:
        with runtime.sessions() as own:
            try:
                outcome.append(services.add_member(own, runtime.vault, SYSTEM, uid, person(5, "daughter"), 1))
            except BaseException as error:  # the thread hands it to the test
                outcome.append(error)

    with held_write(runtime, uid) as holder:
        thread = threading.Thread(target=second_writer)
        thread.start()
        holder.wait_until_blocking(thread)
        holder.connection.execute(update(Household).where(Household.uid == uid).values(version=Household.version + 1))
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], StaleVersion), outcome
    assert outcome[0].current_version == 2
    assert session.scalar(select(Household.version).where(Household.uid == uid)) == 2


class HeldWrite:
    """Another writer in the middle of its transaction, on its own connection, holding a
    household's row (PostgreSQL) or the database's write lock (SQLite)."""

    def __init__(self, runtime: Runtime, uid: str | None) -> None:
        self.engine = runtime.engine
        self.connection = runtime.engine.connect()
        self.sqlite = self.connection.dialect.name == "sqlite"
        if self.sqlite:
            self.connection.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        else:
            self.pid = self.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            if uid is not None:
                self.connection.execute(select(Household.id).where(Household.uid == uid).with_for_update())

    def wait_until_blocking(self, thread: threading.Thread) -> None:
        """Return once another connection waits for this one (bounded). SQLite cannot show its
        waiters: give the thread a moment; the outcome is checked the same either way."""
        if self.sqlite:
            thread.join(timeout=0.5)
            return
        query = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
        for _ in range(400):
            # Asked on a connection of its own: a transaction sees one snapshot of pg_stat_activity.
            with self.engine.connect() as probe:
                if probe.execute(query, {"pid": self.pid}).scalar_one():
                    return
            thread.join(timeout=0.05)
        raise AssertionError("the second writer never waited for the first")


@contextmanager
def held_write(runtime: Runtime, uid: str | None = None) -> Iterator[HeldWrite]:
    """A `HeldWrite` that commits when the block ends (rolls back on an error)."""
    held = HeldWrite(runtime, uid)
    try:
        yield held
        held.connection.commit()
    finally:
        held.connection.close()
