"""The openers of personal data that cards need: a holder's name for a card, a card's sealed text.

Like `access.readers`, these are the only places that open these ciphertexts; each checks role
and site. The calling action records the event (issuing a card logs that holder data was read).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission, may
from awda.audit.services import record_event
from awda.cards.models import Card
from awda.cards.rules import holder_fields
from awda.errors import Conflict, NotFound, PermissionDenied
from awda.households.models import Household, Person
from awda.households.rules import unpack_personal
from awda.vault import Vault


def household_key(vault: Vault, actor: Actor, household: Household) -> bytes:
    """The household's data key, for an actor allowed to read its personal fields."""
    if not may(actor, Permission.READ_PERSONAL, household.site_id):
        raise PermissionDenied("reading the holder's name needs the read_personal permission at this site")
    if household.erased_at is not None:
        raise Conflict(f"household {household.uid} was erased")
    return vault.unwrap(household.wrapped_key, household.uid)


def holder_data(vault: Vault, data_key: bytes, person: Person) -> dict[str, str | int | None]:
    """The name (Arabic and Latin) and birth year a card may carry."""
    personal = unpack_personal(vault.open(data_key, person.sealed, f"person:{person.uid}")) if person.sealed else {}
    return holder_fields(personal, person.birth_year)


def card_text_for(session: Session, vault: Vault, actor: Actor, card: Card) -> str:
    """A card's QR text (to print it again); the read is logged, as it may carry the holder's name."""
    person = session.get(Person, card.person_id)
    household = session.get(Household, person.household_id) if person else None
    if household is None or not may(actor, Permission.ISSUE_CARDS, household.site_id):
        raise NotFound(f"no card {card.uid}")
    if card.sealed_text is None or household.erased_at is not None:
        raise Conflict(f"the text of card {card.uid} was erased with its household")
    text = vault.open(vault.unwrap(household.wrapped_key, household.uid), card.sealed_text, f"card:{card.uid}")
    record_event(
        session, actor, "read_card_text", "card", card.uid, {"holder_data": card.holder_data}, household.site_id
    )
    session.commit()
    return text.decode("ascii")
