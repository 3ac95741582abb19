"""truth/manifest.json: seed, counts, parameters and the exact hazard model of a scenario."""

from __future__ import annotations

from datetime import date
from typing import Any

from awda.simulate import journeys, people, registration
from awda.simulate.agreements import (
    DAYS_PER_YEAR,
    MILITARY_AGE,
    STEP_DAY,
    TERM_COVERS,
    TERMINAL_TYPES,
    hazard_manifest,
)
from awda.simulate.places import SCENARIO_END, scenario_sites

FORMAT_VERSION = 1


def _sites() -> dict[str, Any]:
    return {
        site.code: {
            "place_pcode": site.place_pcode,
            "share": site.weight,
            "registration_window": [
                date.fromordinal(site.registration_start).isoformat(),
                date.fromordinal(site.registration_end).isoformat(),
            ],
            "convoy_weekday": site.convoy_weekday,
            "flows": [
                {
                    "intention": f.kind,
                    "destination_pcode": f.destination_pcode,
                    "weight": f.weight,
                    "agreement_id": f.agreement_id,
                    "mean_wait_days": f.mean_wait_days,
                    "travel_days": f.travel_days,
                }
                for f in site.flows
            ],
        }
        for site in scenario_sites()
    }


def _parameters() -> dict[str, Any]:
    return {
        "full_birth_date_share": people.FULL_BIRTH_DATE_SHARE,
        "household_size_weights": list(people.SIZE_WEIGHTS),
        "latin_only_share": registration.LATIN_ONLY_SHARE,
        "arabic_only_share": registration.ARABIC_ONLY_SHARE,
        "first_intention_fate": {
            "withdrawn": journeys.P_WITHDRAWN,
            "still_waiting": journeys.P_STILL_WAITING,
            "assignment_cancelled": journeys.P_ASSIGNMENT_CANCELLED,
            "turned_back": journeys.P_TURNED_BACK,
            "new_intention_after_cancel": journeys.P_NEW_INTENTION,
        },
        "followup_days": list(journeys.FOLLOWUP_DAYS),
    }


def _hazard_model() -> dict[str, Any]:
    return {
        "unit": "events per person-year",
        "days_per_year": DAYS_PER_YEAR,
        "step_day": STEP_DAY,
        "time_origin": "arrived_on of the person's movement (day 0)",
        "cohort": "agreement_id and intention of the movement",
        "profiles": {
            "military_age_man": f"male aged {MILITARY_AGE[0]}-{MILITARY_AGE[1]} on arrival",
            "adult": "anyone else aged 18 or more on arrival",
            "child": "under 18 on arrival",
        },
        "terminal_types": sorted(TERMINAL_TYPES),
        "term_covers": {kind: sorted(types) for kind, types in TERM_COVERS.items()},
        "observation": "from arrived_on to observed_until in movements.csv: the scenario end, "
        "or the first terminal incident",
        "hazards": hazard_manifest(),
        "journey": {
            "missing_probability": journeys.MISSING,
            "en_route_incident_probability": journeys.P_EN_ROUTE_INCIDENT,
            "note": "journey incidents (process=journey) are not drawn from the hazards",
        },
    }


def build_manifest(seed: int, households: int, counts: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to reproduce the scenario and to check statistics against its truth."""
    return {
        "generator": "awda.simulate",
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "households": households,
        "scenario_end": SCENARIO_END,
        "counts": counts,
        "parameters": {**_parameters(), **parameters},  # the scenario's own values win (a linkage mix)
        "sites": _sites(),
        "hazard_model": _hazard_model(),
    }
