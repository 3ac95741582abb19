"""The scorecard: no output breaks the disclosure rule, pages in Arabic and English, HXL CSV, plots.

The facts are built from simulated returnees (durations, events, months), so every count a page
could give away is known here independently of the code under test, and a reader's audit (a linear
programme over what a reader can see) checks that no withheld small count can be worked out.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from string import Formatter
from typing import Any

import hxl  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy.optimize import linprog

from awda.errors import ValidationFailed
from awda.stats.disclosure import Equation, Item, protect
from awda.stats.report import CohortFacts, Curve, FollowUpCoverage, HazardStep, Incidence, ScorecardInput
from awda.stats.scorecard import write_scorecard
from awda.stats.scorecard_text import TEXTS

K = 10
GRID = (30, 90, 180, 365)
MONTHS = ("2024-01", "2024-02", "2024-03")
FOLLOWUPS = ("reached", "not_reached", "moved", "refused", "overdue")
HASHTAGS = [
    "#meta+cohort+type",
    "#x_agreement+code",
    "#org+guarantor+name",
    "#meta+cohort+name+i_en",
    "#meta+cohort+name+i_ar",
    "#indicator+code",
    "#event+type",
    "#date+month",
    "#x_day+num",
    "#indicator+num",
    "#indicator+num+ci_lower",
    "#indicator+num+ci_upper",
    "#meta+suppressed",
    "#date+reported",
]
COUNT_INDICATORS = {"people", "households", "arrivals", "incidents", "incidents_total", "at_risk"} | {
    f"followups_{name}" for name in ("due", *FOLLOWUPS)
}
ESTIMATE_INDICATORS = {
    "survival",
    "cumulative_incidence",
    "hazard_before",
    "hazard_after",
    "hazard_step_p_value",
    "cohort_suppressed",
}
NOT_COUNTS = {"k", "day", "cut_day", "grid_days", "plot_step_days"}

Key = tuple[str | int, ...]  # a count's name: (kind, key, *position)
Truth = dict[tuple[str, str], "Group"]
Document = dict[str, Any]


@dataclass
class Group:
    """Simulated returnees of one agreement: the truth every published figure is checked against."""

    key: str
    durations: list[int]
    events: list[bool]
    months: list[str]
    incidents: dict[tuple[str, str], int] = field(default_factory=dict)
    followups: tuple[int, ...] = (0, 0, 0, 0, 0)
    households: int = 0

    @property
    def people(self) -> int:
        return len(self.durations)


def simulate(key: str, people: int, rng: np.random.Generator, incident_scale: int = 6) -> Group:
    durations = [int(value) for value in rng.integers(0, 420, people)]
    events = [bool(value) for value in rng.random(people) < 0.35]
    months = [MONTHS[int(value)] for value in rng.integers(0, len(MONTHS), people)]
    incidents = {
        (kind, month): min(people, int(rng.integers(0, incident_scale + 1)))
        for kind in ("arrest", "extortion")
        for month in MONTHS
    }
    followups = tuple(int(value) for value in rng.integers(0, 8, len(FOLLOWUPS)))
    return Group(key, durations, events, months, incidents, followups, (people + 2) // 3)


def merged(key: str, groups: list[Group]) -> Group:
    incidents: dict[tuple[str, str], int] = {}
    for group in groups:
        for position, value in group.incidents.items():
            incidents[position] = incidents.get(position, 0) + value
    return Group(
        key,
        [value for group in groups for value in group.durations],
        [value for group in groups for value in group.events],
        [value for group in groups for value in group.months],
        incidents,
        tuple(int(sum(values)) for values in zip(*(group.followups for group in groups), strict=True)),
        sum(group.households for group in groups),
    )


def kaplan_meier(group: Group) -> Curve | None:
    if not group.durations:
        return None
    durations = np.array(group.durations)
    events = np.array(group.events)
    times = sorted(set(group.durations))
    at_risk = [int((durations >= time).sum()) for time in times]
    died = [int(((durations == time) & events).sum()) for time in times]
    survival: list[float] = []
    current = 1.0
    for risk, deaths in zip(at_risk, died, strict=True):
        current *= 1 - deaths / risk
        survival.append(current)
    return Curve(
        time=tuple(times),
        at_risk=tuple(at_risk),
        events=tuple(died),
        censored=tuple(risk_count - deaths for risk_count, deaths in zip(at_risk, died, strict=True)),
        survival=tuple(survival),
        ci_lower=tuple(max(0.0, value - 0.05) for value in survival),
        ci_upper=tuple(min(1.0, value + 0.05) for value in survival),
    )


def facts_of(group: Group, kind: str, agreements: tuple[str, ...] = ()) -> CohortFacts:
    curve = kaplan_meier(group)
    arrivals = {month: group.months.count(month) for month in MONTHS if month in group.months}
    event_days = tuple(sorted({d for d, e in zip(group.durations, group.events, strict=True) if e}))
    incidence: tuple[Incidence, ...] = ()
    if curve is not None and event_days:
        share = tuple((index + 1) / (2 * len(event_days)) for index in range(len(event_days)))
        incidence = (
            Incidence(
                "arrest_detention", event_days, share, tuple(v / 2 for v in share), tuple(v * 1.5 for v in share)
            ),
        )
    return CohortFacts(
        kind=kind,
        key=group.key,
        title_en=f"Return to {group.key}",
        title_ar=f"العودة إلى {group.key}",
        people=group.people,
        households=group.households,
        arrivals_by_month=arrivals,
        incidents_by_type_month=dict(group.incidents),
        followups=FollowUpCoverage(sum(group.followups), *group.followups),
        survival=curve,
        incidence=incidence,
        hazard_steps=(HazardStep(180, 0.05, 0.31), HazardStep(400, 0.3, 0.1)),
        hazard_step_p_value=0.004,
        terms=("no_arrest for returnees, 180 days",) if kind == "agreement" else (),
        agreements=agreements,
    )


def scorecard_of(agreement_groups: list[Group], guarantors: dict[str, list[str]]) -> tuple[ScorecardInput, Truth]:
    """Facts for the agreements and for guarantors made of them, and the truth by (kind, key)."""
    truth: Truth = {("agreement", g.key): g for g in agreement_groups}
    cohorts = [facts_of(group, "agreement") for group in agreement_groups]
    for name, codes in guarantors.items():
        group = merged(name, [truth[("agreement", code)] for code in codes])
        truth[("guarantor", name)] = group
        cohorts.append(facts_of(group, "guarantor", tuple(codes)))
    facts = ScorecardInput(generated_on="2024-06-30", cohorts=tuple(cohorts), k=K, serious_types=("arrest",))
    return facts, truth


def hand_scorecard() -> tuple[ScorecardInput, Truth]:
    rng = np.random.default_rng(20240630)
    groups = [simulate("AG-1", 140, rng, 12), simulate("AG-2", 6, rng, 2), simulate("AG-3", 45, rng, 9)]
    return scorecard_of(groups, {"Guarantor North": ["AG-1", "AG-2"], "ضامن الجنوب": ["AG-3"]})


class Page(HTMLParser):
    """What a reader sees on a page: counts, direction, images, and words outside names."""

    VOID = frozenset({"img", "meta", "br", "link", "input", "hr"})

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.counts: list[int] = []
        self.bare_numbers: list[str] = []
        self.images: list[str] = []
        self.html: dict[str, str | None] = {}
        self.sections: list[dict[str, str | None]] = []
        self.words: list[tuple[str, str]] = []  # (language in force, text)
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html = attributes
        if tag == "section":
            self.sections.append(attributes)
        if tag == "data":
            self.counts.append(int(attributes["value"] or ""))
        if tag == "img":
            self.images.append(attributes["src"] or "")
        if tag not in self.VOID:
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        tags = [tag for tag, _ in self.stack]
        in_count_cell = bool(self.stack) and self.stack[-1] == ("td", {"class": "n"})
        if in_count_cell and re.fullmatch(r"\s*[\d,٬]+\s*", data):  # a count outside <data>
            self.bare_numbers.append(data)
        if any(tag in {"bdi", "style", "title"} for tag in tags):
            return
        language = next((attrs["lang"] for _, attrs in reversed(self.stack) if attrs.get("lang")), None)
        self.words.append((language or "", data))


def small(value: int) -> bool:
    return 0 < value < K


def json_counts(value: object, key: str = "") -> list[tuple[str, int]]:
    """Every integer in the JSON with the key it sits under (list items inherit their list's key)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [(key, value)]
    if isinstance(value, dict):
        return [found for name, item in value.items() for found in json_counts(item, name)]
    if isinstance(value, list):
        return [found for item in value for found in json_counts(item, key)]
    return []


def assert_nothing_small(out: Path, facts: ScorecardInput, truth: Truth) -> Document:
    """Every count in every output file is 0 or at least k; curves stop where fewer than k remain."""
    document: Document = json.loads((out / "scorecard.json").read_text(encoding="utf-8"))
    for key, value in json_counts(document):
        assert key in NOT_COUNTS or not small(value), (key, value)
    assert "events" not in json.dumps(document) and "censored" not in json.dumps(document)
    for cohort in document["cohorts"]:
        group = truth[(cohort["kind"], cohort["key"])]
        if cohort["suppressed"]:
            assert group.people < K
            assert set(cohort) == {"kind", "key", "title_en", "title_ar", "terms", "agreements", "suppressed", "pages"}
            continue
        assert group.people >= K
        durations = np.array(group.durations)
        survival = cohort["survival"]
        days = [point["day"] for point in survival["grid"]] + survival["steps"]["day"] if survival else []
        for day in days:
            assert int((durations >= day).sum()) >= K, (cohort["key"], day)
        if survival:
            assert all(day % 7 == 0 for day in survival["steps"]["day"])
            assert all(step["day"] <= survival["cut_day"] for step in cohort["hazard_steps"])
    rows = list(csv.DictReader(io.StringIO((out / "scorecard.csv").read_text(encoding="utf-8"))))[1:]
    for row in rows:
        assert row["indicator"] in COUNT_INDICATORS | ESTIMATE_INDICATORS, row["indicator"]
        if row["indicator"] in COUNT_INDICATORS:
            assert (row["value"] == "") == (row["suppressed"] == "true")
            assert row["value"] == "" or not small(int(row["value"])), row
    for page_path in out.glob("*.html"):
        page = Page(page_path.read_text(encoding="utf-8"))
        assert [value for value in page.counts if small(value)] == [], page_path.name
        assert page.bare_numbers == [], page_path.name
    return document


def reader_model(document: Document, truth: Truth) -> ReaderModel:
    model = ReaderModel(truth)
    for cohort in document["cohorts"]:
        model.add_cohort(cohort)
    for cohort in document["cohorts"]:
        if cohort["kind"] == "guarantor" and not cohort["suppressed"]:
            model.add_guarantor(cohort)
    return model


def reader_audit(document: Document, truth: Truth) -> list[tuple[Key, str]]:
    """Withheld small counts a reader can tell are below k (only those that are small whatever is withheld may be)."""
    model = reader_model(document, truth)
    failures = model.failures()
    structural = model.everything_withheld({identifier for identifier, _ in failures})
    return [failure for failure in failures if failure[0] not in structural]


def reader_pins(document: Document, truth: Truth) -> list[tuple[Key, str]]:
    """Withheld small counts a reader could work out exactly."""
    return reader_model(document, truth).failures(width_only=True)


class ReaderModel:
    """Unknowns (withheld counts), what is known of them, and the sums a reader can rely on."""

    def __init__(self, truth: Truth) -> None:
        self.truth = truth
        self.known: dict[Key, int] = {}
        self.unknown: dict[Key, tuple[int, int | None, int]] = {}  # id -> (low, high, true value)
        self.equalities: list[tuple[Key, list[Key]]] = []
        self.chains: list[list[Key]] = []
        self.structural: set[Key] = set()  # zeros a reader knows from a table's extent

    def everything_withheld(self, only: set[Key]) -> set[Key]:
        """Counts a reader knows are below k even if every count were withheld: only not pinned for those."""
        blind = ReaderModel(self.truth)
        blind.equalities, blind.chains = self.equalities, self.chains
        blind.unknown = dict(self.unknown)
        for identifier, value in self.known.items():
            if identifier in self.structural:
                blind.known[identifier] = value
            else:
                blind.unknown[identifier] = (0, None, value)
        return {failure[0] for failure in blind.failures(max_only=True, only=only)} if only else set()

    def value(self, identifier: Key, shown: int | None, true: int, high: int | None = None) -> None:
        if shown is None:
            self.unknown[identifier] = (0, high, true)
        else:
            assert shown == true, identifier
            self.known[identifier] = shown

    def true_positions(self, group: Group) -> dict[Key, int]:
        durations = np.array(group.durations, dtype=int)
        values: dict[Key, int] = {("people",): group.people, ("households",): group.households}
        values.update({("arrivals", m): group.months.count(m) for m in MONTHS})
        values.update({("incidents", t, m): v for (t, m), v in group.incidents.items()})
        values.update({("followups", name): v for name, v in zip(FOLLOWUPS, group.followups, strict=True)})
        values[("followups", "due")] = sum(group.followups)
        values.update({("at_risk", day): int((durations >= day).sum()) for day in GRID})
        return values

    def add_cohort(self, cohort: Document) -> None:
        name = (cohort["kind"], cohort["key"])
        true = self.true_positions(self.truth[name])
        if cohort["suppressed"]:
            for position, value in true.items():  # counts of its people are below k; follow-ups need not be
                self.value((*name, *position), None, value, None if position[0] == "followups" else K - 1)
            self.equalities.append(((*name, "people"), [(*name, "arrivals", m) for m in MONTHS]))
            self.equalities.append(((*name, "followups", "due"), [(*name, "followups", key) for key in FOLLOWUPS]))
            return
        shown: dict[Key, int | None] = {("people",): cohort["people"], ("households",): cohort["households"]}
        shown.update({("arrivals", row["month"]): row["count"] for row in cohort["arrivals"]})
        table = cohort["incidents"] or {"types": [], "months": [], "type_totals": []}
        for row in table["months"]:
            shown.update(
                {("incidents", t, row["month"]): v for t, v in zip(table["types"], row["counts"], strict=True)}
            )
        shown.update({("followups", key): value for key, value in cohort["followups"].items()})
        grid = {point["day"]: point["at_risk"] for point in (cohort["survival"] or {"grid": []})["grid"]}
        for position, value in true.items():
            if position in shown:
                self.value((*name, *position), shown[position], value)
            elif position[0] == "at_risk":  # past the cut, a reader knows fewer than k remain
                in_grid = position[1] in grid
                self.value((*name, *position), grid.get(position[1]), value, None if in_grid else K - 1)
            else:
                assert value == 0, (name, position)  # outside the tables: nothing there
                self.known[(*name, *position)] = 0
                self.structural.add((*name, *position))
        for kind, total in zip(table["types"], table["type_totals"], strict=True):
            self.value(
                (*name, "total", kind), total, sum(v for (t, _), v in self.truth[name].incidents.items() if t == kind)
            )
            self.equalities.append(((*name, "total", kind), [(*name, "incidents", kind, m) for m in MONTHS]))
        self.equalities.append(((*name, "people"), [(*name, "arrivals", m) for m in MONTHS]))
        parts: list[Key] = [(*name, "followups", key) for key in FOLLOWUPS]
        self.equalities.append(((*name, "followups", "due"), parts))
        self.chains.append([(*name, "people"), *((*name, "at_risk", day) for day in GRID)])

    def add_guarantor(self, cohort: Document) -> None:
        name = (cohort["kind"], cohort["key"])
        for position in self.true_positions(self.truth[name]):
            parts = [("agreement", code, *position) for code in cohort["agreements"]]
            self.equalities.append(((*name, *position), parts))

    def row(self, column: dict[Key, int], terms: list[tuple[Key, float]]) -> tuple[np.ndarray, float]:
        """One linear relation over the unknowns: coefficients, and the constant the known values make."""
        coefficients = np.zeros(len(column))
        constant = 0.0
        for identifier, sign in terms:
            if identifier in column:
                coefficients[column[identifier]] += sign
            else:
                constant -= sign * self.known.get(identifier, 0)
        return coefficients, constant

    def system(self, names: list[Key]) -> dict[str, Any]:
        """The linear programme's constraints over the unknowns `names`."""
        column = {name: index for index, name in enumerate(names)}
        equal = [
            self.row(column, [(total, 1.0), *((part, -1.0) for part in parts)]) for total, parts in self.equalities
        ]
        # At risk later <= at risk earlier.
        below = [self.row(column, [(b, 1.0), (a, -1.0)]) for chain in self.chains for a, b in itertools.pairwise(chain)]
        return {
            "A_ub": np.array([r for r, _ in below]) if below else None,
            "b_ub": [c for _, c in below] or None,
            "A_eq": np.array([r for r, _ in equal]),
            "b_eq": [c for _, c in equal],
            "bounds": [(low, high) for low, high, _ in (self.unknown[name] for name in names)],
        }

    @staticmethod
    def extremes(system: dict[str, Any], position: int) -> tuple[float, float]:
        """The smallest and largest value of one unknown that the published figures allow."""
        found = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(system["bounds"]))
            objective[position] = sign
            result = linprog(objective, method="highs", **system)
            assert result.status in (0, 3), result.message
            found.append(float("inf") if result.status == 3 else sign * float(result.fun or 0))
        return found[0], found[1]

    def failures(
        self, width_only: bool = False, max_only: bool = False, only: set[Key] | None = None
    ) -> list[tuple[Key, str]]:
        """Small withheld counts that are pinned (width below 1) or, unless known small, capped below k."""
        names = sorted(self.unknown)
        system = self.system(names)
        failures = []
        for position, identifier in enumerate(names):
            _, high, true = self.unknown[identifier]
            if not small(true) or (only is not None and identifier not in only):
                continue
            lowest, highest = self.extremes(system, position)
            known_small = high is not None and high < K
            pinned = highest - lowest < 1 - 1e-6
            if max_only:
                pinned = highest < K - 1e-6
            elif not width_only and not known_small:
                pinned = pinned or highest < K - 1e-6
            if pinned:
                failures.append((identifier, f"true {true}, reader sees {lowest:g}..{highest:g}"))
        return failures


def test_the_hand_built_scorecard_publishes_nothing_small(tmp_path: Path) -> None:
    facts, truth = hand_scorecard()
    calls: list[int] = []
    result = write_scorecard(facts, tmp_path, on_progress=calls.append)
    assert calls == [1] * len(facts.cohorts)
    assert (result.cohorts, result.published_cohorts, result.suppressed_cohorts) == (5, 4, 1)
    assert result.suppressed_cells > 0
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == list(result.files)
    document = assert_nothing_small(tmp_path, facts, truth)
    assert reader_audit(document, truth) == []
    assert reader_pins(document, truth) == []
    small_one = next(c for c in document["cohorts"] if c["key"] == "AG-2")
    assert small_one["suppressed"] is True
    page = Page((tmp_path / small_one["pages"]["en"]).read_text(encoding="utf-8"))
    assert page.counts == [] and page.images == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(0, 45), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    scale=st.integers(1, 12),
)
def test_no_random_scorecard_lets_a_reader_work_out_a_small_count(sizes: list[int], seed: int, scale: int) -> None:
    rng = np.random.default_rng(seed)
    groups = [simulate(f"AG-{index}", size, rng, scale) for index, size in enumerate(sizes)]
    facts, truth = scorecard_of(groups, {"Guarantor": [group.key for group in groups]})
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        write_scorecard(facts, out, with_plots=False)
        document = assert_nothing_small(out, facts, truth)
    assert reader_audit(document, truth) == []
    assert reader_pins(document, truth) == []


def test_secondary_suppression_hides_a_small_cell_from_its_total() -> None:
    cells = [Item(("month", m), v) for m, v in (("jan", 15), ("feb", 3), ("mar", 20))]
    equation = Equation(("total",), tuple(cell.id for cell in cells))
    protection = protect([Item(("total",), 38), *cells], [equation], K)
    assert protection.withheld == {("month", "feb"), ("month", "jan")}
    assert (protection.primary, protection.secondary) == (1, 1)
    zeros = [Item(("month", m), v) for m, v in (("jan", 0), ("feb", 12), ("mar", 0))]
    assert (
        protect([Item(("total",), 12), *zeros], [Equation(("total",), tuple(z.id for z in zeros))], K).withheld == set()
    )
    assert protect([Item(("one",), 3)], [], 1).withheld == set()


def test_a_guarantor_minus_its_agreements_does_not_give_a_small_cohort_away(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    facts, truth = scorecard_of([simulate("AG-1", 80, rng), simulate("AG-2", 4, rng)], {"G": ["AG-1", "AG-2"]})
    write_scorecard(facts, tmp_path, with_plots=False)
    document = json.loads((tmp_path / "scorecard.json").read_text(encoding="utf-8"))
    people = {cohort["key"]: cohort.get("people") for cohort in document["cohorts"]}
    assert people["AG-2"] is None
    assert people["AG-1"] is None or people["G"] is None  # else G - AG-1 = 4
    assert reader_audit(document, truth) == []


def test_curves_stop_where_fewer_than_k_remain(tmp_path: Path) -> None:
    group = Group("AG-9", [5] * 3 + [50] * 5 + [200] * 12 + [300] * 4, [True] * 24, ["2024-01"] * 24, households=8)
    facts, _ = scorecard_of([group], {})
    write_scorecard(facts, tmp_path, with_plots=False)
    cohort = json.loads((tmp_path / "scorecard.json").read_text(encoding="utf-8"))["cohorts"][0]
    survival = cohort["survival"]
    assert survival["cut_day"] == 200  # 16 followed on day 200, 4 after it
    assert [point["day"] for point in survival["grid"]] == [30, 90, 180]
    assert survival["steps"]["day"][-1] == 196
    assert [step["day"] for step in cohort["hazard_steps"]] == [180]
    assert [point["day"] for point in cohort["incidence"][0]["grid"]] == [30, 90, 180]


def test_pages_are_in_arabic_right_to_left_and_in_english(tmp_path: Path) -> None:
    facts, _ = hand_scorecard()
    write_scorecard(facts, tmp_path, with_plots=False)
    index = Page((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert (index.html["lang"], index.html["dir"]) == ("ar", "rtl")
    assert [(s["lang"], s["dir"]) for s in index.sections] == [("ar", "rtl"), ("en", "ltr")]
    for path in tmp_path.glob("*.html"):
        page = Page(path.read_text(encoding="utf-8"))
        language = path.name.split(".")[-2] if path.name != "index.html" else None
        if language:
            assert (page.html["lang"], page.html["dir"]) == (
                (language, "rtl") if language == "ar" else (language, "ltr")
            )
        for marked, words in page.words:
            if (marked or page.html["lang"]) == "ar":
                assert set(re.findall(r"[A-Za-z]{2,}", words)) <= {"SVG"}, (path.name, words)
            else:
                assert not re.search(r"[\u0600-\u06FF]", words), (path.name, words)


def test_every_text_has_both_languages_with_the_same_placeholders() -> None:
    for key, languages in TEXTS.items():
        assert set(languages) == {"ar", "en"}, key
        assert all(languages.values()), key
        assert re.search(r"[\u0600-\u06FF]", languages["ar"]) or key == "other_language", key
        fields = [{name for _, name, _, _ in Formatter().parse(text) if name} for text in languages.values()]
        assert fields[0] == fields[1], key


def test_the_csv_is_hxl_with_the_documented_hashtags(tmp_path: Path) -> None:
    facts, _ = hand_scorecard()
    write_scorecard(facts, tmp_path, with_plots=False)
    dataset = hxl.data(io.BytesIO((tmp_path / "scorecard.csv").read_bytes())).cache()
    assert dataset.display_tags == HASHTAGS
    rows = list(dataset)
    assert {row.get("#indicator+code") for row in rows} <= COUNT_INDICATORS | ESTIMATE_INDICATORS
    assert {row.get("#meta+cohort+type") for row in rows} == {"agreement", "guarantor"}
    ag1 = [row for row in rows if row.get("#x_agreement+code") == "AG-1"]
    assert {row.get("#org+guarantor+name") for row in ag1} == {"Guarantor North"}
    assert hxl.validate(dataset)["is_valid"]
    text = (tmp_path / "scorecard.csv").read_text(encoding="utf-8")
    assert "ضامن الجنوب" in text


def test_plots_are_valid_png_and_svg_and_every_file_is_reproducible(tmp_path: Path) -> None:
    facts, _ = hand_scorecard()
    first = write_scorecard(facts, tmp_path / "one")
    second = write_scorecard(facts, tmp_path / "two")
    assert first.files == second.files
    for name in first.files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    pngs = [name for name in first.files if name.endswith(".png")]
    svgs = [name for name in first.files if name.endswith(".svg")]
    assert len(pngs) == len(svgs) >= 4
    for name in pngs:
        with Image.open(tmp_path / "one" / name) as image:
            assert image.format == "PNG" and image.width > 300
            image.verify()
    for name in svgs:
        assert ET.parse(tmp_path / "one" / name).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    page = Page((tmp_path / "one" / "agreement-AG-1.en.html").read_text(encoding="utf-8"))
    assert set(page.images) <= set(pngs) and page.images


def test_impossible_facts_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    facts, _ = hand_scorecard()
    first = facts.cohorts[0]
    broken = CohortFacts(**{**vars(first), "arrivals_by_month": {"2024-01": first.people + 1}})
    with pytest.raises(ValidationFailed) as raised:
        write_scorecard(ScorecardInput(facts.generated_on, (broken, *facts.cohorts[1:])), tmp_path / "out")
    assert raised.value.field == "cohorts[0].arrivals_by_month"
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValidationFailed, match="appears twice"):
        write_scorecard(ScorecardInput(facts.generated_on, (first, first)), tmp_path / "out")
