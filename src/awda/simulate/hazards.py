"""Incidents: drawn from the cohorts' piecewise-constant hazards, or caused by a journey."""

from __future__ import annotations

import random
from dataclasses import dataclass
from math import log

from awda.simulate.agreements import (
    AGREEMENTS,
    COHORTS,
    DAYS_PER_YEAR,
    GOVERNMENT_SIDE,
    MILITARY_AGE,
    OPPOSITION_SIDE,
    PROFILES,
    TERMINAL_TYPES,
    Agreement,
    breached_term,
    cohort_rates,
)
from awda.simulate.dates import DateText
from awda.simulate.places import Flow
from awda.simulate.writer import RowWriter

VERIFICATION = ("reported",) * 5 + ("credible",) * 3 + ("verified",) * 2


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, stop)`` days after arrival with a constant total rate per day."""

    start: int
    stop: float
    rate_per_day: float
    cumulative: tuple[tuple[float, str], ...]  # (running sum of rates per day, type)


def profile_of(sex: str, birth_key: int, day_key: int) -> str:
    """Hazard profile on a day (keys are ``yyyymmdd`` ints): military-age man (18-42), adult, or child."""
    age = (day_key - birth_key) // 10000
    if age < 18:
        return "child"
    if sex == "male" and MILITARY_AGE[0] <= age <= MILITARY_AGE[1]:
        return "military_age_man"
    return "adult"


def _periods(agreement_id: str, kind: str, profile: str) -> tuple[Period, ...]:
    periods = []
    for start, stop, rates in cohort_rates(agreement_id, kind, profile):
        running, cumulative = 0.0, []
        for incident_type, rate in sorted(rates.items()):
            running += rate / DAYS_PER_YEAR
            cumulative.append((running, incident_type))
        periods.append(Period(start, float("inf") if stop is None else float(stop), running, tuple(cumulative)))
    return tuple(periods)


class IncidentLog:
    """Writes incidents with perpetrator category, breached term and verification level."""

    def __init__(self, rng: random.Random, writer: RowWriter, date_text: DateText) -> None:
        self.rnd = rng.random
        self.writer = writer
        self.date_text = date_text
        self.agreements: dict[str, Agreement] = {a.agreement_id: a for a in AGREEMENTS}
        self.count = 0
        self.by_type: dict[str, int] = {}
        self._household = ""
        self._in_household = 0  # incident ids count within a household: chunks need no shared counter

    def record(
        self,
        person_id: str,
        household_id: str,
        incident_type: str,
        day: int,
        flow: Flow,
        arrived_on: int | None,
        profile: str,
        process: str,
    ) -> None:
        """Write one incident of ``person_id`` on ordinal ``day`` (``process``: hazard|journey)."""
        rnd = self.rnd
        self.count += 1
        if household_id != self._household:
            self._household, self._in_household = household_id, 0
        self._in_household += 1
        self.by_type[incident_type] = self.by_type.get(incident_type, 0) + 1
        side = OPPOSITION_SIDE if flow.kind == "evacuate" else GOVERNMENT_SIDE
        perpetrators = side.get(incident_type, ("unknown",))
        since = day - (arrived_on if arrived_on is not None else day)
        agreement = self.agreements.get(flow.agreement_id)
        term = "" if agreement is None else breached_term(agreement, incident_type, since, flow.kind, profile)
        self.writer.writerow(
            (
                f"I{household_id[1:]}-{self._in_household:02d}",
                person_id,
                incident_type,
                self.date_text(day),
                flow.destination_pcode,
                perpetrators[int(rnd() * len(perpetrators))],
                flow.agreement_id,
                term,
                VERIFICATION[int(rnd() * len(VERIFICATION))],
                household_id,
                "" if arrived_on is None else str(since),
                process,
            )
        )


class HazardModel:
    """Samples each returned person's incidents as a piecewise-constant Poisson process."""

    def __init__(self, rng: random.Random, log: IncidentLog, end_day: int) -> None:
        self.rnd = rng.random
        self.log = log
        self.end_day = end_day
        self.tables = {(a, k, p): _periods(a, k, p) for a, k in COHORTS for p in PROFILES}

    def observe(self, person_id: str, household_id: str, profile: str, flow: Flow, arrived_on: int) -> int:
        """Draw incidents from ``arrived_on`` to the scenario end; return the last observed day.

        Observation stops at the first terminal incident (killing, enforced disappearance,
        conscription); otherwise at the scenario end (censoring).
        """
        periods = self.tables.get((flow.agreement_id, flow.kind, profile))
        if periods is None:
            return self.end_day
        horizon = float(self.end_day - arrived_on)
        rnd = self.rnd
        for period in periods:
            if period.rate_per_day <= 0.0:
                continue
            t = float(period.start)
            stop = min(period.stop, horizon)
            while t < stop:
                t -= log(1.0 - rnd()) / period.rate_per_day  # exponential waiting time
                if t >= stop:
                    break
                incident_type = self._pick(period)
                day = arrived_on + int(t)
                self.log.record(person_id, household_id, incident_type, day, flow, arrived_on, profile, "hazard")
                if incident_type in TERMINAL_TYPES:
                    return day
        return self.end_day

    def _pick(self, period: Period) -> str:
        target = self.rnd() * period.rate_per_day
        for running, incident_type in period.cumulative:
            if target < running:
                return incident_type
        return period.cumulative[-1][1]
