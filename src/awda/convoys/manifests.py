"""A convoy's manifest from the registry: who is booked, by name, with their check-in so far.

Names are personal fields: only a role that reads them, in the convoy's site, gets a manifest,
and each household opened for it is a logged read (the household's own record shows it).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, may
from awda.agreements.models import Agreement
from awda.audit.services import record_event
from awda.convoys.manifest import Manifest, ManifestHousehold, ManifestPerson
from awda.convoys.models import Booking, Convoy, Movement
from awda.convoys.services import load_convoy
from awda.convoys.waitlist_rules import reconfirmed_in_window
from awda.db import action, utcnow
from awda.errors import PermissionDenied
from awda.households.models import Household, Intention, IntentionMember, Person
from awda.households.reference import display_reference
from awda.households.rules import unpack_personal
from awda.places.models import Place, Site
from awda.vault import Vault


def _name(fields: dict[str, str], script: str) -> str:
    parts = (fields.get(f"{part}_name_{script}", "") for part in ("given", "father", "family"))
    return " ".join(part for part in parts if part)


def _persons(
    vault: Vault, household: Household, persons: list[Person], moved: dict[int, set[str]]
) -> tuple[ManifestPerson, ...]:
    key = vault.unwrap(household.wrapped_key, household.uid) if household.wrapped_key else None
    result = []
    for person in sorted(persons, key=lambda p: p.member_index):
        fields: dict[str, str] = {}
        if key is not None and person.sealed is not None:
            fields = unpack_personal(vault.open(key, person.sealed, f"person:{person.uid}"))
        result.append(
            ManifestPerson(
                person_uid=person.uid,
                member_index=person.member_index,
                name_ar=_name(fields, "ar"),
                name_lat=_name(fields, "lat"),
                sex="female" if person.sex == "female" else "male",
                birth_year=person.birth_year,
                departed="departed" in moved[person.id],
                arrived="arrived" in moved[person.id],
            )
        )
    return tuple(result)


def convoy_manifest(session: Session, vault: Vault, actor: Actor, code: str, window_days: int) -> Manifest:
    """The manifest of a convoy: every booked or boarded household and its travelling members."""
    with action(session):
        convoy = load_convoy(session, actor, code, Permission.READ_RECORDS)
        if not may(actor, Permission.READ_PERSONAL, convoy.site_id):
            raise PermissionDenied("a manifest lists names: it needs the right to read personal data")
        rows = (
            session.execute(
                select(Booking, Intention, Household, Place)
                .join(Intention, Intention.id == Booking.intention_id)
                .join(Household, Household.id == Booking.household_id)
                .join(Place, Place.id == Intention.destination_id)
                .where(Booking.convoy_id == convoy.id, Booking.status.in_(("booked", "boarded")))
                .order_by(Place.pcode, Booking.id)
            )
            .tuples()
            .all()
        )
        members: dict[int, list[Person]] = defaultdict(list)
        for intention_id, person in session.execute(
            select(IntentionMember.intention_id, Person)
            .join(Person, Person.id == IntentionMember.person_id)
            .where(IntentionMember.intention_id.in_([row[1].id for row in rows]))
        ).tuples():
            members[intention_id].append(person)
        moved: dict[int, set[str]] = defaultdict(set)
        for person_id, kind in session.execute(
            select(Movement.person_id, Movement.kind).where(Movement.convoy_id == convoy.id)
        ).tuples():
            moved[person_id].add(kind)
        households = []
        for _, intention, household, place in rows:
            households.append(
                ManifestHousehold(
                    household_uid=household.uid,
                    reference=display_reference(household.reference) if household.reference else "",
                    destination_pcode=place.pcode,
                    destination_en=place.name_en,
                    destination_ar=place.name_ar,
                    reconfirmed=reconfirmed_in_window(intention.reconfirmed_at, convoy.departs_on, window_days),
                    persons=_persons(vault, household, members[intention.id], moved),
                )
            )
            payload = {"personal": True, "purpose": "manifest", "convoy": convoy.code}
            record_event(session, actor, "read_household", "household", household.uid, payload, household.site_id)
        return _manifest(session, convoy, tuple(households))


def _manifest(session: Session, convoy: Convoy, households: tuple[ManifestHousehold, ...]) -> Manifest:
    site = session.get(Site, convoy.site_id)
    assert site is not None  # a foreign key
    agreement = session.get(Agreement, convoy.agreement_id) if convoy.agreement_id else None
    return Manifest(
        convoy_code=convoy.code,
        departs_on=convoy.departs_on,
        origin_site_code=site.code,
        origin_en=site.name_en,
        origin_ar=site.name_ar,
        seats=convoy.seats,
        guarantor=convoy.guarantor,
        agreement_code=agreement.code if agreement else None,
        printed_at=utcnow(),
        households=households,
    )
