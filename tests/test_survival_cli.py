"""`awda stats survival` and `awda stats hazard-steps` on analysts' files, and their errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from awda.errors import ValidationFailed
from awda.stats.survival_csv import read_counts


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_json(awda: Callable[..., Any], *arguments: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(awda("stats", *arguments, "--json").stdout)
    return result


def test_one_group_keeps_float_times_and_has_no_logrank(awda: Callable[..., Any], tmp_path: Path) -> None:
    file = write(tmp_path / "d.csv", "months,event\n1.5,true\n3,false\n0.5,FALSE\n3,1\n")
    report = run_json(awda, "survival", "--from-csv", file, "--duration", "months", "--event", "event")
    assert list(report) == ["groups", "logrank"]
    assert report["logrank"] is None
    curve = report["groups"]["all"]
    assert curve["time"] == [0.5, 1.5, 3.0]
    assert curve["at_risk"] == [4, 3, 2]
    assert curve["events"] == [0, 1, 1]
    assert curve["censored"] == [1, 0, 1]
    assert curve["survival"] == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert set(curve) == {"time", "at_risk", "events", "censored", "survival", "se", "ci_lower", "ci_upper"}


COMPETING = "days,cause,area\n0,1,north\n2,1,north\n2,2,south\n2,0,south\n3,2,north\n5,0,south\n7,3,north\n"


def test_competing_adds_top_level_cif_for_all_records(awda: Callable[..., Any], tmp_path: Path) -> None:
    file = write(tmp_path / "c.csv", COMPETING)
    report = run_json(awda, "survival", "--from-csv", file, "--duration", "days", "--event", "cause", "--competing")
    assert list(report["cif"]) == ["1", "2", "3"]
    first = report["cif"]["1"]
    assert first["time"] == report["groups"]["all"]["time"] == [0, 2, 3, 5, 7]
    assert first["estimate"][:2] == pytest.approx([1 / 7, 2 / 7])
    assert "cif" not in report["groups"]["all"]
    survival = report["groups"]["all"]["survival"]
    totals = np.array([report["cif"][c]["estimate"] for c in "123"]).sum(axis=0) + survival
    assert np.allclose(totals, 1.0, atol=1e-12)


def test_grouped_competing_puts_a_cif_in_every_group(awda: Callable[..., Any], tmp_path: Path) -> None:
    file = write(tmp_path / "c.csv", COMPETING)
    arguments = ("--duration", "days", "--event", "cause", "--group", "area", "--competing", "--ci", "log")
    report = run_json(awda, "survival", "--from-csv", file, *arguments)
    assert list(report["groups"]) == ["north", "south"]
    assert report["groups"]["north"]["cif"]["1"]["estimate"][0] == pytest.approx(1 / 4)
    assert report["groups"]["south"]["cif"]["1"]["estimate"] == [0.0, 0.0]
    assert list(report["cif"]) == ["1", "2", "3"]
    assert report["logrank"]["df"] == 1


def test_without_competing_any_non_zero_code_is_an_event(awda: Callable[..., Any], tmp_path: Path) -> None:
    file = write(tmp_path / "c.csv", COMPETING)
    report = run_json(awda, "survival", "--from-csv", file, "--duration", "days", "--event", "cause")
    assert report["groups"]["all"]["events"] == [1, 2, 1, 0, 1]
    assert "cif" not in report


def test_text_output_is_a_table(awda: Callable[..., Any], tmp_path: Path) -> None:
    file = write(tmp_path / "c.csv", COMPETING)
    out = awda("stats", "survival", "--from-csv", file, "--duration", "days", "--event", "cause", "--group", "area")
    assert "north: 4 records" in out.stdout
    assert "log-rank: chi2" in out.stdout


BASE = ("--duration", "days", "--event", "cause")


BAD_INPUTS = [
    ("days,cause\n1,1\n", ("--duration", "days", "--event", "outcome"), "row 1, outcome: column is missing"),
    ("days,cause\n1,1\nsoon,0\n", BASE, "row 3, days: 'soon' is not a number"),
    ("days,cause\n1,1\n2,0\n-4,1\n", BASE, "row 4, days: '-4' is negative"),
    ("days,cause\n1,1\n,1\n", BASE, "row 3, days: is empty"),
    ("days,cause\n1,1\n2,maybe\n", BASE, "row 3, cause: 'maybe' is not an event"),
    ("days,cause\n1,1\n2,1.5\n", (*BASE, "--competing"), "row 3, cause: '1.5' is not an event code"),
    ("days,cause\n1,1\n2,-1\n", (*BASE, "--competing"), "row 3, cause: '-1' is not an event code"),
    ("days,cause\n1,1\n2\n", BASE, "row 3, cause: is missing"),
    ("days,cause\n", BASE, "row 2, file: has no data rows"),
    ("days,cause\n1,1\n", (*BASE, "--ci", "plain"), "ci: must be one of loglog, log"),
    ("days,cause\n1,1\n", (*BASE, "--alpha", "2"), "alpha: must be between 0 and 1"),
]


def test_bad_input_is_one_line_naming_row_and_column(awda: Callable[..., Any], tmp_path: Path) -> None:
    for number, (text, arguments, message) in enumerate(BAD_INPUTS):
        file = write(tmp_path / f"bad{number}.csv", text)
        done = awda("stats", "survival", "--from-csv", file, *arguments, "--json", expect=2)
        assert len(done.stderr.strip().splitlines()) == 1, text
        assert done.stderr.startswith("error: ")
        assert message in done.stderr, (message, done.stderr)
        assert done.stdout == ""


def test_a_required_option_is_named(awda: Callable[..., Any], tmp_path: Path) -> None:
    file = write(tmp_path / "d.csv", "days,cause\n1,1\n")
    done = awda("stats", "survival", "--from-csv", file, "--event", "cause", expect=2)
    assert "--duration: is required" in done.stderr


def test_the_reader_names_the_field_and_row(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as error:
        read_counts(Path(write(tmp_path / "d.csv", "t,e\n1,1\n2,x\n")), "t", "e")
    assert (error.value.row, error.value.field) == (3, "e")


def test_hazard_steps_command(awda: Callable[..., Any], tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    early, late = rng.exponential(365.25 / 0.1, 1500), 180 + rng.exponential(365.25 / 0.8, 1500)
    truth = np.where(early < 180, early, late)
    censor = rng.uniform(200, 900, 1500)
    pairs = enumerate(zip(truth, censor, strict=True))
    rows = "\n".join(f"{int(min(t, c))},{int(t <= c)},{'ab'[i % 2]}" for i, (t, c) in pairs)
    file = write(tmp_path / "s.csv", "days,violation,cohort\n" + rows + "\n")
    arguments = ("--duration", "days", "--event", "violation", "--group", "cohort", "--permutations", "19")
    report = run_json(awda, "hazard-steps", "--from-csv", file, *arguments, "--seed", "4", "--max-steps", "2")
    assert list(report["groups"]) == ["a", "b"]
    for steps in report["groups"].values():
        assert len(steps["change_points"]) >= 1
        assert min(abs(point - 180) for point in steps["change_points"]) <= 30
        assert steps["p_value"] == pytest.approx(0.05)
        assert steps["segments"][0]["start"] == 0
        assert steps["segments"][-1]["end"] is None
        assert steps["segments"][0]["hazard"] < steps["segments"][-1]["hazard"]
        assert (steps["seed"], steps["simulations"], steps["max_steps"], steps["min_events"]) == (4, 19, 2, 10)
    text = awda("stats", "hazard-steps", "--from-csv", file, *arguments)
    assert "a: change points" in text.stdout
