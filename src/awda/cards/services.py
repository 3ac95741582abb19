"""Actions on cards: issue (one or a batch), revoke, publish the status list, look up."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.holders import holder_data, household_key
from awda.access.rules import Actor, Permission, covers_site, may
from awda.access.services import require
from awda.agreements.models import Agreement
from awda.agreements.services import agreement_by_code
from awda.audit.services import record_event
from awda.cards.claims import CardClaims, Holder, encode_card
from awda.cards.keys import CARD_ISSUANCE, active_key, signing_key
from awda.cards.models import Card, IssuerKey
from awda.cards.rules import check_reason, expiry, status_list_uri
from awda.cards.statuslist import StatusBits, sign_status_list
from awda.db import action, serialise, utcnow
from awda.errors import Conflict, NotFound
from awda.households.models import Consent, Household, Person
from awda.households.services import current_consent
from awda.ids import new_uid
from awda.settings import Settings
from awda.vault import Vault


@dataclass(frozen=True)
class IssuedCard:
    card_id: str
    qr_text: str
    person: str
    agreement: str
    kid: str
    status_index: int
    holder_data: bool
    issued_at: str
    expires_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Eligible:
    person: Person
    household: Household
    with_holder: bool


def _eligible(session: Session, actor: Actor, person_uid: str) -> _Eligible:
    """The person, if in the actor's scope, not erased, and the household consented to a card."""
    row = session.execute(
        select(Person, Household).join(Household, Household.id == Person.household_id).where(Person.uid == person_uid)
    ).first()
    if row is None or not covers_site(actor, row[1].site_id):
        raise NotFound(f"no person {person_uid}")
    person, household = row
    require(actor, Permission.ISSUE_CARDS, household.site_id)
    if household.erased_at is not None:
        raise Conflict(f"household {household.uid} was erased")
    consent = current_consent(session, household.id)
    purposes = set(consent.purposes.split()) if consent and consent.withdrawn_at is None else set()
    if "card" not in purposes:
        raise Conflict(f"the household of person {person_uid} has not consented to a protection card")
    return _Eligible(person, household, "card_name" in purposes)


def _next_status_index(session: Session) -> int:
    highest = session.scalar(select(func.max(Card.status_index)))
    return 0 if highest is None else int(highest) + 1


def _holder(vault: Vault, actor: Actor, eligible: _Eligible) -> Holder | None:
    if not eligible.with_holder:
        return None
    fields = holder_data(vault, household_key(vault, actor, eligible.household), eligible.person)
    return Holder(
        name_ar=_text_or_none(fields["name_ar"]),
        name_lat=_text_or_none(fields["name_lat"]),
        birth_year=fields["birth_year"] if isinstance(fields["birth_year"], int) else None,
    )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _issue(
    session: Session, vault: Vault, settings: Settings, actor: Actor, eligible: _Eligible, agreement: Agreement
) -> IssuedCard:
    # Status indexes are allocated as max + 1: issuances (and key rotations) take turns.
    serialise(session, CARD_ISSUANCE)
    key = active_key(session, lock=True)
    card_uid = new_uid()
    issued_at = utcnow().replace(microsecond=0)
    claims = CardClaims(
        issuer=key.issuer,
        card_id=uuid.UUID(card_uid),
        agreement_code=agreement.code,
        issued_at=issued_at,
        expires_at=expiry(issued_at, settings.card_validity_days),
        status_index=_next_status_index(session),
        status_uri=status_list_uri(key.issuer),
        holder=_holder(vault, actor, eligible),
    )
    text = encode_card(claims, signing_key(vault, key))
    _store_card(session, vault, actor, eligible, agreement, key, claims, text)
    return IssuedCard(
        card_uid,
        text,
        eligible.person.uid,
        agreement.code,
        key.kid.hex(),
        claims.status_index,
        claims.holder is not None,
        _iso(issued_at),
        _iso(claims.expires_at),
    )


def _store_card(
    session: Session,
    vault: Vault,
    actor: Actor,
    eligible: _Eligible,
    agreement: Agreement,
    key: IssuerKey,
    claims: CardClaims,
    text: str,
) -> None:
    """The card row (its text sealed under the household key) and its `issue_card` event."""
    card_uid = str(claims.card_id)
    data_key = vault.unwrap(eligible.household.wrapped_key, eligible.household.uid)
    session.add(
        Card(
            uid=card_uid,
            person_id=eligible.person.id,
            agreement_id=agreement.id,
            key_id=key.id,
            status_index=claims.status_index,
            holder_data=claims.holder is not None,
            sealed_text=vault.seal(data_key, text.encode("ascii"), f"card:{card_uid}"),
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
            issued_by=actor.user_id,
        )
    )
    payload = {
        "person": eligible.person.uid,
        "agreement": agreement.code,
        "kid": key.kid.hex(),
        "status_index": claims.status_index,
        "holder_data": claims.holder is not None,
    }
    record_event(session, actor, "issue_card", "card", card_uid, payload, eligible.household.site_id)
    session.flush()


def issue_card(
    session: Session, vault: Vault, settings: Settings, actor: Actor, person_uid: str, agreement_code: str
) -> IssuedCard:
    """Issue a signed card to a person under an agreement; holder data only with 'card_name' consent."""
    require(actor, Permission.ISSUE_CARDS)
    eligible = _eligible(session, actor, person_uid)
    agreement = agreement_by_code(session, agreement_code)
    with action(session):
        return _issue(session, vault, settings, actor, eligible, agreement)


def issue_cards(
    session: Session,
    vault: Vault,
    settings: Settings,
    actor: Actor,
    person_uids: Sequence[str],
    agreement_code: str,
    on_card: Callable[[int], None] | None = None,
) -> list[IssuedCard]:
    """Issue cards to a batch (a household, a convoy): every person is checked before any card is issued."""
    require(actor, Permission.ISSUE_CARDS)
    agreement = agreement_by_code(session, agreement_code)
    eligible = [_eligible(session, actor, uid) for uid in dict.fromkeys(person_uids)]
    issued = []
    with action(session):
        for one in eligible:
            issued.append(_issue(session, vault, settings, actor, one, agreement))
            if on_card is not None:
                on_card(1)
    return issued


def household_person_uids(session: Session, actor: Actor, household_uid: str) -> list[str]:
    household = session.scalar(select(Household).where(Household.uid == household_uid))
    if household is None or not may(actor, Permission.READ_RECORDS, household.site_id):
        raise NotFound(f"no household {household_uid}")
    query = select(Person.uid).where(Person.household_id == household.id).order_by(Person.member_index)
    return list(session.scalars(query))


def households_consenting_to_cards(session: Session, actor: Actor, limit: int) -> list[str]:
    """Uids of households in scope whose current consent covers a protection card (for the demo, batch lists)."""
    require(actor, Permission.READ_RECORDS)
    query = (
        select(Household.uid, Household.site_id)
        .join(Consent, Consent.household_id == Household.id)
        .where(Consent.withdrawn_at.is_(None), Consent.purposes.like("%card%"), Household.erased_at.is_(None))
        .order_by(Household.id)
    )
    found = [uid for uid, site_id in session.execute(query) if covers_site(actor, site_id)]
    return found[:limit]


def _card_in_scope(session: Session, actor: Actor, card_uid: str, permission: Permission) -> tuple[Card, Household]:
    row = session.execute(
        select(Card, Household)
        .join(Person, Person.id == Card.person_id)
        .join(Household, Household.id == Person.household_id)
        .where(Card.uid == card_uid)
    ).first()
    if row is None or not may(actor, Permission.READ_RECORDS, row[1].site_id):
        raise NotFound(f"no card {card_uid}")
    require(actor, permission, row[1].site_id)
    return row[0], row[1]


def revoke_card(session: Session, actor: Actor, card_uid: str, reason: str) -> dict[str, Any]:
    """Revoke a card: its bit in the next status list is set; verifiers holding that list refuse it."""
    check_reason(reason)
    card, household = _card_in_scope(session, actor, card_uid, Permission.REVOKE_CARDS)
    with action(session):
        session.refresh(card, with_for_update={"key_share": True})  # a concurrent revocation is seen, not overwritten
        if card.revoked_at is not None:
            raise Conflict(f"card {card_uid} was revoked already ({card.revoked_reason})")
        card.revoked_at, card.revoked_reason, card.revoked_by = utcnow(), reason, actor.user_id
        payload = {"reason": reason, "status_index": card.status_index}
        record_event(session, actor, "revoke_card", "card", card.uid, payload, household.site_id)
    return card_view(session, card)


def status_list_document(session: Session, vault: Vault, settings: Settings, now: datetime | None = None) -> bytes:
    """The issuer's status list, signed now with the active key (docs/cards.md, "Status list")."""
    key = active_key(session)
    size = _next_status_index(session)
    bits = StatusBits(size)
    for index in session.scalars(select(Card.status_index).where(Card.revoked_at.is_not(None))):
        bits.set(index, True)
    issued_at = (now or utcnow()).replace(microsecond=0)
    return sign_status_list(
        bits,
        status_list_uri(key.issuer),
        issued_at,
        issued_at + timedelta(days=settings.status_list_valid_days),
        settings.status_list_ttl_hours * 3600,
        signing_key(vault, key),
    )


def card_by_uid(session: Session, actor: Actor, card_uid: str) -> Card:
    return _card_in_scope(session, actor, card_uid, Permission.READ_RECORDS)[0]


def card_view(session: Session, card: Card) -> dict[str, Any]:
    """A card's record, without its text (which may carry the holder's name)."""
    person_uid = session.scalar(select(Person.uid).where(Person.id == card.person_id))
    agreement_code = session.scalar(select(Agreement.code).where(Agreement.id == card.agreement_id))
    kid = session.scalar(select(IssuerKey.kid).where(IssuerKey.id == card.key_id))
    return {
        "card_id": card.uid,
        "person": person_uid,
        "agreement": agreement_code,
        "kid": kid.hex() if kid else None,
        "status_index": card.status_index,
        "holder_data": card.holder_data,
        "issued_at": _iso(card.issued_at),
        "expires_at": _iso(card.expires_at),
        "revoked": card.revoked_at is not None,
        "revoked_at": _iso(card.revoked_at) if card.revoked_at else None,
        "revoked_reason": card.revoked_reason,
    }


def cards_of_person(session: Session, actor: Actor, person_uid: str) -> list[dict[str, Any]]:
    row = session.execute(
        select(Person.id, Household.site_id)
        .join(Household, Household.id == Person.household_id)
        .where(Person.uid == person_uid)
    ).first()
    if row is None or not may(actor, Permission.READ_RECORDS, row[1]):
        raise NotFound(f"no person {person_uid}")
    cards = session.scalars(select(Card).where(Card.person_id == row[0]).order_by(Card.issued_at, Card.id))
    return [card_view(session, card) for card in cards]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
