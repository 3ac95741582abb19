"""Rows of registrations.csv (the docs/import.md layout), with registrar-level spelling choices."""

from __future__ import annotations

import random
from dataclasses import dataclass

from awda.simulate.dates import DateText
from awda.simulate.names import NameEntry
from awda.simulate.people import Person
from awda.simulate.places import Flow, Site

COLUMNS = (
    "_uuid",
    "_submission_time",
    "today",
    "site",
    "registrar",
    "travel_group",
    "member_index",
    "relationship",
    "given_name_ar",
    "given_name_lat",
    "father_name_ar",
    "father_name_lat",
    "grandfather_name_ar",
    "grandfather_name_lat",
    "family_name_ar",
    "family_name_lat",
    "mother_name_ar",
    "mother_name_lat",
    "sex",
    "birth_date",
    "birth_year",
    "document_type",
    "document_number",
    "phone",
    "vulnerabilities",
    "consent_purposes",
    "consent_date",
    "intention",
    "origin_pcode",
    "destination_pcode",
    "window_start",
    "window_end",
    "intention_members",
)
LATIN_ONLY_SHARE = 0.08
ARABIC_ONLY_SHARE = 0.10
UPPER_CASE_SHARE = 0.05  # some registrars type Latin names in capitals
MOTHER_NAME_SHARE = 0.85
NO_GRANDFATHER_SHARE = 0.06
TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_TWO_BLANKS = ("", "")
_FOUR_BLANKS = ("", "", "", "")
_FIVE_BLANKS = ("", "", "", "", "")


@dataclass(slots=True, eq=False)
class Form:
    """One household registration (one Kobo submission) about to be written."""

    uuid: str
    today: int
    site: Site
    travel_group: str
    members: list[Person]
    flow: Flow | None
    intention_members: str
    duplicate: bool = False
    erase_patronyms: bool = False  # duplicates: the registrar skipped father/grandfather
    script: str = ""  # "arabic" or "latin" forces names in that script only; empty: drawn


@dataclass(slots=True)
class _Style:
    arabic: bool
    latin: bool
    upper: bool
    grandfather: bool
    duplicate: bool
    erase_patronyms: bool


class RegistrationRows:
    """Turns forms into CSV rows; every registration draws its own spellings."""

    def __init__(self, rng: random.Random, date_text: DateText) -> None:
        self.rng = rng
        self.rnd = rng.random
        self.date_text = date_text
        self.last_script = ""  # the script of the last form if it had only one ("arabic", "latin"), else ""

    def new_uuid(self) -> str:
        """A random version-4 UUID drawn from the scenario's stream."""
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def rows(self, form: Form) -> list[list[str]]:
        """One row per member, household fields repeated on each (as Kobo exports them)."""
        rnd = self.rnd
        r = rnd()
        latin_only = r < LATIN_ONLY_SHARE
        arabic_only = LATIN_ONLY_SHARE <= r < LATIN_ONLY_SHARE + ARABIC_ONLY_SHARE
        if form.script:
            latin_only, arabic_only = form.script == "latin", form.script == "arabic"
        self.last_script = "latin" if latin_only else "arabic" if arabic_only else ""
        style = _Style(
            not latin_only,
            not arabic_only,
            rnd() < UPPER_CASE_SHARE,
            rnd() >= NO_GRANDFATHER_SHARE and not form.erase_patronyms,
            form.duplicate,
            form.erase_patronyms,
        )
        site = form.site
        lead = [
            form.uuid,
            self._submission_time(form.today),
            self.date_text(form.today),
            site.code,
            site.registrars[int(rnd() * len(site.registrars))],
            form.travel_group,
        ]
        tail = self._answers(form)
        spellings: dict[NameEntry, str] = {}
        row = self._row
        return [row(str(index), person, style, spellings, lead, tail) for index, person in enumerate(form.members, 1)]

    def _spell(self, entry: NameEntry, spellings: dict[NameEntry, str], upper: bool) -> str:
        variants = entry.lat
        text = variants[int(self.rnd() * len(variants))]
        if upper:
            text = text.upper()
        spellings[entry] = text
        return text

    def _row(
        self, index: str, p: Person, style: _Style, spellings: dict[NameEntry, str], lead: list[str], tail: list[str]
    ) -> list[str]:
        """One member's row: names in Arabic then Latin, sex, birth, document, phone, vulnerabilities."""
        given, father, grandfather, family, mother_given, mother_family = (
            p.given, p.father, p.grandfather, p.family, p.mother_given, p.mother_family
        )  # fmt: skip
        if style.latin:
            get, spell, upper = spellings.get, self._spell, style.upper
            names = [
                given.ar, get(given) or spell(given, spellings, upper),
                father.ar, get(father) or spell(father, spellings, upper),
                grandfather.ar, get(grandfather) or spell(grandfather, spellings, upper),
                family.ar, get(family) or spell(family, spellings, upper),
                f"{mother_given.ar} {mother_family.ar}",
                f"{get(mother_given) or spell(mother_given, spellings, upper)} "
                f"{get(mother_family) or spell(mother_family, spellings, upper)}",
            ]  # fmt: skip
            if not style.arabic:
                names[0::2] = _FIVE_BLANKS
        else:
            mother = f"{mother_given.ar} {mother_family.ar}"
            names = [given.ar, "", father.ar, "", grandfather.ar, "", family.ar, "", mother, ""]
        if style.erase_patronyms:
            names[2:6] = _FOUR_BLANKS
        elif not style.grandfather:
            names[4:6] = _TWO_BLANKS
        rnd = self.rnd
        if rnd() >= MOTHER_NAME_SHARE:
            names[8:10] = _TWO_BLANKS
        if style.duplicate:
            return [*lead, index, p.relationship, *names, *self._recorded_again(p), *tail]
        birth = p.birth_text
        dates = [birth, birth[:4] if rnd() < 0.5 else ""] if p.date_known else ["", birth[:4]]
        return [
            *lead, index, p.relationship, *names, p.sex, *dates, p.doc_type, p.doc_number, p.phone, p.vulnerabilities,
            *tail,
        ]  # fmt: skip

    def _recorded_again(self, person: Person) -> list[str]:
        """A second registrar records less, and writes phone numbers the local way."""
        rnd = self.rnd
        birth = person.birth_text
        doc_type, doc_number, phone = person.doc_type, person.doc_number, person.phone
        if rnd() < 0.25:
            doc_type = doc_number = ""
        if phone and rnd() < 0.5:
            phone = "" if rnd() < 0.6 else "0" + phone[4:]
        vulnerabilities = person.vulnerabilities if rnd() < 0.5 else ""
        if person.date_known and rnd() < 0.5:
            return [person.sex, birth, birth[:4] if rnd() < 0.5 else "", doc_type, doc_number, phone, vulnerabilities]
        return [person.sex, "", birth[:4], doc_type, doc_number, phone, vulnerabilities]

    def _submission_time(self, today: int) -> str:
        rnd = self.rnd
        # forms filled offline reach the server up to three days later
        day = today if rnd() < 0.8 else today + 1 + int(rnd() * 3)
        hour, minute, second = 8 + int(rnd() * 10), int(rnd() * 60), int(rnd() * 60)
        return f"{self.date_text(day)}T{TWO_DIGITS[hour]}:{TWO_DIGITS[minute]}:{TWO_DIGITS[second]}"

    def _answers(self, form: Form) -> list[str]:
        rnd = self.rnd
        today = self.date_text(form.today)
        flow = form.flow
        purposes = ["registration"]
        if flow is not None or rnd() < 0.3:
            purposes.append("movement")
        if rnd() < 0.8:
            purposes.append("follow_up")
        if rnd() < 0.6:
            purposes.append("card")
            if rnd() < 0.4:
                purposes.append("card_name")
        if rnd() < 0.7:
            purposes.append("aggregate_sharing")
        consent = [" ".join(purposes), today]
        if flow is None:
            return [*consent, "", "", "", "", "", ""]
        window = ["", ""]
        if rnd() < 0.5:
            start = form.today + int(rnd() * 31)
            window = [self.date_text(start), self.date_text(start + 14 + int(rnd() * 167))]
        return [*consent, flow.kind, flow.origin_pcode, flow.destination_pcode, *window, form.intention_members]
