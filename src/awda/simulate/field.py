"""The scenario as field teams would report it: arrivals, follow-up outcomes and incidents in awda's import formats.

`truth/` names true people (`P00000042-01`); field files name them as the registration that
first listed them does (`registration_uuid`, `member_index`), which is how awda finds them.
Re-registrations (duplicates) are not used: linking them is the linkage engine's job.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ARRIVALS = ("registration_uuid", "member_index", "arrived_on", "place_pcode", "agreement_id", "intention", "convoy_id")
FOLLOWUPS = ("registration_uuid", "arrived_on", "days_after_arrival", "outcome", "contacted_on")
INCIDENTS = (
    "incident_id",
    "registration_uuid",
    "member_index",
    "type",
    "date",
    "place_pcode",
    "perpetrator_category",
    "source",
    "verification",
    "agreement_id",
)


@dataclass(frozen=True)
class FieldFiles:
    arrivals: Path
    followups: Path
    incidents: Path
    counts: dict[str, int]


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _first_registrations(truth: Path) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """person_id -> (registration uuid, member index); household_id -> registration uuid."""
    persons: dict[str, tuple[str, str]] = {}
    households: dict[str, str] = {}
    for row in _rows(truth / "registration_rows.csv"):
        if row["is_duplicate"] == "true":
            continue
        persons.setdefault(row["person_id"], (row["_uuid"], row["member_index"]))
        households.setdefault(row["household_id"], row["_uuid"])
    return persons, households


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> int:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


def _arrivals(truth: Path, persons: dict[str, tuple[str, str]]) -> list[tuple[str, ...]]:
    destinations = {row["convoy_id"]: row["destination_pcode"] for row in _rows(truth / "convoys.csv")}
    rows = []
    for row in _rows(truth / "movements.csv"):
        if row["outcome"] != "arrived" or row["person_id"] not in persons:
            continue
        uuid, member = persons[row["person_id"]]
        place = destinations[row["convoy_id"]]
        rows.append((uuid, member, row["arrived_on"], place, row["agreement_id"], row["intention"], row["convoy_id"]))
    return sorted(rows, key=lambda r: (r[2], r[0], int(r[1])))


def _followups(truth: Path, households: dict[str, str]) -> list[tuple[str, ...]]:
    rows = []
    for row in _rows(truth / "followups.csv"):
        if row["household_id"] not in households:
            continue
        days = int(row["days_after_arrival"])
        arrived = date.fromisoformat(row["scheduled_on"]) - timedelta(days=days)
        uuid = households[row["household_id"]]
        rows.append((uuid, arrived.isoformat(), str(days), row["outcome"], row["contacted_on"]))
    return sorted(rows, key=lambda r: (r[1], r[0], int(r[2])))


def _incidents(truth: Path, persons: dict[str, tuple[str, str]]) -> list[tuple[str, ...]]:
    rows = []
    for row in _rows(truth / "incidents.csv"):
        if row["person_id"] not in persons:
            continue
        uuid, member = persons[row["person_id"]]
        source = "monitor" if row["process"] == "journey" else "household"
        rows.append(
            (
                row["incident_id"],
                uuid,
                member,
                row["type"],
                row["date"],
                row["place_pcode"],
                row["perpetrator_category"],
                source,
                row["verification"],
                row["agreement_id"],
            )
        )
    return sorted(rows, key=lambda r: (r[4], r[0]))


def write_field_files(scenario: Path, out_dir: Path | None = None) -> FieldFiles:
    """Write `field/arrivals.csv`, `field/followups.csv` and `field/incidents.csv` of a written scenario."""
    truth = scenario / "truth"
    target = out_dir or scenario / "field"
    target.mkdir(parents=True, exist_ok=True)
    persons, households = _first_registrations(truth)
    files = FieldFiles(target / "arrivals.csv", target / "followups.csv", target / "incidents.csv", {})
    files.counts["arrivals"] = _write(files.arrivals, ARRIVALS, _arrivals(truth, persons))
    files.counts["followups"] = _write(files.followups, FOLLOWUPS, _followups(truth, households))
    files.counts["incidents"] = _write(files.incidents, INCIDENTS, _incidents(truth, persons))
    return files
