"""Flows and site populations: one site's weekly population, departures by destination, waiting times.

Pure: no storage, no files. The inputs are counts grouped elsewhere (in SQL) by day, kind and place,
and by waiting days and destination, so the cost here is bounded by days x destinations, never by
the number of people.

Definitions (docs and tests rely on them):

- Weeks are ISO weeks, starting on Monday, labelled `2020-W01` (2019-12-30 falls in 2020-W01). The
  series runs from the week of the first non-zero count through the week of `as_of`; counts after
  `as_of` are left out (with a warning).
- The population is counted day by day: registered + arrived - departed - moved_out, and it never
  falls below zero: a day that would take it below zero leaves it at zero (more people left than the
  counts ever brought in, for example people who lived there before registration began), and the
  report says so once. A week's population is the one at the end of its last day.
- Waiting quantiles are exact over the integer days: the q-quantile is the smallest day d such that
  the share of people who waited d days or fewer is at least q (numpy's `inverted_cdf`, sometimes
  called the "lower" quantile; not numpy's method named `lower`, which interpolates by index).
- Every count of people that leaves this module obeys the house rule of `disclosure`: a count of 1
  to k-1 is published as null, zero is published. This is primary suppression only: a reader who
  subtracts published figures from a published total can narrow a withheld one down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from awda.errors import ValidationFailed
from awda.stats.disclosure import is_small

# `reached`: people of the site who arrived at their destination (it does not change the site's population).
KINDS = ("registered", "arrived", "departed", "moved_out", "reached")
_QUANTILES = (("p25", 25), ("median", 50), ("p75", 75), ("p90", 90))  # in percent: exact integer tests
_BIN_DAYS = 7
RECENT_WEEKS = 4

Counts = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DailyCount:
    """`n` persons of one `kind` on one day; `place` is the destination (departed, moved_out) or origin."""

    day: date
    kind: str
    place: str
    n: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValidationFailed("kind", f"must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.n < 0:
            raise ValidationFailed("n", f"must be >= 0 ({self.kind} on {self.day.isoformat()})")


@dataclass(frozen=True, slots=True)
class WaitCount:
    """`n` persons waited `days` days from declaring the wish to move to departing for `destination`."""

    days: int
    destination: str
    n: int

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValidationFailed("days", f"must be >= 0 (destination {self.destination!r})")
        if self.n < 0:
            raise ValidationFailed("n", f"must be >= 0 ({self.days} days, destination {self.destination!r})")


@dataclass(frozen=True, slots=True)
class FlowsInput:
    """Everything `site_flows` needs: the site, the report date, the counts and the threshold k."""

    site_code: str
    site_en: str
    site_ar: str
    as_of: date
    daily: Sequence[DailyCount]
    waits: Sequence[WaitCount]
    k: int

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValidationFailed("k", "must be at least 1")


@dataclass(frozen=True, slots=True)
class _Weeks:
    """The day grid of the report: from the Monday of the first week through `as_of`."""

    start: date
    days: int

    @classmethod
    def covering(cls, first: date, as_of: date) -> _Weeks:
        start = week_start(first)
        return cls(start, (as_of - start).days + 1)

    @property
    def count(self) -> int:
        return (self.days + 6) // 7

    def offsets(self, rows: Iterable[DailyCount]) -> Counts:
        return np.fromiter(((row.day - self.start).days for row in rows), dtype=np.int64)

    def monday(self, index: int) -> date:
        return self.start + timedelta(weeks=index)

    def weekly(self, daily: Counts) -> Counts:
        """Daily values summed per week (the last week may be cut short by `as_of`)."""
        padded = np.zeros(self.count * 7, dtype=np.int64)
        padded[: self.days] = daily
        summed: Counts = padded.reshape(-1, 7).sum(axis=1)
        return summed


def week_label(day: date) -> str:
    """The ISO week of `day`, as `2020-W01`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    """The Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def _shown(value: int, k: int) -> int | None:
    """A count as published: null when it is 1 to k-1 people."""
    return None if is_small(value, k) else value


def site_flows(data: FlowsInput) -> dict[str, Any]:
    """The site's report, JSON-ready (ISO dates as text, null for withheld counts); empty input is valid."""
    warnings: list[str] = []
    daily = _within(data, warnings)
    report: dict[str, Any] = {
        "site": {"code": data.site_code, "en": data.site_en, "ar": data.site_ar},
        "as_of": data.as_of.isoformat(),
        "k": data.k,
        "population": [],
        "peak": None,
        "latest": None,
        "last_weeks": None,
        "by_destination": [],
        "waiting_days": _waiting(data.waits, data.k),
        "totals": {kind: _shown(sum(row.n for row in daily if row.kind == kind), data.k) for kind in KINDS},
        "warnings": warnings,
    }
    if daily:
        weeks = _Weeks.covering(min(row.day for row in daily), data.as_of)
        report.update(_population(weeks, daily, data.k, warnings))
        movement = [row for row in daily if row.kind in ("departed", "reached")]
        report["by_destination"] = _by_destination(weeks, movement, data.k)
    return report


def _within(data: FlowsInput, warnings: list[str]) -> list[DailyCount]:
    """The non-zero counts up to `as_of`; counts after it are left out, with a warning."""
    later = [row for row in data.daily if row.day > data.as_of and row.n]
    if later:
        warnings.append(f"{len(later)} counts dated after {data.as_of.isoformat()} were left out")
    return [row for row in data.daily if row.day <= data.as_of and row.n]


def _daily_totals(weeks: _Weeks, rows: Sequence[DailyCount]) -> dict[str, Counts]:
    """Each kind's count on each day of the grid (rows repeating a day and kind add up)."""
    grid = np.zeros((len(KINDS), weeks.days), dtype=np.int64)
    kinds = np.fromiter((KINDS.index(row.kind) for row in rows), dtype=np.int64, count=len(rows))
    persons = np.fromiter((row.n for row in rows), dtype=np.int64, count=len(rows))
    np.add.at(grid, (kinds, weeks.offsets(rows)), persons)
    return {kind: grid[index] for index, kind in enumerate(KINDS)}


def _clamped_population(totals: dict[str, Counts]) -> tuple[Counts, int | None]:
    """The daily population held at zero or above, and the first day it had to be held (or None).

    With S the running sum of the daily changes, the held population is S minus the lowest value S
    has reached so far (when that is below zero): the same as max(0, yesterday + change) each day.
    """
    change = totals["registered"] + totals["arrived"] - totals["departed"] - totals["moved_out"]
    running = np.cumsum(change)
    floor = np.minimum.accumulate(np.minimum(running, 0))
    population: Counts = running - floor
    below = np.flatnonzero(floor < 0)
    return population, int(below[0]) if len(below) else None


def _population(weeks: _Weeks, rows: Sequence[DailyCount], k: int, warnings: list[str]) -> dict[str, Any]:
    """The weekly series with its peak, latest week and the last weeks' movements."""
    totals = _daily_totals(weeks, rows)
    population, first_clamped = _clamped_population(totals)
    if first_clamped is not None:
        day = weeks.start + timedelta(days=first_clamped)
        warnings.append(
            f"more people left than were counted in: the population would fall below zero in "
            f"{week_label(day)} and was held at zero"
        )
    week_ends = np.minimum(np.arange(weeks.count) * 7 + 6, weeks.days - 1)
    at_week_end = population[week_ends]
    weekly = {kind: weeks.weekly(totals[kind]) for kind in KINDS}
    series = [
        {
            "week": week_label(weeks.monday(index)),
            "week_start": weeks.monday(index).isoformat(),
            "population": _shown(int(at_week_end[index]), k),
            **{kind: _shown(int(weekly[kind][index]), k) for kind in KINDS},
        }
        for index in range(weeks.count)
    ]
    peak = int(np.argmax(at_week_end))
    recent = slice(max(weeks.count - RECENT_WEEKS, 0), weeks.count)
    return {
        "population": series,
        "peak": {"week": series[peak]["week"], "population": series[peak]["population"]},
        "latest": {"week": series[-1]["week"], "population": series[-1]["population"]},
        "last_weeks": {
            "weeks": recent.stop - recent.start,
            "from_week": series[recent.start]["week"],
            "to_week": series[-1]["week"],
            **{kind: _shown(int(weekly[kind][recent].sum()), k) for kind in KINDS},
        },
    }


def _by_destination(weeks: _Weeks, movement: Sequence[DailyCount], k: int) -> list[dict[str, Any]]:
    """Weekly departures and arrivals per destination, largest published departures first (withheld last, by code)."""
    if not movement:
        return []
    codes, destination_of = np.unique([row.place for row in movement], return_inverse=True)
    cells = np.zeros((2, len(codes), weeks.count), dtype=np.int64)
    kind_of = np.fromiter((0 if row.kind == "departed" else 1 for row in movement), dtype=np.int64)
    week_of = weeks.offsets(movement) // 7
    persons = np.fromiter((row.n for row in movement), dtype=np.int64)
    np.add.at(cells, (kind_of, destination_of.reshape(-1), week_of), persons)
    rows: list[dict[str, Any]] = []
    for index, code in enumerate(codes):
        departed, reached = cells[0, index], cells[1, index]
        rows.append(
            {
                "destination": str(code),
                "weeks": [
                    {
                        "week": week_label(weeks.monday(int(week))),
                        "week_start": weeks.monday(int(week)).isoformat(),
                        "departed": _shown(int(departed[week]), k),
                        "arrived": _shown(int(reached[week]), k),
                    }
                    for week in np.flatnonzero(departed + reached)
                ],
                "total": _shown(int(departed.sum()), k),
                "arrived_total": _shown(int(reached.sum()), k),
            }
        )
    # Sorting on published totals only: the order must not rank withheld totals against each other.
    rows.sort(key=lambda row: (-1 if row["total"] is None else -row["total"], row["destination"]))
    return rows


def _waiting(waits: Sequence[WaitCount], k: int) -> dict[str, Any]:
    """Waiting days overall and per destination (largest published n first, withheld ones last by code)."""
    counted = [wait for wait in waits if wait.n]
    destinations = sorted({wait.destination for wait in counted})
    per_destination = [
        {"destination": code, **_wait_summary([wait for wait in counted if wait.destination == code], k)}
        for code in destinations
    ]
    per_destination.sort(key=lambda row: (-1 if row["n"] is None else -row["n"], row["destination"]))
    return {"overall": _wait_summary(counted, k), "by_destination": per_destination}


def _wait_summary(waits: Sequence[WaitCount], k: int) -> dict[str, Any]:
    """n, mean, quantiles, max and a 7-day histogram of one group; only a marker when it is 1 to k-1 people."""
    days = np.fromiter((wait.days for wait in waits), dtype=np.int64, count=len(waits))
    persons = np.fromiter((wait.n for wait in waits), dtype=np.int64, count=len(waits))
    total = int(persons.sum())
    if is_small(total, k):
        return {"n": None, "suppressed": True}
    if total == 0:
        empty: dict[str, Any] = dict.fromkeys(("mean", *(name for name, _ in _QUANTILES), "max"))
        return {"n": 0, **empty, "histogram": [], "suppressed": False}
    values, position = np.unique(days, return_inverse=True)
    weights = np.zeros(len(values), dtype=np.int64)
    np.add.at(weights, position.reshape(-1), persons)
    cumulative = np.cumsum(weights)
    summary: dict[str, Any] = {"n": total, "mean": float((values * weights).sum() / total)}
    for name, percent in _QUANTILES:
        # the first day whose cumulative count reaches percent/100 of the total, in integers
        summary[name] = int(values[np.searchsorted(cumulative * 100, percent * total, side="left")])
    summary["max"] = int(values[-1])
    bins = np.bincount(values // _BIN_DAYS, weights=weights).astype(np.int64)
    summary["histogram"] = [
        {"from": index * _BIN_DAYS, "to": index * _BIN_DAYS + _BIN_DAYS - 1, "n": _shown(int(count), k)}
        for index, count in enumerate(bins)
    ]
    summary["suppressed"] = False
    return summary


def _figure(value: int | None, k: int) -> str:
    return f"fewer than {k}" if value is None else f"{value:,}"


def flows_text(report: dict[str, Any]) -> str:
    """A few lines for the terminal: site, peak, latest, recent departures and the median wait."""
    k = report["k"]
    site = report["site"]
    lines = [f"{site['en']} ({site['ar']}) [{site['code']}], as of {report['as_of']}"]
    if report["peak"] is None:
        lines.append("No counts for this site.")
    else:
        peak, latest, recent = report["peak"], report["latest"], report["last_weeks"]
        lines.append(f"Population: peak {_figure(peak['population'], k)} in {peak['week']}")
        lines.append(f"Population: latest {_figure(latest['population'], k)} in {latest['week']}")
        lines.append(
            f"Departures in the last {recent['weeks']} weeks ({recent['from_week']} to {recent['to_week']}): "
            f"{_figure(recent['departed'], k)}; moved out without a departure record: "
            f"{_figure(recent['moved_out'], k)}"
        )
    overall = report["waiting_days"]["overall"]
    if overall["suppressed"]:
        lines.append(f"Waiting: fewer than {k} people, not published")
    elif overall["n"]:
        lines.append(f"Median wait: {overall['median']} days ({overall['n']:,} people)")
    lines.extend(f"Warning: {warning}" for warning in report["warnings"])
    return "\n".join(lines)
