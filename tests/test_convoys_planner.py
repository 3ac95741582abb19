"""The convoy planner: every rule, ties, priority, bad files, the CLI, and optimality against brute force."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awda.convoys.plancsv import PlanFileError, read_convoys, read_waitlist
from awda.convoys.planner import plan_convoys
from awda.convoys.rules import Plan, ScheduledConvoy, WaitingHousehold, check_plan
from awda.errors import ValidationFailed
from tests.conftest import Done

Awda = Callable[..., Done]
DAY = date(2026, 12, 7)
REGISTERED = datetime(2026, 1, 1, 9)


def household(
    household_id: str,
    size: int = 1,
    *,
    origin: str = "RUKBAN",
    destination: str = "QUSAYR",
    earliest: date = DAY,
    vulnerability: float = 0.0,
    registered: datetime | date = REGISTERED,
    group: str | None = None,
) -> WaitingHousehold:
    return WaitingHousehold(household_id, size, origin, destination, earliest, vulnerability, registered, group)


def convoy(
    convoy_id: str,
    seats: int = 10,
    *,
    when: date = DAY,
    origin: str = "RUKBAN",
    destinations: tuple[str, ...] = ("QUSAYR",),
) -> ScheduledConvoy:
    return ScheduledConvoy(convoy_id, when, origin, destinations, seats)


def plan(households: Sequence[WaitingHousehold], convoys: Sequence[ScheduledConvoy]) -> Plan:
    result = plan_convoys(households, convoys, time_limit=20)
    assert check_plan(households, convoys, result.assignments) == []
    assert result.bound >= result.objective
    return result


# --- the rules, one by one ---------------------------------------------------------------------


def test_a_household_rides_only_from_its_origin() -> None:
    result = plan([household("h1", origin="WAER"), household("h2")], [convoy("c1")])
    assert result.assignments == {"h2": "c1"}
    assert result.without_eligible_convoy == ("h1",)


def test_a_household_rides_only_to_its_destination_among_those_served() -> None:
    households = [household("h1", destination="RASTAN"), household("h2", destination="HOMS")]
    result = plan(households, [convoy("c1", destinations=("QUSAYR", "RASTAN"))])
    assert result.assignments == {"h1": "c1"}
    assert result.without_eligible_convoy == ("h2",)


def test_a_convoy_leaving_before_the_earliest_date_is_not_ridden_one_on_that_day_is() -> None:
    households = [household("early", earliest=DAY), household("late", earliest=DAY + timedelta(days=1))]
    result = plan(households, [convoy("c1")])
    assert result.assignments == {"early": "c1"}


def test_seats_are_never_exceeded_and_are_filled_as_far_as_they_go() -> None:
    households = [household(f"h{i}", size) for i, size in enumerate([4, 4, 4, 3])]
    result = plan(households, [convoy("c1", seats=11)])
    assert result.assigned_people == 11  # 4 + 4 + 3: the best fill of 11 seats
    assert sorted(result.assignments) == ["h0", "h1", "h3"]


def test_a_household_rides_at_most_one_convoy_and_counts_once() -> None:
    households = [household(f"h{i}", 2) for i in range(5)]
    result = plan(households, [convoy("c1", 4), convoy("c2", 4)])
    assert result.assigned_households == 4 and result.assigned_people == 8
    assert len(set(result.assignments)) == 4
    assert result.objective == 8 and result.optimal


def test_a_group_rides_together_or_not_at_all() -> None:
    group = [household("g1", 3, group="G"), household("g2", 3, group="G")]
    alone = household("solo", 2, registered=REGISTERED + timedelta(days=300))
    result = plan([*group, alone], [convoy("c1", seats=5)])
    assert result.assignments == {"solo": "c1"}  # one member would fit, but not the group
    both = plan([*group, alone], [convoy("c1", seats=5), convoy("c2", seats=6)])
    assert both.assignments["g1"] == both.assignments["g2"] == "c2"


def test_a_group_may_only_ride_convoys_every_member_may_ride() -> None:
    group = [household("g1", group="G"), household("g2", group="G", earliest=DAY + timedelta(days=7))]
    convoys = [convoy("monday"), convoy("next-monday", when=DAY + timedelta(days=7))]
    result = plan(group, convoys)
    assert result.assignments == {"g1": "next-monday", "g2": "next-monday"}
    too_early = plan(group, convoys[:1])
    assert too_early.assignments == {} and set(too_early.without_eligible_convoy) == {"g1", "g2"}


def test_an_empty_group_id_is_no_group() -> None:
    result = plan([household("h1", 3, group=""), household("h2", 3, group="")], [convoy("c1", seats=3)])
    assert result.assigned_households == 1


# --- priority and ties ---------------------------------------------------------------------------


def test_vulnerability_comes_before_registration_and_size() -> None:
    medical = household("medical", 2, vulnerability=1.0, registered=REGISTERED + timedelta(days=90))
    big = household("big", 3)
    result = plan([big, medical], [convoy("c1", seats=3)])
    assert result.assignments == {"medical": "c1"}
    assert result.objective == 4.0  # 2 * (1 + 1) beats 3 * (1 + 0)


def test_the_objective_is_size_times_one_plus_vulnerability() -> None:
    result = plan([household("h1", 4, vulnerability=0.25), household("h2", 2, vulnerability=0.5)], [convoy("c1")])
    assert result.objective == 4 * 1.25 + 2 * 1.5


@pytest.mark.parametrize("reverse", [False, True])
def test_earlier_registration_wins_a_tie_whatever_the_file_order(reverse: bool) -> None:
    first = household("zz-first", 2, registered=REGISTERED)
    second = household("aa-second", 2, registered=REGISTERED + timedelta(minutes=1))
    result = plan([second, first] if reverse else [first, second], [convoy("c1", seats=2)])
    assert result.assignments == {"zz-first": "c1"}


def test_a_tie_in_registration_time_goes_to_the_smaller_household_id() -> None:
    result = plan([household("h2"), household("h1")], [convoy("c1", seats=1)])
    assert result.assignments == {"h1": "c1"}


def test_registration_dates_and_times_compare_as_instants() -> None:
    day_only = household("day", registered=date(2026, 1, 2))  # midnight of 2 January
    evening_before = household("time", registered=datetime(2026, 1, 1, 23, 0, tzinfo=UTC))
    result = plan([day_only, evening_before], [convoy("c1", seats=1)])
    assert result.assignments == {"time": "c1"}


def test_a_tie_goes_to_the_seats_of_earlier_registrations_not_to_more_households() -> None:
    earlier = household("earlier", 2, registered=REGISTERED)
    later = [household(f"later{i}", 1, registered=REGISTERED + timedelta(days=i + 1)) for i in range(2)]
    result = plan([*later, earlier], [convoy("c1", seats=2)])
    assert result.assignments == {"earlier": "c1"}


# --- empty and infeasible --------------------------------------------------------------------------


def test_empty_inputs_give_an_empty_proven_plan() -> None:
    nobody = plan([], [convoy("c1")])
    assert (nobody.objective, nobody.bound, nobody.optimal, nobody.assignments) == (0, 0, True, {})
    no_convoy = plan([household("h1")], [])
    assert no_convoy.assignments == {} and no_convoy.without_eligible_convoy == ("h1",)
    assert no_convoy.unassigned_households == 1 and no_convoy.optimal


def test_a_household_bigger_than_every_convoy_is_reported_without_eligible_convoy() -> None:
    result = plan([household("huge", 12), household("small", 2)], [convoy("c1", seats=10)])
    assert result.assignments == {"small": "c1"} and result.without_eligible_convoy == ("huge",)


@pytest.mark.parametrize(
    ("households", "convoys", "field", "words"),
    [
        ([household("h1", 0)], [], "size", "household h1: must be at least 1"),
        ([household("h1", vulnerability=-1)], [], "vulnerability", "household h1"),
        ([household("h1"), household("h1")], [], "household_id", "more than one household"),
        ([household("")], [], "household_id", "household #1: is empty"),
        ([household("h1")], [convoy("c1", -1)], "seats", "convoy c1"),
        ([household("h1")], [convoy("c1"), convoy("c1")], "convoy_id", "more than one convoy"),
        (
            [household("g1", group="G"), household("g2", group="G", origin="WAER")],
            [],
            "origin",
            "group G mixes origins RUKBAN and WAER",
        ),
    ],
)
def test_the_planner_refuses_broken_input_naming_the_item(
    households: list[WaitingHousehold], convoys: list[ScheduledConvoy], field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plan_convoys(households, convoys)
    assert caught.value.field == field and words in str(caught.value)


# --- the independent checker ------------------------------------------------------------------------


def test_check_plan_catches_every_planted_violation() -> None:
    households = [
        household("h1", 3),
        household("wrong-origin", origin="WAER"),
        household("wrong-destination", destination="HOMS"),
        household("too-early", earliest=DAY + timedelta(days=1)),
        household("g1", group="G"),
        household("g2", group="G"),
        household("g3", group="G"),
    ]
    convoys = [convoy("c1", seats=3), convoy("c2", seats=10)]
    assert check_plan(households, convoys, {"h1": "c1", "g1": "c2", "g2": "c2", "g3": "c2"}) == []
    planted = {
        "wrong-origin": "leaves from RUKBAN, not WAER",
        "wrong-destination": "does not serve HOMS",
        "too-early": "before the earliest date",
    }
    for household_id, words in planted.items():
        (problem,) = check_plan(households, convoys, {household_id: "c2"})
        assert household_id in problem and words in problem
    assert check_plan(households, convoys, {"h1": "c1", "g1": "c1"})[0] == "convoy c1 carries 4 people in 3 seats"
    split = check_plan(households, convoys, {"g1": "c2", "g2": "c2", "g3": "c1"})
    assert split == ["group G is split: ['c1', 'c2']"]
    partial = check_plan(households, convoys, {"g1": "c2", "g2": "c2"})
    assert partial == ["group G is split: ['None', 'c2']"]
    assert check_plan(households, convoys, [("h1", "c1"), ("h1", "c2")])[0] == "household h1 is assigned 2 times"
    assert check_plan(households, convoys, {"nobody": "c1"}) == ["unknown household in nobody -> c1"]
    assert check_plan(households, convoys, {"h1": "c9"}) == ["unknown convoy in h1 -> c9"]


# --- optimality against brute force ----------------------------------------------------------------


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return datetime(value.year, value.month, value.day)


def brute_force(households: Sequence[WaitingHousehold], convoys: Sequence[ScheduledConvoy]) -> tuple[int, int]:
    """(best priority in thousandths, then best seniority) over every assignment, checked by check_plan."""
    order = sorted(households, key=lambda h: (_instant(h.registered_at), h.household_id))
    seniority = {h.household_id: len(order) - 1 - at for at, h in enumerate(order)}
    options: list[str | None] = [None, *(c.convoy_id for c in convoys)]
    best = (0, 0)
    for rides in itertools.product(options, repeat=len(households)):
        chosen = {h.household_id: ride for h, ride in zip(households, rides, strict=True) if ride is not None}
        if check_plan(households, convoys, chosen):
            continue
        riders = [h for h in households if h.household_id in chosen]
        priority = sum(h.size * (1000 + round(h.vulnerability * 1000)) for h in riders)
        best = max(best, (priority, sum(h.size * seniority[h.household_id] for h in riders)))
    return best


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[WaitingHousehold], list[ScheduledConvoy]]:
    count = draw(st.integers(1, 6))
    households = [
        household(
            f"h{i}",
            draw(st.integers(1, 5)),
            origin=draw(st.sampled_from(["A", "B"])),
            destination=draw(st.sampled_from(["X", "Y"])),
            earliest=DAY + timedelta(days=draw(st.integers(0, 2))),
            vulnerability=draw(st.sampled_from([0.0, 0.0, 0.5, 1.0])),
            registered=REGISTERED + timedelta(hours=draw(st.integers(0, 3))),
        )
        for i in range(count)
    ]
    for first, second in draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=2)):
        leader = households[first]
        households[second] = replace(households[second], origin=leader.origin, destination=leader.destination)
        households[first] = replace(leader, group_id=f"G{first}")
        households[second] = replace(households[second], group_id=f"G{first}")
    convoys = [
        convoy(
            f"c{i}",
            draw(st.integers(0, 9)),
            when=DAY + timedelta(days=draw(st.integers(0, 2))),
            origin=draw(st.sampled_from(["A", "B"])),
            destinations=tuple(draw(st.sets(st.sampled_from(["X", "Y"]), min_size=1))),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return households, convoys


def _consistent_groups(households: Sequence[WaitingHousehold]) -> bool:
    routes: dict[str, set[tuple[str, str]]] = {}
    for h in households:
        if h.group_id:
            routes.setdefault(h.group_id, set()).add((h.origin, h.destination))
    return all(len(route) == 1 for route in routes.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_small_plans_are_optimal_and_tie_broken_as_brute_force_says(
    instance: tuple[list[WaitingHousehold], list[ScheduledConvoy]],
) -> None:
    households, convoys = instance
    if not _consistent_groups(households):
        with pytest.raises(ValidationFailed):
            plan_convoys(households, convoys)
        return
    result = plan(households, convoys)
    best_priority, best_seniority = brute_force(households, convoys)
    assert round(result.objective * 1000) == best_priority
    assert result.optimal and result.tie_break_optimal
    assert round(result.bound * 1000) == best_priority
    order = sorted(households, key=lambda h: (_instant(h.registered_at), h.household_id))
    seniority = {h.household_id: len(order) - 1 - at for at, h in enumerate(order)}
    sizes = {h.household_id: h.size for h in households}
    assert sum(sizes[h] * seniority[h] for h in result.assignments) == best_seniority


# --- the files -----------------------------------------------------------------------------------------

WAITLIST_HEADER = "household_id,size,origin,destination,earliest_date,vulnerability,registered_at,group_id"
CONVOYS_HEADER = "convoy_id,date,origin,destinations,seats"
GOOD_WAITLIST = [
    "h1,4,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,",
    "h2,3,RUKBAN,RASTAN,2026-12-01,1,2026-01-06T10:30:00,",
    "h3,2,RUKBAN,QUSAYR,2026-12-01,0.5,2026-01-07,G1",
    "h4,2,RUKBAN,QUSAYR,2026-12-08,0,2026-01-07,G1",
    "h5,5,WAER,HOMS,2026-12-01,0,2025-12-01,",
]
GOOD_CONVOYS = ["c1,2026-12-07,RUKBAN,QUSAYR;RASTAN,7", "c2,2026-12-14,RUKBAN,QUSAYR,4"]


def write_lines(path: Path, header: str, lines: Sequence[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_the_files_are_read_with_their_types(tmp_path: Path) -> None:
    households = read_waitlist(write_lines(tmp_path / "W.csv", WAITLIST_HEADER, GOOD_WAITLIST))
    assert households[1].registered_at == datetime(2026, 1, 6, 10, 30)
    assert households[0].registered_at == date(2026, 1, 5) and households[0].group_id is None
    assert households[2].vulnerability == 0.5 and households[2].group_id == "G1"
    convoys = read_convoys(write_lines(tmp_path / "C.csv", CONVOYS_HEADER, GOOD_CONVOYS))
    assert convoys[0].destinations == ("QUSAYR", "RASTAN") and convoys[0].seats == 7


W_ROW = "h1,4,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["h1,4,RUKBAN,QUSAYR"], "row 2, earliest_date: is empty"),
        (["h1,x,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,"], "row 2, size: 'x' is not a whole number"),
        (["h1,0,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,"], "row 2, size: must be at least 1, not 0"),
        ([W_ROW, ",4,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,"], "row 3, household_id: is empty"),
        ([W_ROW, W_ROW], "row 3, household_id: h1 is already on row 2"),
        (["h1,4,RUKBAN,QUSAYR,1/12/2026,0,2026-01-05,"], "row 2, earliest_date: '1/12/2026' is not an ISO date"),
        (["h1,4,RUKBAN,QUSAYR,2026-12-01,0,yesterday,"], "row 2, registered_at: 'yesterday' is not an ISO date"),
        (["h1,4,RUKBAN,QUSAYR,2026-12-01,-1,2026-01-05,"], "row 2, vulnerability: must be a number >= 0"),
        (["h1,4,RUKBAN,QUSAYR,2026-12-01,nan,2026-01-05,"], "row 2, vulnerability: must be a number >= 0"),
        (["h1,4,RUKBAN,QUSAYR,2026-12-01,high,2026-01-05,"], "row 2, vulnerability: 'high' is not a number"),
        (["h1,4,,QUSAYR,2026-12-01,0,2026-01-05,"], "row 2, origin: is empty"),
        (
            ["g1,4,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,G", "", "g2,4,WAER,QUSAYR,2026-12-01,0,2026-01-05,G"],
            "row 4, origin: group G mixes origins RUKBAN and WAER",
        ),
        (
            ["g1,4,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,G", "g2,4,RUKBAN,HOMS,2026-12-01,0,2026-01-05,G"],
            "row 3, destination: group G mixes destinations QUSAYR and HOMS",
        ),
    ],
)
def test_a_bad_waitlist_names_the_file_row_and_column(tmp_path: Path, lines: list[str], expected: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        read_waitlist(write_lines(tmp_path / "W.csv", WAITLIST_HEADER, lines))
    assert str(caught.value).startswith("W.csv, ") and expected in str(caught.value)


C_ROW = "c1,2026-12-07,RUKBAN,QUSAYR,7"


@pytest.mark.parametrize(
    ("header", "lines", "expected"),
    [
        ("convoy_id,date,origin,seats", [C_ROW], "row 1, destinations: missing column"),
        (CONVOYS_HEADER, [C_ROW, C_ROW], "row 3, convoy_id: c1 is already on row 2"),
        (CONVOYS_HEADER, [",2026-12-07,RUKBAN,QUSAYR,7"], "row 2, convoy_id: is empty"),
        (CONVOYS_HEADER, ["c1,2026-13-07,RUKBAN,QUSAYR,7"], "row 2, date: '2026-13-07' is not an ISO date"),
        (CONVOYS_HEADER, ["c1,2026-12-07,RUKBAN,QUSAYR,-5"], "row 2, seats: must be at least 0, not -5"),
        (CONVOYS_HEADER, ["c1,2026-12-07,RUKBAN,QUSAYR,many"], "row 2, seats: 'many' is not a whole number"),
        (CONVOYS_HEADER, ["c1,2026-12-07,RUKBAN,QUSAYR;;HOMS,7"], "row 2, destinations: has an empty place"),
    ],
)
def test_a_bad_convoy_file_names_the_file_row_and_column(
    tmp_path: Path, header: str, lines: list[str], expected: str
) -> None:
    with pytest.raises(PlanFileError) as caught:
        read_convoys(write_lines(tmp_path / "C.csv", header, lines))
    assert str(caught.value).startswith("C.csv, ") and expected in str(caught.value)


def test_a_missing_or_empty_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=r"absent.csv does not exist"):
        read_waitlist(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(PlanFileError, match=r"empty.csv, row 1, header: the file is empty"):
        read_convoys(tmp_path / "empty.csv")


# --- the command ------------------------------------------------------------------------------------------


def test_awda_convoys_plan_writes_the_plan_and_reports(awda: Awda, tmp_path: Path) -> None:
    waitlist = write_lines(tmp_path / "W.csv", WAITLIST_HEADER, GOOD_WAITLIST)
    convoys = write_lines(tmp_path / "C.csv", CONVOYS_HEADER, GOOD_CONVOYS)
    out = tmp_path / "PLAN.csv"
    done = awda("convoys", "plan", "--waitlist", str(waitlist), "--convoys", str(convoys), "--out", str(out), "--json")
    report = json.loads(done.stdout)
    assert list(report)[:5] == ["objective", "bound", "assigned_households", "assigned_people", "seconds"]
    # h2 (3 people, vulnerability 1: 6 points) and h1 (4) fill c1's 7 seats; group G1 (5) may only take c2.
    assert (report["objective"], report["bound"], report["optimal"]) == (15.0, 15.0, True)
    assert (report["assigned_households"], report["assigned_people"], report["without_eligible_convoy"]) == (4, 11, 1)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[:2] == [["household_id", "convoy_id"], ["#x_household+id", "#x_convoy+code"]]
    assert rows[2:] == [["h1", "c1"], ["h2", "c1"], ["h3", "c2"], ["h4", "c2"]]
    text = awda("convoys", "plan", "--waitlist", str(waitlist), "--convoys", str(convoys), "--out", str(out))
    assert "4 households (11 people) assigned" in text.stdout and "proven optimal" in text.stdout
    assert text.stdout.count("\n") == 3


def test_awda_convoys_plan_errors_are_one_line(awda: Awda, tmp_path: Path) -> None:
    waitlist = write_lines(
        tmp_path / "W.csv", WAITLIST_HEADER, [*GOOD_WAITLIST, "h9,0,RUKBAN,QUSAYR,2026-12-01,0,2026-01-05,"]
    )
    convoys = write_lines(tmp_path / "C.csv", CONVOYS_HEADER, GOOD_CONVOYS)
    out = tmp_path / "PLAN.csv"
    done = awda("convoys", "plan", "--waitlist", str(waitlist), "--convoys", str(convoys), "--out", str(out), expect=2)
    assert done.stderr.strip() == "error: W.csv, row 7, size: must be at least 1, not 0"
    assert not out.exists()
    missing = awda("convoys", "plan", "--waitlist", str(waitlist), "--convoys", str(convoys), expect=2)
    assert missing.stderr.strip().startswith("error: --out: is required")


def test_nothing_to_plan_is_an_error_and_writes_nothing(awda: Awda, tmp_path: Path) -> None:
    waitlist = write_lines(tmp_path / "W.csv", WAITLIST_HEADER, GOOD_WAITLIST[4:])
    convoys = write_lines(tmp_path / "C.csv", CONVOYS_HEADER, GOOD_CONVOYS)
    out = tmp_path / "PLAN.csv"
    done = awda("convoys", "plan", "--waitlist", str(waitlist), "--convoys", str(convoys), "--out", str(out), expect=2)
    assert "no household can ride any convoy" in done.stderr and "h5: no convoy leaves WAER" in done.stderr
    assert not out.exists()
    empty = write_lines(tmp_path / "E.csv", WAITLIST_HEADER, [])
    done = awda("convoys", "plan", "--waitlist", str(empty), "--convoys", str(convoys), "--out", str(out), expect=2)
    assert done.stderr.strip() == "error: E.csv has no waiting households; no plan written"


def test_without_time_the_greedy_plan_comes_back_with_a_valid_bound() -> None:
    households = [household(f"h{i}", 1 + i % 4, vulnerability=(i % 3) / 2) for i in range(40)]
    convoys = [convoy("c1", 9), convoy("c2", 7, when=DAY + timedelta(days=7))]
    seen: list[int] = []
    quick = plan_convoys(households, convoys, time_limit=0, on_progress=seen.append)
    assert check_plan(households, convoys, quick.assignments) == []
    best = plan(households, convoys)
    assert quick.objective <= best.objective <= quick.bound
    assert sum(seen) == len(households)
