"""The importer's fast path: file cells checked in plain Python, with pydantic as the referee.

`FileChecker.check` accepts a household only when every cell is in the plain, common form
(digits, ISO dates, known codes, names in their script) and every rule holds; it then returns
exactly the values the pydantic commands would. For anything else it returns None and `parse`
lets the commands of `rows.py` decide, so every error message is theirs. `tests/test_import.py`
holds the two paths to agreement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from operator import itemgetter
from typing import NamedTuple, ParamSpec, TypeVar

from awda.errors import ValidationFailed
from awda.households import rules
from awda.households.records import PlainHousehold, PlainIntention, PlainPerson, from_command
from awda.households.rows import HOUSEHOLD_COLUMNS, PERSON_COLUMNS, HouseholdRows, Layout, command_from_rows, content_of

P = ParamSpec("P")
R = TypeVar("R")
MAX_CODE, MAX_MEMBERS = 64, 60
MAX_NAME, MAX_DOCUMENT = 100, 40  # the Name and document_number lengths of PersonIn
_MEMBER_INDEXES = {str(index): index for index in range(1, 100)}
_YEARS = {str(year): year for year in range(1000, 10000)}
_POSITIVE = re.compile(r"[1-9][0-9]*")
_ISO_DATE = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}")
# The ten name cells joined by NUL, each empty or as rules.check_name_script and the Name type want
# it: at most 100 characters, no control characters, an Arabic letter in the Arabic columns, and a
# Latin letter but no Arabic one in the Latin columns. One match instead of ten calls per person.
_ARABIC_NAME = r"(?:(?=[^\x00\u0621-\u064a]*[\u0621-\u064a])[^\x00-\x1f\x7f]{1,100})?"
_LATIN_NAME = r"(?:(?=[^\x00A-Za-z]*[A-Za-z])[^\x00-\x1f\x7f\u0621-\u064a]{1,100})?"
_NAMES = re.compile("\x00".join([_ARABIC_NAME, _LATIN_NAME] * len(rules.NAME_FIELDS[::2])))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_PHONE = re.compile(r"\+?[1-9][0-9]{5,14}")  # already what rules.normalise_phone returns
# The vocabularies' own string objects, so repeated codes pickle once per chunk.
_RELATIONSHIPS = {code: code for code in rules.RELATIONSHIPS}
_SEXES = {code: code for code in rules.SEXES}
_DOCUMENT_TYPES = {code: code for code in rules.DOCUMENT_TYPES} | {"": ""}
_INTENTION_KINDS = {kind.value: kind.value for kind in rules.IntentionKind}


class _Unsure(Exception):
    """The fast path cannot vouch for this household; the pydantic commands decide."""


class ParsedHousehold(NamedTuple):
    household: PlainHousehold
    content: bytes  # canonical form of the rows, for telling repeats from conflicts
    first_row: int


class FileChecker:
    """Checks the households of one file (its `Layout`)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._shared = itemgetter(*[layout.at(column) for column in HOUSEHOLD_COLUMNS])
        self._person = itemgetter(*[layout.at(column) for column in PERSON_COLUMNS])

    def parse(self, group: HouseholdRows, today: date | None = None) -> ParsedHousehold:
        """The checked household; raises the first problem (row and column) as the commands word it."""
        checked = self.check(group, today or date.today())
        if checked is None:
            checked = from_command(command_from_rows(group, self.layout))
        return ParsedHousehold(checked, content_of(group, self.layout), group.first_row)

    def check(self, group: HouseholdRows, today: date) -> PlainHousehold | None:
        """The household if every cell is plainly valid; None when the commands must decide."""
        try:
            return self._household(group, today)
        except _Unsure:
            return None

    def _household(self, group: HouseholdRows, today: date) -> PlainHousehold:
        shared = self._shared(group.rows[0][1])
        if not 0 < len(group.source_ref) <= MAX_CODE or not 1 <= len(group.rows) <= MAX_MEMBERS:
            raise _Unsure
        if len(group.rows) > 1 and any(self._shared(cells) != shared for _, cells in group.rows[1:]):
            raise _Unsure
        members = tuple(_person(self._person(cells), today) for _, cells in group.rows)
        indexes = {member.member_index for member in members}
        # rules.check_members: member indexes are unique and there is exactly one head.
        if len(indexes) != len(members) or [member.relationship for member in members].count("head") != 1:
            raise _Unsure
        _, registered_text, site, registrar, travel_group, purposes, consent_date = shared[:7]
        registered_on, given_on = _date(registered_text), _date(consent_date)
        if not 0 < len(site) <= MAX_CODE or len(registrar) > MAX_CODE or len(travel_group) > MAX_CODE:
            raise _Unsure
        if registered_on is None or registered_on > today or given_on is None:
            raise _Unsure
        intention = _intention(shared[7:])
        if intention is not None and intention.members is not None and not indexes.issuperset(intention.members):
            raise _Unsure
        purposes_checked, source_ref = _purposes(purposes), group.source_ref
        return PlainHousehold(
            site,
            registered_on,
            registrar,
            travel_group or None,
            purposes_checked,
            given_on,
            members,
            intention,
            source_ref,
        )


def _person(values: Sequence[str], today: date) -> PlainPerson:
    """One member from its PERSON_COLUMNS cells."""
    index, relationship, sex = _MEMBER_INDEXES.get(values[0]), _RELATIONSHIPS.get(values[1]), _SEXES.get(values[12])
    names = values[2:12]
    if index is None or relationship is None or sex is None or not (names[0] or names[1]):
        raise _Unsure
    if not _NAMES.fullmatch("\x00".join(names)):
        raise _Unsure
    birth_text, year_text, document_text, document_number, phone_text, vulnerabilities = values[13:19]
    birth_date, birth_year = _birth(birth_text, year_text, today)
    document_type = _DOCUMENT_TYPES.get(document_text)
    if document_type is None:
        raise _Unsure
    if document_number and (
        not document_type or len(document_number) > MAX_DOCUMENT or _CONTROL.search(document_number)
    ):
        raise _Unsure
    phone = (
        phone_text if not phone_text or _PLAIN_PHONE.fullmatch(phone_text) else _call(rules.normalise_phone, phone_text)
    )
    personal = (*names, birth_date, document_type, document_number, phone)
    return PlainPerson(index, relationship, sex, birth_year, _vulnerabilities(vulnerabilities), personal)


def _purposes(text: str) -> tuple[str, ...]:
    checked = _checked_purposes.get(text)
    if checked is None:
        checked = tuple(_call(rules.check_purposes, text.split()))
        if len(_checked_purposes) < MAX_REMEMBERED:
            _checked_purposes[text] = checked
    return checked


def _vulnerabilities(text: str) -> str:
    if not text:
        return ""
    codes = text.split()
    if not rules.VULNERABILITIES.issuperset(codes):
        raise _Unsure
    return " ".join(sorted(set(codes)))


def _birth(birth_text: str, year_text: str, today: date) -> tuple[str, int]:
    """The birth date (ISO text, '' if unknown) and year, under rules.check_birth."""
    year = _YEARS.get(year_text) if year_text else None
    if year_text and year is None:
        raise _Unsure
    birth_date = _date(birth_text)
    checked = _call(rules.check_birth, birth_date, year, today)
    if checked is None:
        raise _Unsure
    return (birth_text if birth_date else ""), checked


def _intention(values: Sequence[str]) -> PlainIntention | None:
    """The intention from the household's intention cells (HOUSEHOLD_COLUMNS from `intention` on)."""
    kind_text, origin, destination, start_text, end_text, members_text = values
    if not kind_text:
        if origin or destination or members_text:
            raise _Unsure
        return None
    kind = _INTENTION_KINDS.get(kind_text)
    if kind is None or not members_text or origin.upper() == destination.upper():
        raise _Unsure
    if not 0 < len(origin) <= MAX_CODE or not 0 < len(destination) <= MAX_CODE:
        raise _Unsure
    start, end = _date(start_text), _date(end_text)
    _call(rules.check_window, start, end)
    members: tuple[int, ...] | None = None
    if members_text != "all":
        tokens = members_text.split()
        if not all(_POSITIVE.fullmatch(token) for token in tokens):
            raise _Unsure
        members = tuple(int(token) for token in tokens)
    return PlainIntention(kind, origin, destination, start, end, members)


def _date(text: str) -> date | None:
    """An ISO date, None for an empty cell; anything else is for pydantic to judge."""
    if not text:
        return None
    parsed = _dates.get(text)
    if parsed is None:
        if not _ISO_DATE.fullmatch(text):
            raise _Unsure
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            raise _Unsure from None
        if len(_dates) < MAX_REMEMBERED:
            _dates[text] = parsed
    return parsed


# Dates and consent answers repeat a lot: each distinct cell is checked once per process.
MAX_REMEMBERED = 100_000
_dates: dict[str, date] = {}
_checked_purposes: dict[str, tuple[str, ...]] = {}


def _call(check: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run one of the rules; a broken rule is for the commands to word."""
    try:
        return check(*args, **kwargs)
    except ValidationFailed:
        raise _Unsure from None
