"""Finding a household for the list page: by its reference code, or by a member's phone or document.

Phones and documents go through `readers.find_by_identifier` (the blind index: an exact match, and
the search is logged); there is no free-text search over names, which are sealed. These lookups
return household uids only, never a personal value.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access import readers
from awda.access.rules import Actor, Permission, covers_site
from awda.access.services import require
from awda.errors import ValidationFailed
from awda.households.models import Household, Person
from awda.households.reference import normalise_reference
from awda.households.rules import DOCUMENT_TYPES, normalise_phone
from awda.vault import Vault

SEARCH_KINDS = ("reference", "phone", "document")


def household_by_reference(session: Session, actor: Actor, text: str) -> list[str]:
    """The household with this reference code in the actor's scope (none when the check symbol is wrong)."""
    require(actor, Permission.READ_RECORDS)
    code = normalise_reference(text)
    if code is None:
        return []
    row = session.execute(select(Household.uid, Household.site_id).where(Household.reference == code)).first()
    return [row[0]] if row is not None and covers_site(actor, row[1]) else []


def households_of_persons(session: Session, actor: Actor, person_uids: list[str]) -> list[str]:
    """The households of these persons that are in the actor's scope, each once."""
    if not person_uids:
        return []
    query = (
        select(Household.uid, Household.site_id)
        .join(Person, Person.household_id == Household.id)
        .where(Person.uid.in_(person_uids[:100]))
        .order_by(Household.id)
    )
    found = [uid for uid, site_id in session.execute(query) if covers_site(actor, site_id)]
    return list(dict.fromkeys(found))


def find_households(
    session: Session, vault: Vault, actor: Actor, kind: str, value: str, document_type: str = ""
) -> list[str]:
    """Household uids for an exact reference code, phone number or document (type and number).

    Raises `ValidationFailed` naming the field when the value cannot be one (a phone with letters).
    """
    value = value.strip()
    if not value or kind not in SEARCH_KINDS:
        raise ValidationFailed("search", "nothing to search for")
    if kind == "reference":
        return household_by_reference(session, actor, value)
    if kind == "phone":
        persons = readers.find_by_identifier(session, vault, actor, "phone", normalise_phone(value))
    elif document_type not in DOCUMENT_TYPES:
        raise ValidationFailed("document_type", "choose the document type")
    else:
        persons = readers.find_by_identifier(session, vault, actor, "document", f"{document_type}:{value}")
    return households_of_persons(session, actor, persons)
