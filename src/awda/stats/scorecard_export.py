"""The scorecard's machine-readable files: an HXL-tagged CSV and a JSON of exactly what was published.

Both render the same `Publication` as the HTML pages. A withheld count is an empty CSV value with
`#meta+suppressed` = `true`, and `null` in the JSON; the columns and hashtags are in docs/scorecard.md.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import asdict

from awda.exports import csv_writer
from awda.stats.scorecard_model import (
    FOLLOWUP_FIELDS,
    GRID_DAYS,
    PLOT_STEP_DAYS,
    Count,
    Publication,
    PublishedCohort,
)

# (column heading, HXL hashtag); the dictionary of HXL 1.1, with `#x_` extension tags where it has none.
CSV_COLUMNS = (
    ("cohort_type", "#meta+cohort+type"),
    ("agreement", "#x_agreement+code"),
    ("guarantor", "#org+guarantor+name"),
    ("name_en", "#meta+cohort+name+i_en"),
    ("name_ar", "#meta+cohort+name+i_ar"),
    ("indicator", "#indicator+code"),
    ("incident_type", "#event+type"),
    ("month", "#date+month"),
    ("day", "#x_day+num"),
    ("value", "#indicator+num"),
    ("ci_lower", "#indicator+num+ci_lower"),
    ("ci_upper", "#indicator+num+ci_upper"),
    ("suppressed", "#meta+suppressed"),
    ("reported", "#date+reported"),
)
# Indicators whose value is a number of people (or of follow-ups): the ones disclosure control governs.
COUNT_INDICATORS = frozenset(
    {"people", "households", "arrivals", "incidents", "incidents_total", "at_risk"}
    | {f"followups_{name}" for name in ("due", *FOLLOWUP_FIELDS)}
)
ESTIMATE_INDICATORS = frozenset(
    {"survival", "cumulative_incidence", "hazard_before", "hazard_after", "hazard_step_p_value", "cohort_suppressed"}
)
FORMAT = "awda-scorecard/1"

Row = dict[str, str]


def csv_text(publication: Publication) -> str:
    """The HXL-tagged CSV: a heading row, the hashtag row, then one row per published figure."""
    output = io.StringIO()
    writer = csv_writer(output, lineterminator="\n")  # cohort names come from agreement files
    writer.writerow([heading for heading, _ in CSV_COLUMNS])
    writer.writerow([hashtag for _, hashtag in CSV_COLUMNS])
    guarantors = _guarantor_of_agreements(publication)
    for cohort in publication.cohorts:
        base = _cohort_columns(cohort, guarantors, publication.generated_on)
        for row in _cohort_rows(cohort):
            writer.writerow([{**base, **row}.get(heading, "") for heading, _ in CSV_COLUMNS])
    return output.getvalue()


def _guarantor_of_agreements(publication: Publication) -> dict[str, str]:
    return {
        code: cohort.key for cohort in publication.cohorts if cohort.kind == "guarantor" for code in cohort.agreements
    }


def _cohort_columns(cohort: PublishedCohort, guarantors: dict[str, str], reported: str) -> Row:
    agreement = cohort.key if cohort.kind == "agreement" else ""
    guarantor = cohort.key if cohort.kind == "guarantor" else guarantors.get(cohort.key, "")
    return {
        "cohort_type": cohort.kind,
        "agreement": agreement,
        "guarantor": guarantor,
        "name_en": cohort.title_en,
        "name_ar": cohort.title_ar,
        "reported": reported,
    }


def _count(indicator: str, value: Count, **labels: str) -> Row:
    shown = "" if value is None else str(value)
    return {"indicator": indicator, "value": shown, "suppressed": "true" if value is None else "false", **labels}


def _estimate(
    indicator: str, value: float, lower: float | None = None, upper: float | None = None, **labels: str
) -> Row:
    row = {"indicator": indicator, "value": _decimal(value), "suppressed": "false", **labels}
    if lower is not None and upper is not None:
        row.update(ci_lower=_decimal(lower), ci_upper=_decimal(upper))
    return row


def _decimal(value: float) -> str:
    return format(value, ".4f")


def _cohort_rows(cohort: PublishedCohort) -> Iterator[Row]:
    if cohort.suppressed:
        yield {"indicator": "cohort_suppressed", "suppressed": "true"}
        return
    yield _count("people", cohort.people)
    yield _count("households", cohort.households)
    for month, value in cohort.arrivals:
        yield _count("arrivals", value, month=month)
    yield from _incident_rows(cohort)
    if cohort.followups is not None:
        for name in ("due", *FOLLOWUP_FIELDS):
            yield _count(f"followups_{name}", getattr(cohort.followups, name))
    yield from _curve_rows(cohort)


def _incident_rows(cohort: PublishedCohort) -> Iterator[Row]:
    table = cohort.incidents
    if table is None:
        return
    for month, counts in zip(table.months, table.counts, strict=True):
        for kind, value in zip(table.types, counts, strict=True):
            yield _count("incidents", value, incident_type=kind, month=month)
    for kind, value in zip(table.types, table.type_totals, strict=True):
        yield _count("incidents_total", value, incident_type=kind)


def _curve_rows(cohort: PublishedCohort) -> Iterator[Row]:
    if cohort.survival is not None:
        for point in cohort.survival.grid:
            day = str(point.day)
            yield _estimate("survival", point.survival, point.ci_lower, point.ci_upper, day=day)
            yield _count("at_risk", point.at_risk, day=day)
    for incidence in cohort.incidence:
        for one in incidence.grid:
            yield _estimate(
                "cumulative_incidence",
                one.estimate,
                one.ci_lower,
                one.ci_upper,
                incident_type=incidence.cause,
                day=str(one.day),
            )
    for step in cohort.hazard_steps:
        yield _estimate("hazard_before", step.hazard_before, day=str(step.day))
        yield _estimate("hazard_after", step.hazard_after, day=str(step.day))
    if cohort.hazard_step_p_value is not None:
        yield _estimate("hazard_step_p_value", cohort.hazard_step_p_value)


JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def json_text(publication: Publication, plots: dict[str, dict[str, str]], pages: dict[str, dict[str, str]]) -> str:
    """Everything the scorecard published, and nothing else (withheld counts are null)."""
    document: dict[str, JsonValue] = {
        "format": FORMAT,
        "generated_on": publication.generated_on,
        "k": publication.k,
        "grid_days": list(GRID_DAYS),
        "plot_step_days": PLOT_STEP_DAYS,
        "serious_types": list(publication.serious_types),
        "min_verification": publication.min_verification,
        "cohorts": [
            _cohort_json(cohort, plots.get(cohort.slug, {}), pages[cohort.slug]) for cohort in publication.cohorts
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _cohort_json(cohort: PublishedCohort, plots: dict[str, str], pages: dict[str, str]) -> dict[str, JsonValue]:
    head: dict[str, JsonValue] = {
        "kind": cohort.kind,
        "key": cohort.key,
        "title_en": cohort.title_en,
        "title_ar": cohort.title_ar,
        "terms": list(cohort.terms),
        "agreements": list(cohort.agreements),
        "suppressed": cohort.suppressed,
        "pages": dict(pages),
    }
    if cohort.suppressed:
        return head
    table = cohort.incidents
    incidents: JsonValue = None
    if table is not None:
        incidents = {
            "types": list(table.types),
            "months": [
                {"month": month, "counts": list(counts)}
                for month, counts in zip(table.months, table.counts, strict=True)
            ],
            "type_totals": list(table.type_totals),
        }
    return head | {
        "people": cohort.people,
        "households": cohort.households,
        "arrivals": [{"month": month, "count": value} for month, value in cohort.arrivals],
        "incidents": incidents,
        "followups": _plain(asdict(cohort.followups)) if cohort.followups else None,
        "survival": _plain(asdict(cohort.survival)) if cohort.survival else None,
        "incidence": [_plain(asdict(one)) for one in cohort.incidence],
        "hazard_steps": [_plain(asdict(step)) for step in cohort.hazard_steps],
        "hazard_step_p_value": cohort.hazard_step_p_value,
        "plots": dict(plots),
    }


def _plain(value: object) -> JsonValue:
    """Dataclass fields as JSON values (tuples become lists)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"not a JSON value: {type(value).__name__}")
