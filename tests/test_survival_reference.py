"""Kaplan-Meier, Nelson-Aalen and log-rank against the reference results (waltons, rossi, gehan).

Estimates must match to 1e-9; intervals too (the references state no looser tolerance, and the
formulas are the same). Null in a reference (undefined: the variance once S = 0) must be NaN here.
The same files also go through `awda stats survival --from-csv` and must give the same JSON values.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from awda.stats.counts import CountTable
from awda.stats.logrank import logrank
from awda.stats.survival import kaplan_meier, nelson_aalen, z_value
from tests.shared_data import reference_data

TOLERANCE = 1e-9
CASES = ["waltons.json", "rossi.json", "gehan_6mp_computed.json"]
KM_FIELDS = {
    "time": "time",
    "n_risk": "at_risk",
    "n_event": "events",
    "n_censor": "censored",
    "survival": "survival",
    "greenwood_var_logS": "variance",
    "se_S": "se",
}


def load(name: str) -> dict[str, Any]:
    with reference_data(f"survival/{name}").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def group_column(case: dict[str, Any]) -> str:
    return str(next(key for key in case["data"] if key not in {"time", "event"}))


def table_of(case: dict[str, Any]) -> CountTable:
    data = case["data"]
    labels = np.array([str(label) for label in data[group_column(case)]], dtype=object)
    return CountTable.from_records(np.array(data["time"]), np.array(data["event"]), labels)


def same(actual: Any, expected: list[float | None]) -> None:
    """Equal to TOLERANCE, with null in the reference exactly where NaN (or None) is here."""
    got = np.array([np.nan if value is None else value for value in np.asarray(actual).tolist()], dtype=float)
    want = np.array([np.nan if value is None else value for value in expected], dtype=float)
    assert got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=0, atol=TOLERANCE)


def test_the_conventions_are_the_ones_implemented() -> None:
    for name in CASES:
        conventions = load(name)["conventions"]
        assert conventions["z"] == pytest.approx(z_value(0.05), abs=1e-15)
        assert "censored at t are at risk at t" in conventions["ties"]
        assert conventions["n_risk"] == "number with time >= t"


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("interval", ["loglog", "log"])
def test_kaplan_meier_matches_every_group_and_the_pool(name: str, interval: str) -> None:
    case = load(name)
    table = table_of(case)
    curves = kaplan_meier(table, interval)
    curves["__pooled__"] = kaplan_meier(CountTable((table.pooled(),), table.causes), interval)["all"]
    assert set(curves) == set(case["km"])
    for group, expected in case["km"].items():
        curve = curves[group]
        for reference_field, attribute in KM_FIELDS.items():
            same(getattr(curve, attribute), expected[reference_field])
        same(curve.ci_lower, expected[f"ci_{interval}_lower"])
        same(curve.ci_upper, expected[f"ci_{interval}_upper"])
        assert curve.median() == expected["median_survival"]


@pytest.mark.parametrize("name", CASES)
def test_nelson_aalen_both_tie_conventions_and_lifelines_interval(name: str) -> None:
    case = load(name)
    table = table_of(case)
    plain = nelson_aalen(table, "nelson-aalen")
    tied = nelson_aalen(table, "fleming-harrington")
    for group, expected in case["nelson_aalen"].items():
        if group == "__pooled__":
            pooled = CountTable((table.pooled(),), table.causes)
            plain_curve = nelson_aalen(pooled, "nelson-aalen")["all"]
            tied_curve = nelson_aalen(pooled, "fleming-harrington")["all"]
        else:
            plain_curve, tied_curve = plain[group], tied[group]
        same(plain_curve.time, expected["time"])
        same(plain_curve.hazard, expected["cumhaz_na"])
        same(plain_curve.variance, expected["var_na_poisson"])
        same(tied_curve.hazard, expected["cumhaz_fh"])
        same(tied_curve.variance, expected["var_fh"])
        same(tied_curve.ci_lower, expected["lifelines_ci_lower"])
        same(tied_curve.ci_upper, expected["lifelines_ci_upper"])


@pytest.mark.parametrize("name", CASES)
def test_logrank_matches(name: str) -> None:
    case = load(name)
    expected = case["logrank"]
    result = logrank(table_of(case))
    assert result is not None
    assert result.groups == expected["groups"]
    same(result.observed, expected["observed"])
    same(result.expected, expected["expected"])
    assert np.allclose(result.variance, expected["variance_matrix"], rtol=0, atol=TOLERANCE)
    assert result.chi2 == pytest.approx(expected["chi2"], abs=TOLERANCE)
    assert result.df == expected["df"]
    assert result.p == pytest.approx(expected["p"], rel=1e-9)


def write_case_csv(case: dict[str, Any], path: Path) -> str:
    """The reference data as an analyst's file; whole-number weeks are written as integers."""
    column = group_column(case)
    data = case["data"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["weeks", "status", column])
        for time, event, label in zip(data["time"], data["event"], data[column], strict=True):
            writer.writerow([int(time) if float(time).is_integer() else time, event, label])
    return column


@pytest.mark.parametrize("name", CASES)
def test_the_cli_gives_the_reference_values(name: str, awda: Callable[..., Any], tmp_path: Path) -> None:
    case = load(name)
    column = write_case_csv(case, tmp_path / "case.csv")
    for interval in ("loglog", "log"):
        arguments = ["--duration", "weeks", "--event", "status", "--group", column, "--ci", interval, "--json"]
        report = json.loads(awda("stats", "survival", "--from-csv", str(tmp_path / "case.csv"), *arguments).stdout)
        assert list(report["groups"]) == [group for group in case["km"] if group != "__pooled__"]
        for group, curve in report["groups"].items():
            expected = case["km"][group]
            assert all(isinstance(time, int) for time in curve["time"])
            for reference_field, key in [("time", "time"), ("n_risk", "at_risk"), ("survival", "survival")]:
                same(curve[key], expected[reference_field])
            same(curve["se"], expected["se_S"])
            same(curve["ci_lower"], expected[f"ci_{interval}_lower"])
            same(curve["ci_upper"], expected[f"ci_{interval}_upper"])
        assert report["logrank"]["chi2"] == pytest.approx(case["logrank"]["chi2"], abs=TOLERANCE)
        assert report["logrank"]["df"] == case["logrank"]["df"]
