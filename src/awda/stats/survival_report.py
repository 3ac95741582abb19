"""The JSON of `awda stats survival` and `awda stats hazard-steps`, built from counts (docs/survival.md).

Both the `--from-csv` path and the registry (counts aggregated in SQL) call these, so the output
is the same whatever the source. Undefined numbers (NaN) become null.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from awda.stats.counts import CountTable
from awda.stats.hazard_steps import HazardSteps
from awda.stats.incidence import CumulativeIncidence, incidence_curves
from awda.stats.logrank import logrank
from awda.stats.survival import SurvivalCurve, kaplan_meier

Json = dict[str, object]


def json_list(values: NDArray[np.generic]) -> list[object]:
    """Plain numbers (integers stay integers), NaN as None."""
    if np.issubdtype(values.dtype, np.integer):
        return list(values.tolist())
    return [None if math.isnan(value) else value for value in values.tolist()]


def curve_json(curve: SurvivalCurve) -> Json:
    return {
        "time": json_list(curve.time),
        "at_risk": json_list(curve.at_risk),
        "events": json_list(curve.events),
        "censored": json_list(curve.censored),
        "survival": json_list(curve.survival),
        "se": json_list(curve.se),
        "ci_lower": json_list(curve.ci_lower),
        "ci_upper": json_list(curve.ci_upper),
    }


def incidence_json(curves: dict[int, CumulativeIncidence]) -> Json:
    """{cause code (as text): {time, estimate, ci_lower, ci_upper}}."""
    return {
        str(cause): {
            "time": json_list(curve.time),
            "estimate": json_list(curve.estimate),
            "ci_lower": json_list(curve.ci_lower),
            "ci_upper": json_list(curve.ci_upper),
        }
        for cause, curve in curves.items()
    }


def survival_report(
    table: CountTable,
    interval: str = "loglog",
    alpha: float = 0.05,
    competing: bool = False,
    grouped: bool | None = None,
) -> Json:
    """`{"groups": {name: curve}, "logrank": {chi2, df, p} | None}`, plus `"cif"` with `competing`.

    Kaplan-Meier counts an event of any cause as an event. With `competing`, the top-level `"cif"`
    is the cumulative incidence of each cause over all records; when `grouped` (default: more than
    one group) each group's entry also carries its own `"cif"`.
    """
    curves = kaplan_meier(table, interval, alpha)
    groups: dict[str, Json] = {name: curve_json(curve) for name, curve in curves.items()}
    test = logrank(table)
    report: Json = {"groups": groups, "logrank": test.as_dict() if test is not None else None}
    if competing:
        if grouped if grouped is not None else len(table.groups) > 1:
            for group in table.groups:
                groups[group.name]["cif"] = incidence_json(incidence_curves(group, table.causes, interval, alpha))
        if table.groups:
            report["cif"] = incidence_json(incidence_curves(table.pooled(), table.causes, interval, alpha))
        else:
            report["cif"] = {}
    return report


def hazard_steps_json(found: dict[str, HazardSteps]) -> Json:
    """`{"groups": {name: {change_points, segments, ..., p_value}}}` (see `hazard_steps_by_group`)."""
    groups: dict[str, Json] = {}
    for name, steps in found.items():
        data = steps.as_dict()
        data["segments"] = [
            {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in segment.items()}
            for segment in steps.segment_dicts()
        ]
        groups[name] = data
    return {"groups": groups}


def survival_text(table: CountTable, interval: str = "loglog", alpha: float = 0.05) -> str:
    """A table per group and the log-rank line, for people (the JSON has everything)."""
    lines: list[str] = []
    for name, curve in kaplan_meier(table, interval, alpha).items():
        lines.append(f"{name}: {int(curve.at_risk[0])} records, {int(curve.events.sum())} events")
        lines.append(f"  {'time':>10} {'at risk':>8} {'events':>7} {'cens.':>6} {'survival':>9}  interval")
        for index in range(len(curve.time)):
            lines.append(
                f"  {curve.time[index]:>10} {curve.at_risk[index]:>8} {curve.events[index]:>7} "
                f"{curve.censored[index]:>6} {curve.survival[index]:>9.4f}  "
                f"[{curve.ci_lower[index]:.4f}, {curve.ci_upper[index]:.4f}]"
            )
    test = logrank(table)
    if test is not None:
        lines.append(f"log-rank: chi2 {test.chi2:.4f} on {test.df} df, p = {test.p:.4g}")
    return "\n".join(lines)


def hazard_steps_text(found: dict[str, HazardSteps]) -> str:
    """Change points, p-value and one line per segment (hazards per unit of the durations' time)."""
    lines: list[str] = []
    for name, steps in found.items():
        points = ", ".join(str(point) for point in steps.change_points) or "none"
        p_value = "not computed" if steps.p_value is None else f"{steps.p_value:.4g}"
        lines.append(f"{name}: change points {points}; p = {p_value}")
        for segment in steps.segments:
            end = "..." if segment.end is None else segment.end
            lines.append(
                f"  ({segment.start}, {end}]: {segment.events} events / {segment.exposure:.6g} person-time"
                f" = {segment.hazard:.4g} [{segment.ci_lower:.4g}, {segment.ci_upper:.4g}]"
            )
    return "\n".join(lines)
