"""What the scorecard publishes: the cohorts' facts after disclosure control, as plain values.

`publish(facts)` turns every count into an `Item`, every relation a reader could use between
counts into an `Equation` (within a cohort, along a curve's at-risk counts, and from a guarantor to
its agreements), runs `disclosure.protect`, and keeps only what may be shown. The HTML, CSV and
JSON writers render this one `Publication`, so they cannot disagree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from awda.errors import ValidationFailed
from awda.stats.disclosure import (
    Equation,
    Item,
    ItemId,
    Protection,
    at_risk_on,
    last_publishable_day,
    protect,
    value_on,
)
from awda.stats.plots import StepSeries
from awda.stats.report import CohortFacts, Curve, HazardStep, Incidence, ScorecardInput
from awda.stats.scorecard_text import INCIDENT_ORDER

GRID_DAYS = (30, 90, 180, 365)  # the days whose estimates are printed in tables and the CSV
PLOT_STEP_DAYS = 7  # curves are drawn in weekly steps, so no single day can be read from them
FOLLOWUP_FIELDS = ("reached", "not_reached", "moved", "refused", "overdue")
KINDS = ("agreement", "guarantor")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DECIMALS = 4
# Counts that can never exceed the cohort's number of people (follow-ups and incident totals can).
PER_PERSON = frozenset({"people", "households", "arrivals", "incidents", "at_risk", "left"})

Count = int | None  # None: withheld by disclosure control


@dataclass(frozen=True)
class SurvivalPoint:
    day: int
    survival: float
    ci_lower: float
    ci_upper: float
    at_risk: Count


@dataclass(frozen=True)
class IncidencePoint:
    day: int
    estimate: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class PublishedSurvival:
    cut_day: int  # the last day with at least k people at risk
    grid: tuple[SurvivalPoint, ...]
    steps: StepSeries


@dataclass(frozen=True)
class PublishedIncidence:
    cause: str
    grid: tuple[IncidencePoint, ...]
    steps: StepSeries


@dataclass(frozen=True)
class IncidentTable:
    types: tuple[str, ...]
    months: tuple[str, ...]
    counts: tuple[tuple[Count, ...], ...]  # counts[month][type]
    type_totals: tuple[Count, ...]


@dataclass(frozen=True)
class FollowUps:
    due: Count
    reached: Count
    not_reached: Count
    moved: Count
    refused: Count
    overdue: Count


@dataclass(frozen=True)
class PublishedCohort:
    kind: str
    key: str
    slug: str  # file names of its pages and plots
    title_en: str
    title_ar: str
    terms: tuple[str, ...]
    agreements: tuple[str, ...]
    suppressed: bool  # fewer than k people: only its existence is published
    people: Count = None
    households: Count = None
    arrivals: tuple[tuple[str, Count], ...] = ()
    incidents: IncidentTable | None = None
    followups: FollowUps | None = None
    survival: PublishedSurvival | None = None
    incidence: tuple[PublishedIncidence, ...] = ()
    hazard_steps: tuple[HazardStep, ...] = ()
    hazard_step_p_value: float | None = None


@dataclass(frozen=True)
class Publication:
    generated_on: str
    k: int
    serious_types: tuple[str, ...]
    min_verification: str
    cohorts: tuple[PublishedCohort, ...]
    protection: Protection


class _Shown(Protocol):
    """A cohort's `shown(*position)`: the count, or None when withheld."""

    def __call__(self, *position: str) -> Count: ...


@dataclass
class _Layout:
    """One cohort's counts, in the order the tables show them."""

    facts: CohortFacts
    arrival_months: tuple[str, ...]
    incident_months: tuple[str, ...]
    incident_types: tuple[str, ...]
    k: int
    items: list[Item] = field(default_factory=list)
    equations: list[Equation] = field(default_factory=list)
    values: dict[ItemId, int] = field(default_factory=dict)

    def item_id(self, *position: str) -> ItemId:
        return (self.facts.kind, self.facts.key, *position)

    def value(self, *position: str) -> int:
        return self.values[self.item_id(*position)]

    def add(
        self,
        position: tuple[str, ...],
        value: int,
        *,
        published: bool = True,
        protected: bool = False,
        past_cut: bool = False,
    ) -> None:
        # A reader knows that a count of people in a cohort listed as small is below k, and so is every
        # count past the point where a curve was cut (fewer than k people were left to count).
        of_people = position[0] in PER_PERSON or position == ("rest", "people")
        known_small = (self.facts.people < self.k and of_people) or past_cut
        upper = self.k - 1 if known_small else None
        item = Item(self.item_id(*position), value, published=published, protected=protected, upper=upper)
        self.items.append(item)
        self.values[item.id] = value

    def relate(self, total: tuple[str, ...], parts: Iterable[tuple[str, ...]]) -> None:
        self.equations.append(Equation(self.item_id(*total), tuple(self.item_id(*part) for part in parts)))


def publish(facts: ScorecardInput) -> Publication:
    """Apply disclosure control to every cohort (see docs/scorecard.md for the rules)."""
    check_input(facts)
    layouts = [_layout(cohort, facts) for cohort in facts.cohorts]
    items = [item for layout in layouts for item in layout.items]
    equations = [equation for layout in layouts for equation in layout.equations]
    remainders, between = _guarantor_equations(layouts)
    items.extend(remainders)
    equations.extend(between)
    small = [layout for layout in layouts if layout.facts.people < facts.k]
    withhold = [item.id for layout in small for item in layout.items]
    protection = protect(items, equations, facts.k, withhold=withhold)
    slugs = _slugs(facts.cohorts)
    cohorts = tuple(_published(layout, slugs[position], protection, facts.k) for position, layout in enumerate(layouts))
    return Publication(
        generated_on=facts.generated_on,
        k=facts.k,
        serious_types=facts.serious_types,
        min_verification=facts.min_verification,
        cohorts=cohorts,
        protection=protection,
    )


def check_input(facts: ScorecardInput) -> None:
    """Refuse facts that cannot be true, naming the cohort and the field."""
    if facts.k < 1:
        raise ValidationFailed("k", "must be at least 1")
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", facts.generated_on):
        raise ValidationFailed("generated_on", "use an ISO date (YYYY-MM-DD)")
    seen: set[tuple[str, str]] = set()
    for position, cohort in enumerate(facts.cohorts):
        where = f"cohorts[{position}]"
        if cohort.kind not in KINDS:
            raise ValidationFailed(f"{where}.kind", f"use one of {', '.join(KINDS)}")
        if (cohort.kind, cohort.key) in seen:
            raise ValidationFailed(f"{where}.key", f"{cohort.kind} {cohort.key!r} appears twice")
        seen.add((cohort.kind, cohort.key))
        _check_counts(cohort, where)
        if cohort.survival is not None:
            _check_curve(cohort.survival, f"{where}.survival")
        for number, incidence in enumerate(cohort.incidence):
            columns = (incidence.estimate, incidence.ci_lower, incidence.ci_upper)
            if any(len(column) != len(incidence.time) for column in columns):
                raise ValidationFailed(f"{where}.incidence[{number}]", "every column must have one value per time")


def _check_counts(cohort: CohortFacts, where: str) -> None:
    counts = {"people": cohort.people, "households": cohort.households, **vars(cohort.followups)}
    counts.update({f"arrivals_by_month[{month}]": value for month, value in cohort.arrivals_by_month.items()})
    for (kind, month), value in cohort.incidents_by_type_month.items():
        counts[f"incidents_by_type_month[{kind}, {month}]"] = value
    for name, value in counts.items():
        if not isinstance(value, int) or value < 0:
            raise ValidationFailed(f"{where}.{name}", "must be a whole number, zero or more")
    months = [*cohort.arrivals_by_month, *(month for _, month in cohort.incidents_by_type_month)]
    for month in months:
        if not MONTH.match(month):
            raise ValidationFailed(f"{where}.months", f"{month!r} is not a month (YYYY-MM)")
    if sum(cohort.arrivals_by_month.values()) > cohort.people:
        raise ValidationFailed(f"{where}.arrivals_by_month", "adds up to more than people")
    outcomes = sum(getattr(cohort.followups, name) for name in FOLLOWUP_FIELDS)
    if outcomes > cohort.followups.due:
        raise ValidationFailed(f"{where}.followups", "outcomes add up to more than due")


def _check_curve(curve: Curve, where: str) -> None:
    columns = (curve.at_risk, curve.events, curve.censored, curve.survival, curve.ci_lower, curve.ci_upper)
    if any(len(column) != len(curve.time) for column in columns):
        raise ValidationFailed(where, "every column must have one value per time")
    if any(later <= earlier for earlier, later in zip(curve.time, curve.time[1:], strict=False)):
        raise ValidationFailed(f"{where}.time", "times must increase")
    if any(time < 0 for time in curve.time) or any(count < 0 for count in curve.at_risk):
        raise ValidationFailed(where, "times and counts must not be negative")
    if any(later > earlier for earlier, later in zip(curve.at_risk, curve.at_risk[1:], strict=False)):
        raise ValidationFailed(f"{where}.at_risk", "the number at risk cannot grow")


def _month_range(first: str, last: str) -> tuple[str, ...]:
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


Extent = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _extent(cohorts: Iterable[CohortFacts], facts: ScorecardInput) -> Extent:
    """The months of arrivals, the months and the types of incidents that tables of these cohorts show."""
    cohorts = list(cohorts)
    arrived = sorted({month for c in cohorts for month, value in c.arrivals_by_month.items() if value > 0})
    arrival_months = _month_range(arrived[0], arrived[-1]) if arrived else ()
    incident_keys = [key for c in cohorts for key, value in c.incidents_by_type_month.items() if value > 0]
    known = [*arrived, *(month for _, month in incident_keys)]
    incident_months = _month_range(min(known), max([*known, facts.generated_on[:7]])) if known else ()
    present = {kind for kind, _ in incident_keys} | set(facts.serious_types)
    ordered = [kind for kind in INCIDENT_ORDER if kind in present]
    return arrival_months, incident_months, tuple(ordered + sorted(present - set(ordered)))


def _layout(cohort: CohortFacts, facts: ScorecardInput) -> _Layout:
    # A small cohort's tables are not published, so a reader cannot know which months or types they
    # lack: its counts span those of every cohort.
    small = cohort.people < facts.k
    arrival_months, incident_months, types = _extent(facts.cohorts if small else [cohort], facts)
    layout = _Layout(cohort, arrival_months, incident_months, types, facts.k)
    _add_counts(layout)
    if cohort.survival is not None:
        _add_at_risk(layout, cohort.survival, facts.k)
    return layout


def _add_counts(layout: _Layout) -> None:
    cohort = layout.facts
    layout.add(("people",), cohort.people, protected=True)
    layout.add(("households",), cohort.households, protected=True)
    _add_sum(
        layout,
        ("people",),
        [(("arrivals", month), cohort.arrivals_by_month.get(month, 0)) for month in layout.arrival_months],
    )
    for kind in layout.incident_types:
        cells = [
            (("incidents", kind, month), cohort.incidents_by_type_month.get((kind, month), 0))
            for month in layout.incident_months
        ]
        layout.add(("incidents_total", kind), sum(value for _, value in cells))
        _add_sum(layout, ("incidents_total", kind), cells)
    layout.add(("followups", "due"), cohort.followups.due)
    parts = [(("followups", name), getattr(cohort.followups, name)) for name in FOLLOWUP_FIELDS]
    _add_sum(layout, ("followups", "due"), parts)


def _add_sum(layout: _Layout, total: tuple[str, ...], parts: Sequence[tuple[tuple[str, ...], int]]) -> None:
    """Add the parts of an existing total, and a hidden remainder when they fall short of it."""
    for position, value in parts:
        layout.add(position, value)
    rest = layout.value(*total) - sum(value for _, value in parts)
    positions = [position for position, _ in parts]
    if rest > 0:
        layout.add(("rest", *total), rest, published=False)
        positions.append(("rest", *total))
    layout.relate(total, positions)


def _add_at_risk(layout: _Layout, curve: Curve, k: int) -> None:
    """The people at risk on each grid day, tied together by the hidden numbers who left in between."""
    start = at_risk_on(curve, 0)
    previous: tuple[str, ...] = ("people",)
    if start != layout.facts.people:
        layout.add(("at_risk", "0"), start, published=False)
        if start < layout.facts.people:
            layout.add(("left", "0"), layout.facts.people - start, published=False)
            layout.relate(("people",), [("left", "0"), ("at_risk", "0")])
        previous = ("at_risk", "0")
    previous_value = start
    for day in GRID_DAYS:
        value = at_risk_on(curve, day)
        layout.add(("at_risk", str(day)), value, published=value >= k, past_cut=value < k)
        after_cut = previous[0] == "at_risk" and previous[1] != "0" and previous_value < k
        layout.add(("left", str(day)), previous_value - value, published=False, past_cut=after_cut)
        layout.relate(previous, [("left", str(day)), ("at_risk", str(day))])
        previous, previous_value = ("at_risk", str(day)), value


def _guarantor_equations(layouts: list[_Layout]) -> tuple[list[Item], list[Equation]]:
    """A guarantor's counts are the sums of its agreements' counts, which a reader can subtract.

    Returns the equations and the hidden items they need: the remainder from agreements not in the
    scorecard, and the zeros of small agreements (whose tables, unpublished, do not show a reader
    which months or types they lack).
    """
    values = {item_id: value for layout in layouts for item_id, value in layout.values.items()}
    small = {layout.facts.key: layout.k - 1 for layout in layouts if layout.facts.people < layout.k}
    hidden: list[Item] = []
    equations: list[Equation] = []
    for layout in layouts:
        if layout.facts.kind != "guarantor" or not layout.facts.agreements:
            continue
        for item in list(layout.items):
            position = item.id[2:]
            if position[0] in {"left", "rest", "incidents_total"} or position == ("at_risk", "0"):
                continue
            parts: list[ItemId] = []
            for code in layout.facts.agreements:
                part = ("agreement", code, *position)
                if part not in values and code in small:
                    upper = small[code] if position[0] in PER_PERSON else None
                    hidden.append(Item(part, 0, published=False, upper=upper))
                    values[part] = 0
                if part in values:
                    parts.append(part)
            rest = item.value - sum(values[part] for part in parts)
            if rest < 0:
                continue  # not a sum of its agreements here: a reader cannot subtract
            if rest > 0:
                rest_id = (*item.id[:2], "rest", "agreements", *position)
                hidden.append(Item(rest_id, rest, published=False))
                parts.append(rest_id)
            equations.append(Equation(item.id, tuple(parts)))
    return hidden, equations


def _slugs(cohorts: tuple[CohortFacts, ...]) -> list[str]:
    """File-name stems: the key where it is plain ASCII and unique, else with a short hash of it."""
    slugs: list[str] = []
    used: set[str] = set()
    for cohort in cohorts:
        plain = re.sub(r"[^A-Za-z0-9._-]+", "-", cohort.key).strip("-.")
        slug = f"{cohort.kind}-{plain}"
        if plain != cohort.key or slug.lower() in used:
            slug = f"{slug}-{hashlib.sha256(cohort.key.encode()).hexdigest()[:8]}".replace("--", "-")
        used.add(slug.lower())
        slugs.append(slug)
    return slugs


def _published(layout: _Layout, slug: str, protection: Protection, k: int) -> PublishedCohort:
    cohort = layout.facts
    base = PublishedCohort(
        kind=cohort.kind,
        key=cohort.key,
        slug=slug,
        title_en=cohort.title_en,
        title_ar=cohort.title_ar,
        terms=cohort.terms,
        agreements=cohort.agreements,
        suppressed=cohort.people < k,
    )
    if base.suppressed:
        return base

    def shown(*position: str) -> Count:
        return layout.value(*position) if protection.shows(layout.item_id(*position)) else None

    survival = _survival(cohort.survival, k, shown) if cohort.survival else None
    cut = survival.cut_day if survival else None
    return replace(
        base,
        people=shown("people"),
        households=shown("households"),
        arrivals=tuple((month, shown("arrivals", month)) for month in layout.arrival_months),
        incidents=_incident_table(layout, shown) if layout.incident_months else None,
        followups=FollowUps(**{name: shown("followups", name) for name in ("due", *FOLLOWUP_FIELDS)}),
        survival=survival,
        incidence=tuple(_incidence(one, cut) for one in cohort.incidence) if cut is not None else (),
        hazard_steps=tuple(
            HazardStep(step.day, _round(step.hazard_before), _round(step.hazard_after))
            for step in cohort.hazard_steps
            if cut is not None and step.day <= cut
        ),
        hazard_step_p_value=_p_value(cohort, cut),
    )


def _incident_table(layout: _Layout, shown: _Shown) -> IncidentTable:
    return IncidentTable(
        types=layout.incident_types,
        months=layout.incident_months,
        counts=tuple(
            tuple(shown("incidents", kind, month) for kind in layout.incident_types) for month in layout.incident_months
        ),
        type_totals=tuple(shown("incidents_total", kind) for kind in layout.incident_types),
    )


def _survival(curve: Curve, k: int, shown: _Shown) -> PublishedSurvival | None:
    cut = last_publishable_day(curve, k)
    if cut is None:
        return None
    grid = tuple(
        SurvivalPoint(
            day=day,
            survival=_round(value_on(curve.time, curve.survival, day, 1.0)),
            ci_lower=_round(value_on(curve.time, curve.ci_lower, day, 1.0)),
            ci_upper=_round(value_on(curve.time, curve.ci_upper, day, 1.0)),
            at_risk=shown("at_risk", str(day)),
        )
        for day in GRID_DAYS
        if day <= cut
    )
    steps = _steps(curve.time, (curve.survival, curve.ci_lower, curve.ci_upper), cut, 1.0)
    return PublishedSurvival(cut_day=cut, grid=grid, steps=steps)


def _incidence(incidence: Incidence, cut: int) -> PublishedIncidence:
    columns = (incidence.estimate, incidence.ci_lower, incidence.ci_upper)
    grid = tuple(
        IncidencePoint(day, *(_round(value_on(incidence.time, column, day, 0.0)) for column in columns))
        for day in GRID_DAYS
        if day <= cut
    )
    return PublishedIncidence(incidence.cause, grid, _steps(incidence.time, columns, cut, 0.0))


def _steps(times: tuple[int, ...], columns: tuple[tuple[float, ...], ...], cut: int, start: float) -> StepSeries:
    days = tuple(range(0, cut + 1, PLOT_STEP_DAYS))
    estimate, lower, upper = (tuple(_round(value_on(times, column, day, start)) for day in days) for column in columns)
    return StepSeries(day=days, estimate=estimate, ci_lower=lower, ci_upper=upper)


def _p_value(cohort: CohortFacts, cut: int | None) -> float | None:
    published = cut is not None and any(step.day <= cut for step in cohort.hazard_steps)
    if not published or cohort.hazard_step_p_value is None:
        return None
    return _round(cohort.hazard_step_p_value)


def _round(value: float) -> float:
    return round(float(value), DECIMALS)
