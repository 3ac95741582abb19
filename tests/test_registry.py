"""Registration actions on both engines: sealed fields, one event per action, history, erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access import readers
from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion
from awda.households import erasure, intentions, services
from awda.households.commands import ConsentIn, IntentionIn
from awda.households.models import Household, Intention, IntentionTransition, Person, PersonIdentifier
from awda.households.rules import IntentionStatus
from awda.runtime import Runtime
from awda.stats.services import summary
from tests.conftest import make_user
from tests.factories import HEAD_NAME_AR, HEAD_PHONE, household, person

pytestmark = pytest.mark.usefixtures("gazetteer")


def events(session: Session, action: str | None = None) -> int:
    query = select(func.count()).select_from(Event)
    return int(session.scalar(query.where(Event.action == action) if action else query) or 0)


def test_register_household_seals_personal_fields_and_writes_one_event(session: Session, runtime: Runtime) -> None:
    before = events(session)
    created = services.register_household(session, runtime.vault, SYSTEM, household())
    assert events(session) == before + 1
    assert events(session, "register_household") == 1
    stored = session.scalars(select(Person.sealed)).all()
    assert len(stored) == 3
    assert all(blob and HEAD_NAME_AR.encode() not in blob for blob in stored)
    view = readers.household_for(session, runtime.vault, SYSTEM, created.household_uid)
    head = view["members"][0]
    assert (head["given_name_ar"], head["phone"], head["birth_year"]) == (HEAD_NAME_AR, HEAD_PHONE, 1979)
    assert view["members"][2]["birth_date"] == "2012-04-09"
    assert view["intentions"][0]["status"] == "registered"
    assert events(session, "read_household") == 1


def test_sealed_fields_are_bound_to_their_record(session: Session, runtime: Runtime) -> None:
    first = services.register_household(session, runtime.vault, SYSTEM, household())
    second = services.register_household(session, runtime.vault, SYSTEM, household())
    rows = {p.uid: p for p in session.scalars(select(Person))}
    # Swapping ciphertexts between persons must not yield a readable (mis-attributed) record.
    rows[first.person_uids[0]].sealed, rows[second.person_uids[0]].sealed = (
        rows[second.person_uids[0]].sealed,
        rows[first.person_uids[0]].sealed,
    )
    session.commit()
    from awda.vault import VaultError

    with pytest.raises(VaultError):
        readers.person_for(session, runtime.vault, SYSTEM, first.person_uids[0])


def test_blind_index_finds_phone_and_document_without_storing_them(session: Session, runtime: Runtime) -> None:
    created = services.register_household(session, runtime.vault, SYSTEM, household())
    found = readers.find_by_identifier(session, runtime.vault, SYSTEM, "phone", HEAD_PHONE)
    assert found == [created.person_uids[0]]
    assert readers.find_by_identifier(session, runtime.vault, SYSTEM, "phone", "+963900000000") == []
    kinds = sorted(session.scalars(select(PersonIdentifier.kind)).all())
    assert kinds.count("phone") == 1 and kinds.count("document") == 1 and kinds.count("name_ar") == 3


def test_intention_history_keeps_every_transition_with_who(session: Session, runtime: Runtime) -> None:
    coordinator = make_user(session, "coord", "coordinator", ("RUKBAN",))
    created = services.register_household(session, runtime.vault, SYSTEM, household())
    uid = str(created.intention_uid)
    intentions.waitlist_intention(session, coordinator, uid)
    intentions.assign_intention(session, coordinator, uid)
    with pytest.raises(Conflict, match="re-confirmation"):
        intentions.record_departure(session, coordinator, uid, reconfirm_days=7)
    intentions.reconfirm_intention(session, coordinator, uid)
    intentions.record_departure(session, coordinator, uid, reconfirm_days=7)
    intentions.record_arrival(session, coordinator, uid)
    view = readers.intention_for(session, coordinator, uid)
    assert [step["to"] for step in view["history"]] == ["registered", "waitlisted", "assigned", "departed", "arrived"]
    assert [step["by"] for step in view["history"]][1:] == ["coord"] * 4
    with pytest.raises(Conflict, match="arrived cannot become withdrawn"):
        intentions.withdraw_intention(session, coordinator, uid)
    assert events(session, "departed_intention") == 1


def test_change_of_mind_then_new_intention(session: Session, runtime: Runtime) -> None:
    created = services.register_household(session, runtime.vault, SYSTEM, household())
    with pytest.raises(Conflict, match="already has an active intention"):
        services.declare_intention(
            session,
            SYSTEM,
            created.household_uid,
            IntentionIn(kind="relocate", origin_pcode="C4402", destination_pcode="C6001"),
        )
    intentions.withdraw_intention(session, SYSTEM, str(created.intention_uid), "stayed")
    second = services.declare_intention(
        session,
        SYSTEM,
        created.household_uid,
        IntentionIn(kind="evacuate", origin_pcode="C4402", destination_pcode="C1001", members=[1, 2]),
    )
    view = readers.household_for(session, runtime.vault, SYSTEM, created.household_uid)
    assert [(i["kind"], i["status"]) for i in view["intentions"]] == [
        ("return", "withdrawn"),
        ("evacuate", "registered"),
    ]
    assert len(view["intentions"][1]["members"]) == 2
    assert readers.intention_for(session, SYSTEM, second)["history"][0]["to"] == "registered"


def test_withdrawing_consent_withdraws_open_intentions(session: Session, runtime: Runtime) -> None:
    created = services.register_household(session, runtime.vault, SYSTEM, household())
    services.withdraw_consent(session, SYSTEM, created.household_uid)
    status = session.scalar(select(Intention.status).where(Intention.uid == created.intention_uid))
    assert status == IntentionStatus.WITHDRAWN
    with pytest.raises(Conflict, match="consented"):
        services.declare_intention(
            session,
            SYSTEM,
            created.household_uid,
            IntentionIn(kind="return", origin_pcode="C4402", destination_pcode="C4301"),
        )
    services.record_consent(
        session, SYSTEM, created.household_uid, ConsentIn(purposes=["registration", "movement"], given_on="2024-05-01")
    )
    services.declare_intention(
        session,
        SYSTEM,
        created.household_uid,
        IntentionIn(kind="return", origin_pcode="C4402", destination_pcode="C4301"),
    )


def test_stale_version_is_refused_not_overwritten(session: Session, runtime: Runtime) -> None:
    created = services.register_household(session, runtime.vault, SYSTEM, household())
    services.add_member(
        session,
        runtime.vault,
        SYSTEM,
        created.household_uid,
        person(
            4,
            "son",
            given_name_ar="علي",
            given_name_lat="Ali",
            phone=None,
            document_type=None,
            document_number=None,
            birth_year=2015,
        ),
        expected_version=1,
    )
    with pytest.raises(StaleVersion):
        services.add_member(
            session,
            runtime.vault,
            SYSTEM,
            created.household_uid,
            person(
                5, "son", given_name_ar="عمر", phone=None, document_type=None, document_number=None, birth_year=2017
            ),
            expected_version=1,
        )
    assert session.scalar(select(func.count()).select_from(Person)) == 4


def test_scope_and_role_are_enforced(session: Session, runtime: Runtime) -> None:
    created = services.register_household(session, runtime.vault, SYSTEM, household(site="RUKBAN"))
    elsewhere = make_user(session, "reg-atmeh", "registrar", ("ATMEH",))
    analyst = make_user(session, "analyst", "analyst")
    monitor = make_user(session, "monitor", "monitor", ("RUKBAN",))
    with pytest.raises(NotFound):
        readers.household_for(session, runtime.vault, elsewhere, created.household_uid)
    with pytest.raises(NotFound):
        readers.household_for(session, runtime.vault, analyst, created.household_uid)
    with pytest.raises(PermissionDenied):
        services.register_household(session, runtime.vault, elsewhere, household(site="RUKBAN"))
    with pytest.raises(PermissionDenied):
        services.register_household(session, runtime.vault, monitor, household(site="RUKBAN"))
    assert readers.household_for(session, runtime.vault, monitor, created.household_uid)["members"][0]["phone"]
    assert readers.list_households(session, elsewhere, None, 10, 0)["total"] == 0
    assert summary(session, analyst)["households"] == 1


def test_erasure_shreds_personal_fields_but_keeps_counts(session: Session, runtime: Runtime) -> None:
    created = services.register_household(session, runtime.vault, SYSTEM, household())
    before = summary(session, SYSTEM)
    erasure.erase_household(session, SYSTEM, created.household_uid)
    stored = session.scalar(select(Household).where(Household.uid == created.household_uid))
    assert stored is not None and stored.wrapped_key is None and stored.erased_at is not None
    assert session.scalar(select(func.count()).select_from(PersonIdentifier)) == 0
    assert all(blob is None for blob in session.scalars(select(Person.sealed)))
    view = readers.household_for(session, runtime.vault, SYSTEM, created.household_uid)
    assert view["erased"] and "given_name_ar" not in view["members"][0]
    after = summary(session, SYSTEM)
    assert (after["households"], after["persons"]) == (before["households"], before["persons"])
    assert session.scalar(select(func.count()).select_from(IntentionTransition)) == 1
    with pytest.raises(NotFound):
        erasure.erase_household(session, SYSTEM, created.household_uid)
