"""Patterns every form and list page shares: errors next to their field, and pages of a long list.

A service names the field it refuses (`ValidationFailed.field`, pydantic's error location); a page
shows, next to that field, a message in the user's language. The messages are keyed by field, not by
the service's English text, so a reworded rule never leaves a page untranslated.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import ValidationError

from awda.errors import ValidationFailed
from awda.web.pages.labels import N_

PAGE_SIZE = 50
MAX_MEMBER_INDEX = 99  # as `PersonIn.member_index` allows
# Offset paging is bounded: beyond this, narrow the list (by site) or search instead.
MAX_PAGE_OFFSET = 100_000

FIELD_MESSAGES = {
    "site_code": N_("Choose one of your sites."),
    "registered_on": N_("Give the registration date; it cannot be in the future."),
    "consent_purposes": N_("Registration needs consent to registration; a name on the card needs consent to the card."),
    "relationship": N_("Choose the relationship; a household has exactly one head."),
    "member_index": N_("Each member appears once."),
    "sex": N_("Choose female or male."),
    "birth_date": N_("Give a real date of birth that is not in the future."),
    "birth_year": N_("Give a birth date or a birth year between 1900 and this year."),
    "given_name_ar": N_("Give the given name in Arabic letters (or in Latin letters below)."),
    "given_name_lat": N_("Write this name in Latin letters only."),
    "father_name_ar": N_("Write this name in Arabic letters."),
    "father_name_lat": N_("Write this name in Latin letters only."),
    "grandfather_name_ar": N_("Write this name in Arabic letters."),
    "grandfather_name_lat": N_("Write this name in Latin letters only."),
    "family_name_ar": N_("Write this name in Arabic letters."),
    "family_name_lat": N_("Write this name in Latin letters only."),
    "mother_name_ar": N_("Write this name in Arabic letters."),
    "mother_name_lat": N_("Write this name in Latin letters only."),
    "document_type": N_("Choose the type of the document whose number is given."),
    "document_number": N_("Give the document number as written on it, without control characters."),
    "phone": N_("Use digits with an optional leading + (6 to 15 digits)."),
    "members": N_("Register at least one member."),
    "kind": N_("Choose what the household wants to do."),
    "origin_pcode": N_("Give the P-code of a place in the gazetteer."),
    "destination_pcode": N_("Give the P-code of a place in the gazetteer, other than the origin."),
    "window_start": N_("Give a real date."),
    "window_end": N_("The end of the window cannot be before its start."),
    "intention_members": N_("Choose at least one member of the household."),
    "reason": N_("Choose a reason from the list."),
    "type": N_("Choose the type of incident."),
    "occurred_on": N_("Give the date of the incident; it cannot be in the future."),
    "date_precision": N_("Choose how precise the date is."),
    "place": N_("Give the P-code of a place in the gazetteer."),
    "perpetrator_category": N_("Choose a category from the list, never a person's name."),
    "source": N_("Choose the source from the list."),
    "verification": N_("Choose how far the report has been checked."),
    "persons": N_("Choose at least one member affected."),
    "arrived_on": N_("Give the day of arrival: a real date, not in the future."),
    "member_indexes": N_("Choose at least one member of the household."),
    "agreement": N_("Choose an agreement from the list, or none."),
    "intention": N_("Choose what the household did."),
    "monitor": N_("Choose a monitor from the list: an active monitor who covers this household's site."),
    "after_days": N_("Give a number of days from 1 to 3650."),
    "incident_dates": N_("Give a real date, or leave it empty."),
    "search": N_("Nothing to search for: type a reference code, a phone number or a document number."),
}
OTHER_PROBLEM = N_("This value is not accepted.")


def message_for(field: str) -> str:
    return FIELD_MESSAGES.get(field, OTHER_PROBLEM)


def failure_errors(error: ValidationFailed, prefix: str = "") -> dict[str, str]:
    """A service's refusal as {form field: message}; the form field is `prefix` + the service's field."""
    return {prefix + error.field: message_for(error.field)}


def validation_errors(error: ValidationError, prefix: str = "", fields: dict[str, str] | None = None) -> dict[str, str]:
    """Pydantic's errors as {form field: message}: the innermost named field of each error's location.

    `fields` renames a command's field to the form's name for it (for example `intention.kind`).
    """
    found: dict[str, str] = {}
    for item in error.errors():
        names = [str(part) for part in item["loc"] if isinstance(part, str)]
        field = names[-1] if names else "form"
        renamed = (fields or {}).get(field, field)
        found.setdefault(prefix + renamed, FIELD_MESSAGES.get(renamed) or message_for(field))
    return found


@dataclass(frozen=True)
class Pager:
    """One page of a long list: where it starts, how long pages are, how many items there are."""

    path: str
    offset: int
    limit: int
    total: int
    parameters: tuple[tuple[str, str], ...] = ()  # kept in the links; never a personal value

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    def _link(self, offset: int) -> str:
        query = [*self.parameters, *((("offset", str(offset)),) if offset else ())]
        return f"{self.path}?{urlencode(query)}" if query else self.path

    @property
    def previous(self) -> str | None:
        return self._link(max(0, self.offset - self.limit)) if self.offset > 0 else None

    @property
    def next(self) -> str | None:
        following = self.offset + self.limit
        return self._link(following) if following < self.total and following <= MAX_PAGE_OFFSET else None


def bounded_offset(offset: int) -> int:
    """The offset a list page accepts: not negative, not beyond `MAX_PAGE_OFFSET`."""
    return min(max(offset, 0), MAX_PAGE_OFFSET)
