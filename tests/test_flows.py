"""Site flows from daily counts: weekly population, departures by destination, waiting times."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from awda.errors import ValidationFailed
from awda.stats.flows import (
    DailyCount,
    FlowsInput,
    WaitCount,
    flows_text,
    site_flows,
    week_label,
    week_start,
)

MONDAY = date(2019, 1, 14)  # 2019-W03


def flows_input(
    daily: list[DailyCount], waits: list[WaitCount] | None = None, as_of: date | None = None, k: int = 10
) -> FlowsInput:
    last = max((row.day for row in daily), default=MONDAY)
    return FlowsInput("SY0000", "Rukban", "الركبان", as_of or last, daily, waits or [], k)


def populations(report: dict[str, object]) -> list[int | None]:
    series = report["population"]
    assert isinstance(series, list)
    return [week["population"] for week in series]


def test_population_is_the_running_balance_at_the_end_of_each_week() -> None:
    daily = [
        DailyCount(MONDAY + timedelta(days=2), "registered", "", 60),
        DailyCount(MONDAY + timedelta(days=6), "registered", "", 40),  # Sunday: still week 1
        DailyCount(MONDAY + timedelta(weeks=2, days=1), "departed", "SY0101", 30),
        DailyCount(MONDAY + timedelta(weeks=3), "arrived", "", 5),
    ]
    report = site_flows(flows_input(daily, as_of=MONDAY + timedelta(weeks=3, days=3)))
    assert populations(report) == [100, 100, 70, 75]
    first, _, third, fourth = report["population"]
    assert first == {
        "week": "2019-W03",
        "week_start": "2019-01-14",
        "population": 100,
        "registered": 100,
        "arrived": 0,
        "departed": 0,
        "moved_out": 0,
        "reached": 0,
    }
    assert third["departed"] == 30
    assert fourth["arrived"] is None  # 5 people: fewer than k
    assert report["peak"] == {"week": "2019-W03", "population": 100}  # the first week of the highest value
    assert report["latest"] == {"week": "2019-W06", "population": 75}
    assert report["totals"] == {"registered": 100, "arrived": None, "departed": 30, "moved_out": 0, "reached": 0}
    assert report["warnings"] == []


def test_moved_out_lowers_the_population_but_is_no_departure() -> None:
    daily = [
        DailyCount(MONDAY, "registered", "", 50),
        DailyCount(MONDAY + timedelta(weeks=1), "moved_out", "SY0101", 12),
        DailyCount(MONDAY + timedelta(weeks=1), "departed", "SY0101", 20),
    ]
    report = site_flows(flows_input(daily))
    assert populations(report) == [50, 18]
    assert report["population"][1]["moved_out"] == 12
    assert report["totals"]["moved_out"] == 12
    (destination,) = report["by_destination"]
    assert destination["total"] == 20


def test_iso_weeks_across_a_year_end() -> None:
    assert week_label(date(2019, 12, 30)) == "2020-W01"
    assert week_label(date(2019, 12, 29)) == "2019-W52"
    assert week_label(date(2021, 1, 3)) == "2020-W53"
    assert week_start(date(2020, 1, 1)) == date(2019, 12, 30)
    daily = [
        DailyCount(date(2019, 12, 29), "registered", "", 10),
        DailyCount(date(2019, 12, 30), "registered", "", 20),
        DailyCount(date(2020, 1, 5), "registered", "", 30),
        DailyCount(date(2020, 1, 6), "registered", "", 40),
    ]
    report = site_flows(flows_input(daily, k=1))
    assert [(week["week"], week["week_start"], week["registered"]) for week in report["population"]] == [
        ("2019-W52", "2019-12-23", 10),
        ("2020-W01", "2019-12-30", 50),
        ("2020-W02", "2020-01-06", 40),
    ]
    assert populations(report) == [10, 60, 100]


def test_series_runs_through_the_week_of_as_of_and_leaves_later_counts_out() -> None:
    daily = [
        DailyCount(MONDAY, "registered", "", 30),
        DailyCount(MONDAY + timedelta(weeks=9), "departed", "SY0101", 20),
    ]
    report = site_flows(flows_input(daily, as_of=MONDAY + timedelta(weeks=2, days=6)))
    assert populations(report) == [30, 30, 30]
    assert report["latest"] == {"week": "2019-W05", "population": 30}
    assert report["totals"]["departed"] == 0
    assert report["warnings"] == ["1 counts dated after 2019-02-03 were left out"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_waiting_quantiles_match_numpy_on_the_expanded_people(seed: int) -> None:
    rng = np.random.default_rng(seed)
    waits = [
        WaitCount(int(days), destination, int(n))
        for destination in ("SY01", "SY02", "SY03")
        for days, n in zip(rng.choice(400, 60, replace=False), rng.integers(0, 25, 60), strict=True)
    ]
    report = site_flows(flows_input([], waits, k=1))
    groups = {"overall": report["waiting_days"]["overall"]}
    groups |= {row["destination"]: row for row in report["waiting_days"]["by_destination"]}
    assert len(groups) == 4
    for name, summary in groups.items():
        chosen = [wait for wait in waits if name in ("overall", wait.destination)]
        people = np.repeat([wait.days for wait in chosen], [wait.n for wait in chosen])
        assert summary["n"] == len(people)
        assert summary["mean"] == pytest.approx(people.mean())
        assert summary["max"] == people.max()
        for key, share in (("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9)):
            assert summary[key] == np.quantile(people, share, method="inverted_cdf"), (name, key)
        histogram = np.bincount(people // 7)
        assert [row["n"] for row in summary["histogram"]] == histogram.tolist()
        assert summary["histogram"][1] == {"from": 7, "to": 13, "n": int(histogram[1])}


def test_quantile_is_the_smallest_day_reaching_the_share() -> None:
    # 10 people: 2 waited 3 days, 3 waited 5, 5 waited 40. The cumulative share reaches 0.5 at 5 days exactly.
    waits = [WaitCount(3, "SY01", 2), WaitCount(5, "SY01", 3), WaitCount(40, "SY01", 5)]
    overall = site_flows(flows_input([], waits, k=1))["waiting_days"]["overall"]
    assert (overall["p25"], overall["median"], overall["p75"], overall["p90"], overall["max"]) == (5, 5, 40, 40, 40)
    assert overall["mean"] == pytest.approx((6 + 15 + 200) / 10)


def test_small_weekly_cells_and_small_destinations_are_withheld() -> None:
    daily = [
        DailyCount(MONDAY, "registered", "", 500),
        DailyCount(MONDAY + timedelta(days=1), "departed", "SY_BIG", 40),
        DailyCount(MONDAY + timedelta(days=2), "departed", "SY_BIG", 5),  # same week: 45
        DailyCount(MONDAY + timedelta(weeks=1), "departed", "SY_BIG", 3),
        DailyCount(MONDAY + timedelta(weeks=1), "departed", "SY_MID", 4),
        DailyCount(MONDAY + timedelta(weeks=2), "departed", "SY_MID", 8),
        DailyCount(MONDAY + timedelta(weeks=1), "departed", "SY_TINY", 9),
        DailyCount(MONDAY + timedelta(weeks=1), "departed", "SY_AAA", 2),
    ]
    report = site_flows(flows_input(daily, k=10))
    assert [row["destination"] for row in report["by_destination"]] == ["SY_BIG", "SY_MID", "SY_AAA", "SY_TINY"]
    big, mid, aaa, tiny = report["by_destination"]
    assert big["total"] == 48
    assert [(week["week"], week["departed"]) for week in big["weeks"]] == [("2019-W03", 45), ("2019-W04", None)]
    assert mid["total"] == 12
    assert [week["departed"] for week in mid["weeks"]] == [None, None]
    assert tiny["total"] is None
    assert aaa["total"] is None
    assert report["population"][1]["departed"] == 18
    # with k = 3 the same cells are published
    relaxed = site_flows(flows_input(daily, k=3))
    assert [week["departed"] for week in relaxed["by_destination"][0]["weeks"]] == [45, 3]


def test_small_waiting_groups_and_bins_are_withheld() -> None:
    waits = [
        WaitCount(2, "SY01", 20),
        WaitCount(9, "SY01", 4),
        WaitCount(30, "SY01", 11),
        WaitCount(12, "SY02", 6),
        WaitCount(3, "SY03", 0),  # nobody: no destination row
    ]
    waiting = site_flows(flows_input([], waits, k=10))["waiting_days"]
    first, second = waiting["by_destination"]
    assert first["destination"] == "SY01"
    assert first["n"] == 35
    assert [row["n"] for row in first["histogram"]] == [20, None, 0, 0, 11]
    assert second == {"destination": "SY02", "n": None, "suppressed": True}
    overall = waiting["overall"]
    assert overall["n"] == 41
    assert [row["n"] for row in overall["histogram"]] == [20, 10, 0, 0, 11]
    only_small = site_flows(flows_input([], [WaitCount(5, "SY01", 9)], k=10))["waiting_days"]
    assert only_small["overall"] == {"n": None, "suppressed": True}


def test_more_leaving_than_arriving_is_held_at_zero_with_one_warning() -> None:
    daily = [
        DailyCount(MONDAY, "registered", "", 10),
        DailyCount(MONDAY + timedelta(weeks=1), "departed", "SY01", 30),
        DailyCount(MONDAY + timedelta(weeks=2), "registered", "", 20),
        DailyCount(MONDAY + timedelta(weeks=3), "departed", "SY01", 5),
        DailyCount(MONDAY + timedelta(weeks=4), "moved_out", "SY01", 50),
        DailyCount(MONDAY + timedelta(weeks=5), "arrived", "", 7),
    ]
    report = site_flows(flows_input(daily, k=1))
    assert populations(report) == [10, 0, 20, 15, 0, 7]
    assert len(report["warnings"]) == 1
    assert "2019-W04" in report["warnings"][0]
    assert "below zero" in report["warnings"][0]


def test_clamping_is_daily_within_a_week() -> None:
    # Departures on Monday before Friday's registrations: the week ends at 20, not 10.
    daily = [
        DailyCount(MONDAY, "departed", "SY01", 10),
        DailyCount(MONDAY + timedelta(days=4), "registered", "", 20),
    ]
    report = site_flows(flows_input(daily, k=1))
    assert populations(report) == [20]
    assert len(report["warnings"]) == 1


def test_empty_input_gives_an_empty_valid_report() -> None:
    report = site_flows(flows_input([], [], as_of=date(2020, 3, 1)))
    assert report["population"] == []
    assert report["peak"] is None
    assert report["latest"] is None
    assert report["by_destination"] == []
    assert report["totals"] == {"registered": 0, "arrived": 0, "departed": 0, "moved_out": 0, "reached": 0}
    assert report["waiting_days"]["overall"]["n"] == 0
    assert report["waiting_days"]["overall"]["median"] is None
    assert report["waiting_days"]["by_destination"] == []
    assert report["warnings"] == []
    assert json.loads(json.dumps(report)) == report
    text = flows_text(report)
    assert "Rukban" in text
    assert "No counts" in text


def test_zero_rows_and_only_later_rows_leave_an_empty_series() -> None:
    daily = [DailyCount(MONDAY, "registered", "", 0), DailyCount(MONDAY + timedelta(weeks=5), "registered", "", 40)]
    report = site_flows(flows_input(daily, as_of=MONDAY + timedelta(days=3)))
    assert report["population"] == []
    assert len(report["warnings"]) == 1


def rukban_like() -> tuple[list[DailyCount], list[WaitCount]]:
    """40,000 registered over 8 weeks of 2017, then 30,000 leaving over two years to three destinations."""
    rng = np.random.default_rng(7)
    start = date(2017, 1, 2)
    daily = [DailyCount(start + timedelta(weeks=week), "registered", "", 5_000) for week in range(8)]
    destinations = ("SY0201", "SY0305", "SY1400")
    leaving = rng.multinomial(30_000, [1 / (104 * 3)] * (104 * 3)).reshape(104, 3)
    first_departure = start + timedelta(weeks=10, days=2)
    daily += [
        DailyCount(first_departure + timedelta(weeks=week), "departed", destination, int(leaving[week, column]))
        for week in range(104)
        for column, destination in enumerate(destinations)
    ]
    waits = [WaitCount(int(days), destinations[int(days) % 3], 100) for days in rng.integers(0, 200, 300)]
    return daily, waits


def test_a_rukban_like_decline() -> None:
    daily, waits = rukban_like()
    report = site_flows(flows_input(daily, waits))
    assert report["peak"]["population"] == 40_000
    assert report["peak"]["week"] == "2017-W08"
    assert report["latest"]["population"] == 10_000
    assert report["totals"] == {"registered": 40_000, "arrived": 0, "departed": 30_000, "moved_out": 0, "reached": 0}
    assert len(report["population"]) == 114
    series = populations(report)
    assert (np.diff(np.array(series[7:])) <= 0).all()  # only departures after the last registration
    assert sum(row["total"] for row in report["by_destination"]) == 30_000
    totals = [row["total"] for row in report["by_destination"]]
    assert totals == sorted(totals, reverse=True)
    assert report["waiting_days"]["overall"]["n"] == 30_000
    assert json.loads(json.dumps(report)) == report  # plain Python numbers only
    text = flows_text(report)
    assert "peak 40,000 in 2017-W08" in text
    assert "latest 10,000" in text
    assert f"Median wait: {report['waiting_days']['overall']['median']} days" in text
    recent = report["last_weeks"]
    assert recent["weeks"] == 4
    assert recent["departed"] == int(sum(week["departed"] for week in report["population"][-4:]))


def test_text_names_withheld_figures() -> None:
    daily = [DailyCount(MONDAY, "registered", "", 5)]
    text = flows_text(site_flows(flows_input(daily, [WaitCount(4, "SY01", 3)], k=10)))
    assert "peak fewer than 10 in 2019-W03" in text
    assert "Waiting: fewer than 10 people" in text


def test_bad_counts_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationFailed, match="kind"):
        DailyCount(MONDAY, "left", "", 3)
    with pytest.raises(ValidationFailed, match="n: must be >= 0"):
        DailyCount(MONDAY, "departed", "SY01", -1)
    with pytest.raises(ValidationFailed, match="days"):
        WaitCount(-2, "SY01", 3)
    with pytest.raises(ValidationFailed, match="k"):
        flows_input([], k=0)


def test_arrivals_at_destinations_are_reported_and_leave_the_population_alone() -> None:
    daily = [
        DailyCount(MONDAY, "registered", "", 100),
        DailyCount(MONDAY + timedelta(days=1), "departed", "SY0101", 40),
        DailyCount(MONDAY + timedelta(days=8), "reached", "SY0101", 38),
    ]
    report = site_flows(flows_input(daily, as_of=MONDAY + timedelta(days=9)))
    assert populations(report) == [60, 60]
    (destination,) = report["by_destination"]
    assert destination["total"] == 40 and destination["arrived_total"] == 38
    assert [(w["departed"], w["arrived"]) for w in destination["weeks"]] == [(40, 0), (0, 38)]
