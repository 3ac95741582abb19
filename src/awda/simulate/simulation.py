"""One chunk of the scenario: households, their registrations and their fate, streamed to CSV."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from awda.simulate.dates import date_text, ordinal
from awda.simulate.hazards import HazardModel, IncidentLog
from awda.simulate.journeys import IntentionRun, JourneyPlanner, Journeys
from awda.simulate.mix import LinkageMix
from awda.simulate.people import DAYS_PER_YEAR, FULL_BIRTH_DATE_SHARE, Household, Person, PersonFactory
from awda.simulate.places import SCENARIO_END, Flow, Site, scenario_sites
from awda.simulate.registration import Form, RegistrationRows
from awda.simulate.writer import ChunkFiles

P_INTENTION = 0.69  # with travel groups (who always intend to move) about 70% declare one
P_TRAVEL_GROUP = 0.024  # per unit; groups of 2-3 households make about 5% of households
P_PARTIAL_INTENTION = 0.12
P_DUPLICATE = 0.0417  # per household: about 4% of all registrations are duplicates
P_DUPLICATE_FEWER = 0.35
P_DUPLICATE_NO_PATRONYMS = 0.3
P_DUPLICATE_INTENTION = 0.5
RECENT_HOUSEHOLDS = 2000  # duplicate candidates: a bounded ring buffer keeps memory flat
PROGRESS_EVERY = 1000
PARAMETERS = {
    "intention_share": P_INTENTION,
    "travel_group_unit_share": P_TRAVEL_GROUP,
    "partial_intention_share": P_PARTIAL_INTENTION,
    "duplicate_per_household": P_DUPLICATE,
    "duplicate_fewer_members": P_DUPLICATE_FEWER,
    "duplicate_without_patronyms": P_DUPLICATE_NO_PATRONYMS,
    "duplicate_candidates": RECENT_HOUSEHOLDS,
}


@dataclass(frozen=True)
class ChunkJob:
    """Households ``first + 1 .. first + households`` of a scenario, drawn from their own stream."""

    directory: Path
    seed: int
    index: int
    first: int
    households: int
    mix: LinkageMix = field(default_factory=LinkageMix)


@dataclass
class ChunkResult:
    """Counts of a finished chunk and the passengers it put on each convoy."""

    job: ChunkJob
    counts: dict[str, int] = field(default_factory=dict)
    incidents_by_type: dict[str, int] = field(default_factory=dict)
    convoys: dict[tuple[str, str, int], int] = field(default_factory=dict)


def chunk_rng(seed: int, index: int) -> random.Random:
    """The chunk's own stream: str seeds are hashed with SHA-512, stable across runs and processes."""
    return random.Random(f"awda.simulate/{seed}/{index}")


def run_chunk(job: ChunkJob, on_progress: Callable[[int], None] | None) -> ChunkResult:
    """Write one chunk's streamed files under ``job.directory``."""
    files = ChunkFiles(job.directory)
    try:
        simulation = ChunkSimulation(chunk_rng(job.seed, job.index), files, job.first, job.mix)
        simulation.run(job.households, on_progress)
    finally:
        files.close()
    return ChunkResult(
        job, simulation.counts(), dict(simulation.incidents.by_type), simulation.journeys.convoys.passengers
    )


def _military_age(person: Person, day: int) -> bool:
    return person.sex == "male" and 18 <= (day - person.birth) / DAYS_PER_YEAR < 43


class ChunkSimulation:
    """State of one streaming run; everything random comes from ``rng``."""

    def __init__(self, rng: random.Random, files: ChunkFiles, first: int, mix: LinkageMix | None = None) -> None:
        mix = mix or LinkageMix()
        self.rnd = rng.random
        self.p_duplicate = mix.duplicate_per_household(P_DUPLICATE)
        self.p_switched = mix.switched_scripts
        self.files = files
        self.text = date_text()
        self.end_day = ordinal(SCENARIO_END)
        self.sites = scenario_sites()
        self.site_table = tuple(site for site in self.sites for _ in range(site.weight))
        self.people = PersonFactory(rng, self.text, mix.full_date_share(FULL_BIRTH_DATE_SHARE), mix.is_set)
        self.forms = RegistrationRows(rng, self.text)
        self.incidents = IncidentLog(rng, files.incidents, self.text)
        hazards = HazardModel(rng, self.incidents, self.end_day)
        self.planner = JourneyPlanner(rng, self.end_day)
        self.journeys = Journeys(rng, files, self.text, hazards, self.incidents, self.end_day)
        self.recent: deque[Household] = deque(maxlen=RECENT_HOUSEHOLDS)
        # with a linkage mix: recent one-script registrations and their script, to re-register in the other
        self.one_script: deque[tuple[Household, str]] = deque(maxlen=RECENT_HOUSEHOLDS)
        self.first = first  # households numbered before this chunk
        self.households = self.persons = self.rows = self.duplicates = self.groups = 0

    def run(self, households: int, on_progress: Callable[[int], None] | None) -> None:
        """Generate ``households`` true households (and duplicates) in travel units."""
        reported = 0
        while self.households < households:
            size = 1
            if self.rnd() < P_TRAVEL_GROUP:
                size = min(2 if self.rnd() < 0.6 else 3, households - self.households)
            self._unit(size)
            if on_progress is not None and self.households - reported >= PROGRESS_EVERY:
                on_progress(self.households - reported)
                reported = self.households
        if on_progress is not None and self.households > reported:
            on_progress(self.households - reported)

    def _site(self) -> Site:
        return self.site_table[int(self.rnd() * len(self.site_table))]

    def _unit(self, size: int) -> None:
        rnd = self.rnd
        site = self._site()
        today = site.registration_start + int(rnd() * (site.registration_end - site.registration_start + 1))
        group = ""
        if size > 1:
            self.groups += 1
            group = f"TG{self.first + self.households + 1:08d}"  # named after its first household
        flow = None
        if size > 1 or rnd() < P_INTENTION:
            flow = site.flow_table[int(rnd() * len(site.flow_table))]
        runs = self.planner.plan(site, flow, today) if flow is not None else []
        for _ in range(size):
            self.households += 1
            household = self.people.household(self.first + self.households, site.code, today)
            uuid = self.forms.new_uuid()
            text, travellers = self._intention_members(household.members, today, flow)
            self._write_form(Form(uuid, today, site, group, household.members, flow, text), household.household_id)
            at_return = self.journeys.record(household.household_id, uuid, runs, travellers)
            self._write_persons(household, site, at_return)
            self.recent.append(household)
            if self.p_switched and self.forms.last_script:
                self.one_script.append((household, self.forms.last_script))
            if rnd() < self.p_duplicate:
                self._duplicate()

    def _intention_members(self, members: list[Person], today: int, flow: Flow | None) -> tuple[str, list[Person]]:
        if flow is None:
            return "", []
        if len(members) < 2 or self.rnd() >= P_PARTIAL_INTENTION:
            return "all", members
        # men of military age often stay behind while their families return
        movers = [p for p in members if not _military_age(p, today)]
        if not movers or len(movers) == len(members):
            movers = [p for i, p in enumerate(members) if i == 0 or self.rnd() < 0.5]
        if len(movers) == len(members):
            return "all", members
        moving = {id(p) for p in movers}
        indexes = [str(i) for i, p in enumerate(members, 1) if id(p) in moving]
        return " ".join(indexes), movers

    def _write_form(self, form: Form, household_id: str) -> None:
        rows = self.forms.rows(form)
        self.files.registrations.writerows(rows)
        today, code = self.text(form.today), form.site.code
        duplicate = "true" if form.duplicate else "false"
        self.files.registration_rows.writerows(
            [
                (form.uuid, str(index), person.person_id, duplicate, household_id, code, today)
                for index, person in enumerate(form.members, 1)
            ]
        )
        self.rows += len(rows)

    def _write_persons(self, household: Household, site: Site, at_return: dict[str, bool]) -> None:
        _text, today = self.text, self.text(household.registered_on)
        rows = []
        for p in household.members:
            birth = p.birth_text
            returned = at_return.get(p.person_id)
            rows.append(
                (
                    p.person_id,
                    household.household_id,
                    p.sex,
                    birth[:4],
                    "" if returned is None else ("true" if returned else "false"),
                    birth,
                    p.relationship,
                    p.given.ar,
                    p.father.ar,
                    p.grandfather.ar,
                    p.family.ar,
                    site.code,
                    today,
                )
            )
        self.files.persons.writerows(rows)
        self.persons += len(rows)

    def _duplicate(self) -> None:
        """Re-register a recent household elsewhere, later or earlier, recorded less carefully."""
        rnd = self.rnd
        original, script = self._original()
        site = self._site()
        while site.code == original.site_code:
            site = self._site()
        day = original.registered_on + 30 + int(rnd() * 570)
        if not site.registration_start <= day <= site.registration_end:
            day = site.registration_start + int(rnd() * (site.registration_end - site.registration_start + 1))
        if day == original.registered_on:
            day += 1
        fewer = rnd() < P_DUPLICATE_FEWER
        members = [
            p for p in original.members if p.relationship == "head" or (p.birth <= day and (not fewer or rnd() < 0.7))
        ]
        flow = site.flow_table[int(rnd() * len(site.flow_table))] if rnd() < P_DUPLICATE_INTENTION else None
        text, _ = self._intention_members(members, day, flow)
        uuid = self.forms.new_uuid()
        form = Form(uuid, day, site, "", members, flow, text, True, rnd() < P_DUPLICATE_NO_PATRONYMS, script)
        self._write_form(form, original.household_id)
        self.duplicates += 1
        if flow is not None:
            run = IntentionRun(1, flow, [(day, "", "registered")])
            self.journeys.history(original.household_id, uuid, run, run.transitions, "")

    def _original(self) -> tuple[Household, str]:
        """The household to re-register, and the only script to write it in (empty: drawn as usual)."""
        rnd = self.rnd
        if self.p_switched and self.one_script and rnd() < self.p_switched:
            household, script = self.one_script[int(rnd() * len(self.one_script))]
            return household, "latin" if script == "arabic" else "arabic"
        return self.recent[int(rnd() * len(self.recent))], ""

    def counts(self) -> dict[str, int]:
        """Row counts of the chunk's files."""
        return {
            "households": self.households,
            "persons": self.persons,
            "registration_rows": self.rows,
            "duplicate_registrations": self.duplicates,
            "registrations": self.households + self.duplicates,
            "travel_groups": self.groups,
            "incidents": self.incidents.count,
            **self.journeys.counts,
        }
