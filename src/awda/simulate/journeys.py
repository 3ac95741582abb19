"""Intentions and their status history, convoys, movements and follow-ups of a household."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from awda.simulate.agreements import AGREEMENTS
from awda.simulate.dates import DateText, date_key, next_weekday
from awda.simulate.hazards import HazardModel, IncidentLog, profile_of
from awda.simulate.people import Person
from awda.simulate.places import Flow, Site
from awda.simulate.writer import ChunkFiles

# How the first intention of a household ends (the rest travel); later ones always travel.
P_WITHDRAWN = 0.10  # changed their mind while waiting
P_STILL_WAITING = 0.06  # never given a seat within the scenario
P_ASSIGNMENT_CANCELLED = 0.05  # convoy cancelled or household did not show up
P_TURNED_BACK = 0.03  # departed, refused entry on the road, came back
P_NEW_INTENTION = 0.6  # after a cancellation, registers a new intention later
P_SAME_DESTINATION = 0.7
MISSING: dict[str, float] = {"military_age_man": 0.006, "adult": 0.001, "child": 0.0003}
P_EN_ROUTE_INCIDENT = 0.02
FOLLOWUP_DAYS = (7, 30, 90, 180, 365)
FOLLOWUP_OUTCOMES = ("reached",) * 72 + ("not_reached",) * 18 + ("moved",) * 5 + ("refused",) * 5
SEATS_PER_BUS = 50
GUARANTORS = {a.agreement_id: a.guarantor for a in AGREEMENTS}


@dataclass(slots=True, eq=False)
class IntentionRun:
    """One intention of a household and the transitions it went through within the scenario."""

    number: int
    flow: Flow
    transitions: list[tuple[int, str, str]] = field(default_factory=list)
    convoy_day: int = -1  # the convoy it was assigned to (-1: none)
    departed: bool = False
    arrival_day: int = -1  # -1: did not arrive within the scenario
    cancelled_on: int = -1
    turned_back: bool = False


class JourneyPlanner:
    """Draws the status history of intentions: waitlist, convoy, and changes of mind."""

    def __init__(self, rng: random.Random, end_day: int) -> None:
        self.rnd = rng.random
        self.end_day = end_day

    def plan(self, site: Site, flow: Flow, registered_on: int) -> list[IntentionRun]:
        """The intention declared at registration and, after a cancellation, a later one."""
        first = self._run(1, flow, site.convoy_weekday, registered_on, self.rnd())
        runs = [first]
        if first.cancelled_on >= 0 and self.rnd() < P_NEW_INTENTION:
            again = first.cancelled_on + 30 + int(self.rnd() * 210)
            if again <= self.end_day:
                if self.rnd() >= P_SAME_DESTINATION:
                    flow = site.flow_table[int(self.rnd() * len(site.flow_table))]
                runs.append(self._run(2, flow, site.convoy_weekday, again, 1.0))
        return runs

    def _run(self, number: int, flow: Flow, weekday: int, registered_on: int, fate: float) -> IntentionRun:  # noqa: PLR0911  (one exit per fate)
        rnd, end = self.rnd, self.end_day
        run = IntentionRun(number, flow, [(registered_on, "", "registered")])
        waitlisted = registered_on + int(rnd() * 3)
        if waitlisted > end:
            return run
        run.transitions.append((waitlisted, "registered", "waitlisted"))
        if fate < P_WITHDRAWN:
            self._cancel(run, waitlisted + 5 + int(rnd() * 175), "waitlisted", "withdrawn")
            return run
        if fate < P_WITHDRAWN + P_STILL_WAITING:
            return run
        wait = 7 + int(-math.log(1.0 - rnd()) * flow.mean_wait_days)  # exponential, mean mean_wait_days
        convoy = next_weekday(max(waitlisted + wait, flow.first_convoy), weekday)
        if convoy > flow.last_convoy:  # the movement ended (Al-Waer's last bus) before a seat
            self._cancel(run, max(waitlisted, flow.last_convoy), "waitlisted", "cancelled")
            return run
        assigned = max(waitlisted, convoy - 3 - int(rnd() * 5))
        if assigned > end:
            return run
        run.transitions.append((assigned, "waitlisted", "assigned"))
        run.convoy_day = convoy
        if fate < P_WITHDRAWN + P_STILL_WAITING + P_ASSIGNMENT_CANCELLED:
            self._cancel(run, max(assigned, convoy - int(rnd() * 3)), "assigned", "cancelled")
            return run
        if convoy > end:
            return run
        run.transitions.append((convoy, "assigned", "departed"))
        run.departed = True
        if fate < P_WITHDRAWN + P_STILL_WAITING + P_ASSIGNMENT_CANCELLED + P_TURNED_BACK:
            run.turned_back = True
            self._cancel(run, convoy + int(rnd() * 2), "departed", "cancelled")
        elif convoy + flow.travel_days <= end:
            run.arrival_day = convoy + flow.travel_days
        return run

    def _cancel(self, run: IntentionRun, day: int, from_status: str, to_status: str) -> None:
        if day <= self.end_day:
            run.transitions.append((day, from_status, to_status))
            run.cancelled_on = day


ConvoyKey = tuple[str, str, int]  # (origin site, destination P-code, date ordinal)


def convoy_id(origin_site: str, destination_pcode: str, day_text: str) -> str:
    """Convoys are named by route and date, so that separate chunks agree on the name."""
    return f"CV-{origin_site}-{destination_pcode}-{day_text}"


class ConvoyRegistry:
    """Passengers per convoy; bounded by the calendar (routes x weeks), not by the number of people."""

    def __init__(self, date_text: DateText) -> None:
        self.passengers: dict[ConvoyKey, int] = {}
        self.date_text = date_text

    def schedule(self, flow: Flow, day: int) -> str:
        """The id of the convoy of ``flow`` on ``day``, scheduling it if new."""
        key = (flow.origin_site, flow.destination_pcode, day)
        if key not in self.passengers:
            self.passengers[key] = 0
        return convoy_id(flow.origin_site, flow.destination_pcode, self.date_text(day))

    def board(self, flow: Flow, day: int, passengers: int) -> None:
        """Count ``passengers`` who departed on the convoy."""
        self.passengers[(flow.origin_site, flow.destination_pcode, day)] += passengers


def convoy_rows(passengers: dict[ConvoyKey, int], sites: tuple[Site, ...], date_text: DateText) -> Iterator[list[str]]:
    """convoys.csv rows in date order; capacity is whole buses with some seats to spare."""
    flows = {(site.code, flow.destination_pcode): flow for site in sites for flow in site.flows}
    for key in sorted(passengers, key=lambda k: (k[2], k[0], k[1])):
        flow, count = flows[key[:2]], passengers[key]
        buses = max(1, math.ceil(count * 1.15 / SEATS_PER_BUS))
        yield [
            convoy_id(key[0], key[1], date_text(key[2])), date_text(key[2]), flow.origin_pcode, flow.destination_pcode,
            str(buses * SEATS_PER_BUS), GUARANTORS.get(flow.agreement_id, "none"), flow.origin_site,
            flow.agreement_id, str(count),
        ]  # fmt: skip


class Journeys:
    """Writes what happened to one household: history, movements, incidents, follow-ups."""

    def __init__(
        self,
        rng: random.Random,
        files: ChunkFiles,
        date_text: DateText,
        hazards: HazardModel,
        incidents: IncidentLog,
        end_day: int,
    ) -> None:
        self.rnd = rng.random
        self.files = files
        self.date_text = date_text
        self.date_key = date_key()
        self.hazards = hazards
        self.incidents = incidents
        self.convoys = ConvoyRegistry(date_text)
        self.end_day = end_day
        self.counts = {"intention_history": 0, "movements": 0, "followups": 0}

    def record(
        self, household_id: str, uuid: str, runs: list[IntentionRun], travellers: list[Person]
    ) -> dict[str, bool]:
        """Write the household's journey; return person_id -> military age at (last) arrival."""
        at_return: dict[str, bool] = {}
        for run in runs:
            convoy = ""
            if run.convoy_day >= 0:
                convoy = self.convoys.schedule(run.flow, run.convoy_day)
            transitions = list(run.transitions)
            if run.departed:
                self.convoys.board(run.flow, run.convoy_day, len(travellers))
                self._on_the_road(household_id, run, travellers)
            if run.arrival_day >= 0:
                arrived = self._arrive(household_id, run, travellers, convoy, at_return)
                if arrived:
                    transitions.append((run.arrival_day, "departed", "arrived"))
                    self._followups(household_id, run.arrival_day)
            self.history(household_id, uuid, run, transitions, convoy)
        return at_return

    def history(
        self, household_id: str, uuid: str, run: IntentionRun, transitions: list[tuple[int, str, str]], convoy: str
    ) -> None:
        """Write intention_history rows; the convoy is named from the assignment on."""
        flow, text = run.flow, self.date_text
        intention_id = f"{uuid}/{run.number}"
        self.files.intention_history.writerows(
            [
                (
                    household_id,
                    uuid,
                    text(day),
                    from_status,
                    to_status,
                    intention_id,
                    flow.kind,
                    flow.origin_pcode,
                    flow.destination_pcode,
                    convoy
                    if to_status in ("assigned", "departed", "arrived") or from_status in ("assigned", "departed")
                    else "",
                )
                for day, from_status, to_status in transitions
            ]
        )
        self.counts["intention_history"] += len(transitions)

    def _on_the_road(self, household_id: str, run: IntentionRun, travellers: list[Person]) -> None:
        first, key = travellers[0], self.date_key
        profile = profile_of(first.sex, key(first.birth), key(run.convoy_day))
        if run.turned_back:
            kind = "denial_of_entry"
        elif self.rnd() < P_EN_ROUTE_INCIDENT:
            kind = "checkpoint_harassment" if self.rnd() < 0.7 else "extortion"
        else:
            return
        self.incidents.record(first.person_id, household_id, kind, run.convoy_day, run.flow, None, profile, "journey")

    def _arrive(
        self, household_id: str, run: IntentionRun, travellers: list[Person], convoy: str, at_return: dict[str, bool]
    ) -> bool:
        """Movements of the travellers: most arrive and are observed, a few go missing on the road."""
        text, key, flow, rnd, observe = self.date_text, self.date_key, run.flow, self.rnd, self.hazards.observe
        departed, arrival, arrival_key = text(run.convoy_day), text(run.arrival_day), key(run.arrival_day)
        shared = (household_id, flow.agreement_id, flow.kind)
        rows = []
        for person in travellers:
            profile = profile_of(person.sex, key(person.birth), arrival_key)
            if rnd() < MISSING[profile]:
                rows.append((person.person_id, convoy, departed, "", "missing", *shared, profile, ""))
                self.incidents.record(
                    person.person_id, household_id, "enforced_disappearance", run.convoy_day, flow, None, profile,
                    "journey",
                )  # fmt: skip
                continue
            until = observe(person.person_id, household_id, profile, flow, run.arrival_day)
            rows.append((person.person_id, convoy, departed, arrival, "arrived", *shared, profile, text(until)))
            at_return[person.person_id] = profile == "military_age_man"
        self.files.movements.writerows(rows)
        self.counts["movements"] += len(rows)
        return any(row[4] == "arrived" for row in rows)

    def _followups(self, household_id: str, arrival_day: int) -> None:
        rnd, text = self.rnd, self.date_text
        rows = []
        for offset in FOLLOWUP_DAYS:
            scheduled = arrival_day + offset
            if scheduled + 7 > self.end_day:
                break
            outcome = FOLLOWUP_OUTCOMES[int(rnd() * len(FOLLOWUP_OUTCOMES))]
            contacted = "" if outcome == "not_reached" else text(scheduled + int(rnd() * 6))
            rows.append((household_id, text(scheduled), contacted, outcome, str(offset)))
            if outcome == "moved":
                break
        self.files.followups.writerows(rows)
        self.counts["followups"] += len(rows)
