"""True households and persons: composition, ages, patronymic chains, documents, phones."""

from __future__ import annotations

import random
from dataclasses import dataclass

from awda.simulate.dates import DateText
from awda.simulate.names import NameEntry, name_tables

DAYS_PER_YEAR = 365.2425
# Household size 1..12 (index = size), mean about 5.
SIZE_WEIGHTS = (0, 5, 9, 12, 15, 16, 14, 11, 7, 5, 3, 2, 1)
# Head's age 18..80 in 5-year bands starting at 18.
HEAD_AGE_BANDS = (6, 14, 18, 17, 14, 11, 8, 5, 3, 2, 1, 1, 1)
FULL_BIRTH_DATE_SHARE = 0.6
TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))


def _table(weights: tuple[int, ...], start: int = 0) -> tuple[int, ...]:
    return tuple(value for value, w in enumerate(weights, start) for _ in range(w))


SIZE_TABLE = _table(SIZE_WEIGHTS)
HEAD_BAND_TABLE = _table(HEAD_AGE_BANDS)


@dataclass(slots=True, eq=False)
class Person:
    """One true person; names are entries whose spelling each registration chooses."""

    person_id: str
    sex: str
    birth: int  # ordinal day
    birth_text: str  # the same day as YYYY-MM-DD (formatted once, written often)
    relationship: str  # to the household head
    given: NameEntry
    father: NameEntry
    grandfather: NameEntry
    family: NameEntry
    mother_given: NameEntry
    mother_family: NameEntry
    date_known: bool
    doc_type: str = ""
    doc_number: str = ""
    phone: str = ""
    vulnerabilities: str = ""


@dataclass(slots=True, eq=False)
class Household:
    """A true household as first registered."""

    household_id: str
    site_code: str
    registered_on: int
    members: list[Person]


class PersonFactory:
    """Draws realistic households from one ``random.Random`` stream."""

    def __init__(
        self,
        rng: random.Random,
        date_text: DateText,
        full_date_share: float = FULL_BIRTH_DATE_SHARE,
        distinct_sibling_names: bool = False,
    ) -> None:
        self.rnd = rng.random
        self.date_text = date_text
        self.full_date_share = full_date_share
        # living brothers and sisters never share a given name; off in the default scenario (its files stay as they are)
        self.distinct_sibling_names = distinct_sibling_names
        tables = name_tables()
        self.male, self.female, self.family = tables.male, tables.female, tables.family
        self.id_prefix = ""  # person ids are the household number and the member's position
        self.next_member = 1

    def _pick(self, table: tuple[NameEntry, ...]) -> NameEntry:
        return table[int(self.rnd() * len(table))]

    def _sibling_name(self, table: tuple[NameEntry, ...], drawn: NameEntry, siblings: list[Person]) -> NameEntry:
        """``drawn``, or another draw if a brother or sister already has that name (only when asked to)."""
        if self.distinct_sibling_names:
            taken = {sibling.given.ar for sibling in siblings}
            while drawn.ar in taken:
                drawn = self._pick(table)
        return drawn

    def _lineage(self) -> tuple[NameEntry, NameEntry, NameEntry]:
        """Random father, grandfather and family names (one call instead of three)."""
        rnd, male, family = self.rnd, self.male, self.family
        return male[int(rnd() * len(male))], male[int(rnd() * len(male))], family[int(rnd() * len(family))]

    def _mother(self) -> tuple[NameEntry, NameEntry]:
        """A random mother's given and family name."""
        rnd, female, family = self.rnd, self.female, self.family
        return female[int(rnd() * len(female))], family[int(rnd() * len(family))]

    def _person(
        self,
        sex: str,
        age: int,
        today: int,
        relationship: str,
        given: NameEntry,
        lineage: tuple[NameEntry, NameEntry, NameEntry],
        mother: tuple[NameEntry, NameEntry],
    ) -> Person:
        rnd = self.rnd
        number = self.next_member
        self.next_member = number + 1
        father, grandfather, family = lineage
        birth = today - int((age + rnd()) * DAYS_PER_YEAR)
        person = Person(
            self.id_prefix + TWO_DIGITS[number],
            sex,
            birth,
            self.date_text(birth),
            relationship,
            given,
            father,
            grandfather,
            family,
            mother[0],
            mother[1],
            rnd() < self.full_date_share,
        )
        if age >= 14:
            self._papers(person, age)
        r = rnd()
        # most people have no vulnerability: skip the call unless one is possible
        if r < 0.12 or r > 0.92 or age >= 60 or relationship in ("head", "other_relative", "unrelated"):
            self._vulnerabilities(person, age, r)
        return person

    def _papers(self, person: Person, age: int) -> None:
        rnd = self.rnd
        r = rnd()
        if person.relationship == "head":
            if r < 0.70:
                person.doc_type, person.doc_number = "family_booklet", f"{int(rnd() * 9e6) + 1000000}"
            elif r < 0.90:
                person.doc_type, person.doc_number = "national_id", f"0{int(rnd() * 1e10):010d}"
            elif r < 0.94:
                person.doc_type, person.doc_number = "unhcr", self._unhcr_number()
        elif r < (0.60 if age >= 18 else 0.40):
            person.doc_type, person.doc_number = "national_id", f"0{int(rnd() * 1e10):010d}"
        elif age >= 18 and r < 0.66:
            person.doc_type, person.doc_number = "unhcr", self._unhcr_number()
        elif age >= 18 and r < 0.69:
            person.doc_type, person.doc_number = "passport", f"N{int(rnd() * 1e9):09d}"
        elif age >= 18 and r < 0.70:
            person.doc_type, person.doc_number = "other", f"OT{int(rnd() * 1e6):06d}"
        if age >= 18 and rnd() < 0.5:
            person.phone = f"+9639{int(rnd() * 1e8):08d}"

    def _unhcr_number(self) -> str:
        rnd = self.rnd
        return f"{int(rnd() * 900) + 100}-{int(rnd() * 8) + 13}C{int(rnd() * 1e5):05d}"

    def _vulnerabilities(self, person: Person, age: int, r: float) -> None:
        found = []
        if r < 0.04 or (age >= 60 and r < 0.12):
            found.append("medical")
        elif r > 0.975:
            found.append("disability")
        if age >= 60 and self.rnd() < 0.7:
            found.append("elderly")
        female = person.sex == "female"
        if female and 18 <= age <= 44 and person.relationship in ("spouse", "head") and r > 0.92:
            found.append("pregnant")
        if age < 18 and person.relationship in ("other_relative", "unrelated") and r < 0.5:
            found.append("unaccompanied_child")
        if female and person.relationship == "head":
            found.append("female_headed")
        if found:
            person.vulnerabilities = " ".join(found)

    def household(self, number: int, site_code: str, today: int) -> Household:
        """Household ``H{number}`` of 1..12 people whose ages and names fit their relationships."""
        rnd = self.rnd
        self.id_prefix, self.next_member = f"P{number:08d}-", 1
        size = SIZE_TABLE[int(rnd() * len(SIZE_TABLE))]
        head_female = rnd() < (0.35 if size == 1 else 0.2)
        spouse = size >= 2 and not head_female and rnd() < 0.93
        slots = size - 1 - spouse
        parent = slots >= 1 and rnd() < 0.10
        slots -= parent
        sibling = slots >= 1 and rnd() < 0.06
        slots -= sibling
        other = slots >= 1 and rnd() < 0.04
        children = slots - other
        head_age = self._head_age(children, parent)
        head = self._head(head_female, head_age, today)
        members = [head]
        mother = self._spouse(members, head, head_age, children, today) if spouse else None
        self._children(members, head, mother, head_age, children, today)
        if parent:
            self._parent(members, head, head_age, today)
        if sibling:
            self._sibling(members, head, head_age, today)
        if other:
            self._other(members, head, today)
        return Household(f"H{number:08d}", site_code, today, members)

    def _head_age(self, children: int, parent: bool) -> int:
        band = HEAD_BAND_TABLE[int(self.rnd() * len(HEAD_BAND_TABLE))]
        age = 18 + 5 * band + int(self.rnd() * 5)
        age = max(age, 21 + 2 * children)
        return min(age, 60) if parent else age

    def _head(self, female: bool, age: int, today: int) -> Person:
        given = self._pick(self.female if female else self.male)
        lineage = self._lineage()
        mother = self._mother()
        return self._person("female" if female else "male", age, today, "head", given, lineage, mother)

    def _spouse(
        self, members: list[Person], head: Person, head_age: int, children: int, today: int
    ) -> tuple[Person, int]:
        age = max(18 + 2 * children, head_age - int(self.rnd() * 11))  # old enough to be their mother
        # cousin marriage is common: about a third of wives share the husband's family name
        family = head.family if self.rnd() < 0.3 else self._pick(self.family)
        lineage = (self._pick(self.male), self._pick(self.male), family)
        wife = self._person(
            "female",
            age,
            today,
            "spouse",
            self._pick(self.female),
            lineage,
            self._mother(),
        )
        members.append(wife)
        return wife, age

    def _children(
        self,
        members: list[Person],
        head: Person,
        mother: tuple[Person, int] | None,
        head_age: int,
        count: int,
        today: int,
    ) -> None:
        # a female head's children carry the line of her absent (often dead or detained) husband
        lineage = (head.given, head.father, head.family) if head.sex == "male" else self._lineage()
        if mother is not None:
            mother_names, mother_age = (mother[0].given, mother[0].family), mother[1]
        elif head.sex == "female":
            mother_names, mother_age = (head.given, head.family), head_age
        else:
            mother_names = self._mother()
            mother_age = head_age - 3
        rnd, male, female, person = self.rnd, self.male, self.female, self._person
        grandchildren = count // 2 if head_age >= 52 and rnd() < 0.4 else 0
        ages: list[int] = []
        first_birth = max(17, min(18 + int(rnd() * 8), mother_age - 2 * (count - grandchildren - 1)))
        age = mother_age - first_birth  # the eldest; then one every one to three years until her mid-forties
        while len(ages) < count - grandchildren and age >= 0 and mother_age - age <= 45:
            ages.append(age)
            age -= 1 + int(rnd() * 3)
        children: list[Person] = []
        for age in ages:  # eldest first, as registrars list them
            if rnd() < 0.51:
                son = self._sibling_name(male, male[int(rnd() * len(male))], children)
                children.append(person("male", age, today, "son", son, lineage, mother_names))
            else:
                daughter = self._sibling_name(female, female[int(rnd() * len(female))], children)
                children.append(person("female", age, today, "daughter", daughter, lineage, mother_names))
        members += children
        for _ in range(grandchildren):
            self._grandchild(members, lineage, head_age, today)

    def _grandchild(
        self, members: list[Person], lineage: tuple[NameEntry, NameEntry, NameEntry], head_age: int, today: int
    ) -> None:
        sons = [p for p in members if p.relationship == "son" and today - p.birth > 7000]
        father = sons[0].given if sons else self._pick(self.male)
        age = int(self.rnd() * (min(16, head_age - 40) + 1))
        sex = "male" if self.rnd() < 0.51 else "female"
        table = self.male if sex == "male" else self.female
        given = self._sibling_name(table, self._pick(table), [p for p in members if p.relationship == "grandchild"])
        members.append(
            self._person(
                sex,
                age,
                today,
                "grandchild",
                given,
                (father, lineage[0], lineage[2]),
                self._mother(),
            )
        )

    def _parent(self, members: list[Person], head: Person, head_age: int, today: int) -> None:
        age = head_age + 20 + int(self.rnd() * 15)
        if age > 95:
            return
        unknown_mother = self._mother()
        if self.rnd() < 0.35:
            lineage = (head.grandfather, self._pick(self.male), head.family)
            members.append(self._person("male", age, today, "father", head.father, lineage, unknown_mother))
        else:
            lineage = (self._pick(self.male), self._pick(self.male), head.mother_family)
            members.append(
                self._person(
                    "female", age - int(self.rnd() * 6), today, "mother", head.mother_given, lineage, unknown_mother
                )
            )

    def _sibling(self, members: list[Person], head: Person, head_age: int, today: int) -> None:
        age = max(16, head_age + int(self.rnd() * 25) - 12)
        male = self.rnd() < 0.5
        table = self.male if male else self.female
        given = self._sibling_name(table, self._pick(table), [head])
        members.append(
            self._person(
                "male" if male else "female",
                age,
                today,
                "brother" if male else "sister",
                given,
                (head.father, head.grandfather, head.family),
                (head.mother_given, head.mother_family),
            )
        )

    def _other(self, members: list[Person], head: Person, today: int) -> None:
        related = self.rnd() < 0.7
        male = self.rnd() < 0.5
        given = self._pick(self.male if male else self.female)
        family = head.family if related else self._pick(self.family)
        members.append(
            self._person(
                "male" if male else "female",
                int(self.rnd() * 60),
                today,
                "other_relative" if related else "unrelated",
                given,
                (self._pick(self.male), self._pick(self.male), family),
                self._mother(),
            )
        )
