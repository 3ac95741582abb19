"""Field files in: the simulator's arrivals, follow-ups and incidents, imported and checked against the truth."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.agreements.models import AgreementTerm
from awda.agreements.services import import_agreements
from awda.errors import ValidationFailed
from awda.households.importer import import_registrations
from awda.monitoring import importing
from awda.monitoring.models import Arrival, FollowUp, Incident, IncidentBreach
from awda.runtime import Runtime
from awda.simulate.field import FieldFiles, write_field_files
from awda.simulate.scenario import write_scenario
from tests.conftest import Done

SCENARIO_END = date(2022, 6, 30)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FieldFiles]:
    folder = tmp_path_factory.mktemp("scenario")
    write_scenario(folder, households=600, seed=11, workers=1)
    return folder, write_field_files(folder)


def _registry(runtime: Runtime, session: Session, folder: Path) -> None:
    import_registrations(session, runtime.vault, SYSTEM, folder / "registrations.csv")
    import_agreements(session, SYSTEM, folder / "truth" / "agreements.csv")


def _import_all(runtime: Runtime, session: Session, files: FieldFiles) -> list[dict[str, int]]:
    return [
        importing.import_arrivals(session, SYSTEM, files.arrivals),
        importing.import_followups(session, SYSTEM, files.followups),
        importing.import_incidents(session, runtime.vault, SYSTEM, files.incidents),
    ]


def _breaches_by_source(session: Session) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    query = (
        select(Incident.source_ref, AgreementTerm.code)
        .outerjoin(IncidentBreach, IncidentBreach.incident_id == Incident.id)
        .outerjoin(AgreementTerm, AgreementTerm.id == IncidentBreach.term_id)
    )
    for source_ref, code in session.execute(query).tuples():
        found.setdefault(str(source_ref), set()).update({code} if code else set())
    return found


@pytest.mark.usefixtures("gazetteer")
def test_the_scenario_imports_completely_and_idempotently(
    runtime: Runtime, session: Session, scenario: tuple[Path, FieldFiles], tmp_path: Path
) -> None:
    folder, files = scenario
    _registry(runtime, session, folder)
    arrivals, outcomes, incidents = _import_all(runtime, session, files)
    assert arrivals == {"rows": files.counts["arrivals"], "arrivals": files.counts["arrivals"], "skipped": 0}
    assert outcomes["recorded"] == files.counts["followups"] and incidents["incidents"] == files.counts["incidents"]
    assert session.scalar(select(func.count()).select_from(Arrival)) == files.counts["arrivals"]
    again = _import_all(runtime, session, files)
    assert [again[0]["arrivals"], again[1]["recorded"], again[2]["incidents"]] == [0, 0, 0]
    assert session.scalar(select(func.count()).select_from(Incident)) == files.counts["incidents"]
    open_due = session.scalars(select(FollowUp.due_on).where(FollowUp.outcome.is_(None))).all()
    # the simulator records every contact made before the scenario ended (a few days after the due date)
    assert all(due > SCENARIO_END - timedelta(days=14) for due in open_due)
    # the same follow-up with another outcome is refused, naming its row and field
    with files.followups.open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    changed = next(index for index, row in enumerate(rows) if row["outcome"] == "reached")
    rows[changed]["outcome"] = "refused"
    conflicting = tmp_path / "followups.csv"
    with conflicting.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(ValidationFailed) as refused:
        importing.import_followups(session, SYSTEM, conflicting)
    assert (refused.value.row, refused.value.field) == (changed + 2, "outcome")  # the header is line 1
    assert "reached is recorded already" in refused.value.message


@pytest.mark.usefixtures("gazetteer")
def test_breached_terms_are_those_of_the_truth(
    runtime: Runtime, session: Session, scenario: tuple[Path, FieldFiles]
) -> None:
    folder, files = scenario
    _registry(runtime, session, folder)
    _import_all(runtime, session, files)
    found = _breaches_by_source(session)
    with (folder / "truth" / "incidents.csv").open(encoding="utf-8") as handle:
        truth = [row for row in csv.DictReader(handle) if row["process"] == "hazard"]
    assert len(truth) > 50
    for row in truth:
        expected = row["breached_term_id"]
        assert (expected in found[row["incident_id"]]) if expected else found[row["incident_id"]] == set(), row


@pytest.mark.usefixtures("gazetteer")
def test_a_bad_row_is_named_and_nothing_is_written(
    runtime: Runtime, session: Session, scenario: tuple[Path, FieldFiles], tmp_path: Path
) -> None:
    folder, files = scenario
    _registry(runtime, session, folder)
    lines = files.arrivals.read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(",")
    cells[2] = "2019-02-30"
    broken = tmp_path / "arrivals.csv"
    broken.write_text("\n".join([*lines[:3], ",".join(cells), *lines[4:]]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as raised:
        importing.import_arrivals(session, SYSTEM, broken)
    assert raised.value.row == 4 and raised.value.field == "arrived_on"
    assert session.scalar(select(func.count()).select_from(Arrival)) == 0
    missing = tmp_path / "incidents.csv"
    missing.write_text("incident_id,type\nX,arrest\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="row 1, registration_uuid: column missing"):
        importing.import_incidents(session, runtime.vault, SYSTEM, missing)


def test_the_cli_imports_field_files_and_reports_overdue(
    awda: Callable[..., Done], scenario: tuple[Path, FieldFiles]
) -> None:
    folder, files = scenario
    awda("init", "--demo-gazetteer")
    awda("import", "registrations", str(folder / "registrations.csv"), "--json")
    awda("agreements", "import", str(folder / "truth" / "agreements.csv"))
    for nothing_yet in (["scorecard", "--out", str(folder / "early")], ["survival", "--by", "agreement"]):
        early = awda("stats", *nothing_yet, expect=2)  # before any arrival: one clear line, no file
        assert "arrivals: no arrival is recorded yet" in early.stderr, early.stderr
    assert not (folder / "early").exists()
    done = awda("import", "arrivals", str(files.arrivals), "--json")
    assert json.loads(done.stdout)["arrivals"] == files.counts["arrivals"]
    bad = awda("import", "followups", str(files.arrivals), expect=2)
    assert "row 1" in bad.stderr and "column missing" in bad.stderr
    overdue = json.loads(awda("monitoring", "overdue", "--today", "2022-06-30", "--json").stdout)
    assert overdue["total"] > 0 and all(item["days_overdue"] > 7 for item in overdue["items"])
    awda("import", "followups", str(files.followups))
    assert json.loads(awda("monitoring", "overdue", "--today", "2022-06-30", "--json").stdout)["total"] == 0
    awda("import", "incidents", str(files.incidents))
    report = json.loads(awda("stats", "survival", "--by", "agreement", "--competing", "--json").stdout)
    assert {"AG-2019-RUKBAN", "AG-2018-NHOMS"} <= set(report["groups"]) and report["logrank"]["df"] >= 3
    for curve in report["groups"].values():
        assert min(curve["at_risk"]) >= 10
        assert not [n for n in curve["events"] + curve["censored"] if n is not None and 0 < n < 10]
    assert report["groups"]["AG-2019-RUKBAN"]["survival"][-1] < 0.99  # returnees do get arrested
    assert set(report["cif"]["AG-2019-RUKBAN"]) == {"arrest_detention", "conscription", "death_disappearance"}
    profiles = json.loads(awda("stats", "survival", "--by", "profile", "--json").stdout)
    assert "male 18-42" in profiles["groups"]
    awda("stats", "survival", "--by", "household", expect=2)


def _small_counts(out: Path, k: int) -> list[str]:
    """Counts of 1..k-1 people anywhere in the scorecard's CSV or JSON (none may be published)."""
    from tests.test_scorecard import json_counts

    found = [f"json {key}={value}" for key, value in json_counts(json.loads((out / "scorecard.json").read_text()))]
    found = [item for item in found if 0 < int(item.rsplit("=", 1)[1]) < k and "day" not in item.split("=")[0]]
    with (out / "scorecard.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[1:]  # the HXL hashtag row first
    for row in rows:
        value = row["value"]
        if value.isdigit() and row["indicator"] not in {"survival", "incidence"} and 0 < int(value) < k:
            found.append(f"csv {row['indicator']} {row['month']} {row['day']}={value}")
    return found


@pytest.mark.usefixtures("gazetteer")
def test_the_registry_scorecard_publishes_nothing_small(
    runtime: Runtime, session: Session, scenario: tuple[Path, FieldFiles], tmp_path: Path
) -> None:
    from awda.monitoring.scorecard_facts import scorecard_input
    from awda.stats.scorecard import write_scorecard

    folder, files = scenario
    _registry(runtime, session, folder)
    _import_all(runtime, session, files)
    facts = scorecard_input(session, SYSTEM, SCENARIO_END, "reported", k=10)
    assert {cohort.key for cohort in facts.cohorts} >= {"AG-2019-RUKBAN", "Russian military police"}
    rukban = next(cohort for cohort in facts.cohorts if cohort.key == "AG-2019-RUKBAN")
    assert rukban.people == sum(rukban.arrivals_by_month.values()) and rukban.survival is not None
    assert (
        rukban.followups.due
        == sum(
            (rukban.followups.reached, rukban.followups.not_reached, rukban.followups.moved, rukban.followups.refused)
        )
        + rukban.followups.overdue
    )
    result = write_scorecard(facts, tmp_path / "scorecard", with_plots=False)
    assert result.published_cohorts >= 4 and result.suppressed_cells > 0
    assert _small_counts(tmp_path / "scorecard", 10) == []


def test_the_monitoring_commands_work_on_one_household(
    awda: Callable[..., Done], scenario: tuple[Path, FieldFiles]
) -> None:
    folder, _files = scenario
    awda("init", "--demo-gazetteer")
    awda("import", "registrations", str(folder / "registrations.csv"), "--json")
    awda("agreements", "import", str(folder / "truth" / "agreements.csv"))
    household = json.loads(awda("households", "list", "--site", "RUKBAN", "--limit", "1", "--json").stdout)
    uid = household["items"][0]["uid"]
    arrived = json.loads(
        awda("monitoring", "arrive", uid, "--on", "2021-01-10", "--place", "C4401", "--agreement", "AG-2019-RUKBAN",
             "--members", "1", "--json").stdout
    )  # fmt: skip
    assert len(arrived["arrival_ids"]) == 1 and arrived["followups_scheduled"] == 5
    awda("monitoring", "arrive", uid, "--on", "2021-01-10", "--place", "C4401", "--members", "1", expect=1)
    schedule = json.loads(awda("monitoring", "followups", uid, "--json").stdout)
    first = schedule[0]["followup_id"]
    awda("monitoring", "record", first, "--outcome", "reached", "--on", "2021-01-18", "--version", "1")
    awda("monitoring", "record", first, "--outcome", "reached", "--on", "2021-01-18", expect=1)
    awda("monitoring", "record", schedule[1]["followup_id"], "--outcome", "maybe", expect=2)
    incident = json.loads(
        awda("monitoring", "incident", "--type", "arrest", "--on", "2021-03-01", "--person", f"{uid}:1",
             "--perpetrator", "military_security", "--reporter", "a neighbour", "--json").stdout
    )  # fmt: skip
    assert incident["breached_terms"] and incident["has_reporter"] and "neighbour" not in json.dumps(incident)
    awda("monitoring", "incident", "--type", "arrest", "--on", "2021-03-01", "--person", f"{uid}", expect=2)
    awda("monitoring", "verify", incident["incident_id"], "credible", "--version", "1")
    listed = json.loads(awda("monitoring", "incidents", "--verification", "credible", "--json").stdout)
    assert [item["incident_id"] for item in listed["items"]] == [incident["incident_id"]]
    on_the_day = json.loads(awda("monitoring", "incidents", "--until", "2021-03-01", "--json").stdout)
    assert [item["households"] for item in on_the_day["items"]] == [[uid]]
    assert json.loads(awda("monitoring", "incidents", "--since", "2021-03-02", "--json").stdout)["total"] == 0
    awda("monitoring", "incidents", "--since", "March", expect=2)
    unreached = json.loads(awda("monitoring", "unreached", "--today", "2021-06-30", "--escalate", "--json").stdout)
    assert [item["household_id"] for item in unreached] == [uid]
    assert json.loads(awda("monitoring", "unreached", "--today", "2021-06-30", "--escalate", "--json").stdout) == []
    awda("monitoring", "assign", uid, "nobody", expect=2)
