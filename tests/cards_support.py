"""Builders for card tests: an agreement, a household that consented to cards, a signing key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.agreements.rules import AgreementRecord, TermRecord
from awda.agreements.services import create_agreement
from awda.cards.keys import create_issuer_key
from awda.households.commands import ConsentIn
from awda.households.services import Registered, register_household
from awda.runtime import Runtime
from tests import factories

AGREEMENT = "AG-2018-NHOMS"
AGREEMENT_AR = "اتفاق التسوية في ريف حمص الشمالي"


@dataclass(frozen=True)
class CardWorld:
    household: Registered
    head: str


def agreement(session: Session) -> None:
    record = AgreementRecord(
        code=AGREEMENT,
        name_en="Northern Homs countryside reconciliation agreement",
        name_ar=AGREEMENT_AR,
        area_pcode="SY0403",
        guarantor="Russian military police",
        parties="",
        signed_on=date(2018, 5, 2),
        terms=(TermRecord("NHOMS-T1", "no_arrest", "all", 180),),
    )
    create_agreement(session, SYSTEM, record)


def consenting_household(runtime: Runtime, session: Session, purposes: tuple[str, ...]) -> Registered:
    consent = ConsentIn(purposes=["registration", "movement", *purposes], given_on=date(2024, 2, 1))
    return register_household(session, runtime.vault, SYSTEM, factories.household(consent=consent))


def card_world(runtime: Runtime, session: Session, purposes: tuple[str, ...] = ("card", "card_name")) -> CardWorld:
    """The demo gazetteer must be loaded; adds an agreement, a key and one household."""
    agreement(session)
    create_issuer_key(session, runtime.vault, SYSTEM, runtime.settings.card_issuer)
    registered = consenting_household(runtime, session, purposes)
    return CardWorld(registered, registered.person_uids[0])
