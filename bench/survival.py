"""Survival curves of awda against lifelines on the same returnees, in the same run.

    .venv/bin/python bench/survival.py [--people 1000000] [--agreements 200] [--rounds 2] [--json]

Both sides start from the same arrays (days since arrival, violation or not, agreement) and
produce a Kaplan-Meier curve with Greenwood log(-log) 95% intervals for every agreement plus the
log-rank test across all agreements. awda counts the records once (`CountTable.from_records`) and
works from the counts; lifelines fits a `KaplanMeierFitter` per agreement (grouped with pandas)
and runs `multivariate_logrank_test`. The results must agree (to 1e-9) before the times count.
Each side runs `--rounds` times and keeps its best time.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from awda.stats.counts import CountTable
from awda.stats.logrank import LogRank, logrank
from awda.stats.survival import SurvivalCurve, kaplan_meier

TARGET_RATIO = 20.0
TOLERANCE = 1e-9
STEP_DAY = 180  # hazards step up after six months, as in the simulator

Arrays = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


def returnees(people: int, agreements: int, seed: int) -> Arrays:
    """(days, violated, agreement code): cohorts of uneven sizes, hazards that step up at day 180."""
    rng = np.random.default_rng(seed)
    sizes = rng.lognormal(0.0, 0.8, agreements)
    agreement = rng.choice(agreements, size=people, p=sizes / sizes.sum())
    before = rng.uniform(0.02, 0.15, agreements)[agreement] / 365.25
    after = rng.uniform(0.1, 0.9, agreements)[agreement] / 365.25
    first = rng.exponential(1.0, people) / before
    times = np.where(first < STEP_DAY, first, STEP_DAY + rng.exponential(1.0, people) / after)
    horizon = rng.integers(1, 1300, people)
    violated = times < horizon
    days = np.where(violated, np.floor(times), horizon).astype(np.int64)
    return days, violated.astype(np.int64), agreement.astype(np.int64)


def awda_curves(data: Arrays, names: list[str]) -> tuple[dict[str, SurvivalCurve], LogRank | None]:
    days, violated, agreement = data
    table = CountTable.from_records(days, violated, agreement, group_names=names)
    return kaplan_meier(table), logrank(table)


def lifelines_curves(frame: Any) -> tuple[dict[str, Any], Any]:
    """A KaplanMeierFitter per agreement and the k-group log-rank test, as a lifelines user writes them."""
    from lifelines import KaplanMeierFitter  # type: ignore[import-untyped]
    from lifelines.statistics import multivariate_logrank_test  # type: ignore[import-untyped]

    fitted = {}
    with warnings.catch_warnings():  # pandas warns about lifelines' own frame building; not ours to fix
        warnings.simplefilter("ignore")
        for name, part in frame.groupby("agreement", sort=True):
            fitted[str(name)] = KaplanMeierFitter().fit(part["days"], part["violated"], label=str(name))
        test = multivariate_logrank_test(frame["days"], frame["agreement"], frame["violated"])
    return fitted, test


def best_time(rounds: int, work: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def differences(
    curves: dict[str, SurvivalCurve], test: LogRank | None, fitted: dict[str, Any], theirs: Any
) -> dict[str, float]:
    """Largest absolute differences of S and of the interval limits over every time of every curve."""
    survival = lower = upper = 0.0
    for name, curve in curves.items():
        fitter = fitted[name]
        at = fitter.survival_function_.index.get_indexer(curve.time)
        survival = max(survival, float(np.abs(fitter.survival_function_.to_numpy()[at, 0] - curve.survival).max()))
        bounds = fitter.confidence_interval_.to_numpy()[at]
        lower = max(lower, float(np.abs(bounds[:, 0] - curve.ci_lower).max()))
        upper = max(upper, float(np.abs(bounds[:, 1] - curve.ci_upper).max()))
    assert test is not None
    return {
        "survival": survival,
        "ci_lower": lower,
        "ci_upper": upper,
        "chi2_relative": abs(test.chi2 - float(theirs.test_statistic)) / float(theirs.test_statistic),
        "p": abs(test.p - float(theirs.p_value)),
    }


def run(people: int, agreements: int, seed: int, rounds: int = 2) -> dict[str, Any]:
    import pandas as pd  # type: ignore[import-untyped]

    data = returnees(people, agreements, seed)
    names = [f"AG-{code:04d}" for code in range(agreements)]
    frame = pd.DataFrame({"days": data[0], "violated": data[1], "agreement": np.array(names)[data[2]]})
    awda_seconds, (curves, test) = best_time(rounds, lambda: awda_curves(data, names))
    lifelines_seconds, (fitted, theirs) = best_time(rounds, lambda: lifelines_curves(frame))
    gaps = differences(curves, test, fitted, theirs)
    same = max(gaps["survival"], gaps["ci_lower"], gaps["ci_upper"], gaps["chi2_relative"]) <= TOLERANCE
    ratio = lifelines_seconds / awda_seconds
    return {
        "people": people,
        "agreements": len(curves),
        "events": int(data[1].sum()),
        "distinct_days": len(np.unique(data[0])),
        "awda_seconds": round(awda_seconds, 4),
        "lifelines_seconds": round(lifelines_seconds, 4),
        "ratio": round(ratio, 1),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
        "same_results": same,
        "largest_differences": gaps,
        "logrank": test.as_dict() if test is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--agreements", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.people, arguments.agreements, arguments.seed, arguments.rounds)
    if arguments.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['people']} returnees in {result['agreements']} agreements: awda {result['awda_seconds']} s, "
            f"lifelines {result['lifelines_seconds']} s, ratio {result['ratio']} (target {TARGET_RATIO}); "
            f"same results: {result['same_results']}"
        )


if __name__ == "__main__":
    main()
