"""`awda monitoring ...`: arrivals, follow-ups, escalations and incidents; `awda import` of field files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from awda.cli.common import JsonOption, day_or_today, emit, progress_bar, state
from awda.errors import ValidationFailed

app = typer.Typer(help="Post-return monitoring: arrivals, follow-ups, incidents.", no_args_is_help=True)
TodayOption = typer.Option(None, "--today", help="Report as of this date (default: today).")


def _members(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed("members", "member indexes separated by commas, for example 1,2,4") from None


@app.command("arrive")
def arrive_command(
    ctx: typer.Context,
    household: str = typer.Argument(..., help="The household's uid."),
    on: str = typer.Option(..., "--on", help="Date of arrival (YYYY-MM-DD)."),
    place: str = typer.Option(..., help="P-code of the community of arrival."),
    agreement: str = typer.Option(None, help="Code of the agreement they returned under."),
    members: str = typer.Option(None, help="Member indexes that arrived (default: all), for example 1,2,4."),
    intention: str = typer.Option("return", help="return, relocate or evacuate."),
    as_json: bool = JsonOption,
) -> None:
    """Record that members of a household arrived; schedules the household's follow-ups."""
    from awda.monitoring.arrivals import record_arrival
    from awda.monitoring.commands import ArrivalIn

    command = ArrivalIn.model_validate(
        {
            "household_uid": household,
            "member_indexes": _members(members),
            "arrived_on": day_or_today(on, "on"),
            "place": place,
            "agreement": agreement,
            "intention": intention,
        }
    )
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        recorded = record_arrival(session, cli.actor(), command)
    result = {"arrival_ids": recorded.arrival_uids, "followups_scheduled": recorded.followups_scheduled}
    emit(result, as_json, f"{len(recorded.arrival_uids)} arrived, {recorded.followups_scheduled} follow-ups scheduled")


@app.command("followups")
def followups_command(ctx: typer.Context, household: str, as_json: bool = JsonOption) -> None:
    """A household's follow-up schedule and outcomes."""
    from awda.monitoring.followups import followups_of_household

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        rows = followups_of_household(session, cli.actor(), household)
    lines = [
        f"{r['followup_id']}  day {r['days_after_arrival']:>3}  due {r['due_on']}  {r['outcome'] or '-'}" for r in rows
    ]
    emit(rows, as_json, "\n".join(lines) or "no follow-ups")


@app.command("overdue")
def overdue_command(
    ctx: typer.Context,
    monitor: str = typer.Option(None, help="Only this monitor's follow-ups."),
    today: str = TodayOption,
    limit: int = typer.Option(100, min=1, max=10_000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = JsonOption,
) -> None:
    """Follow-ups past their due date (and the grace days) with no outcome, oldest first."""
    from awda.monitoring.followups import overdue_followups

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        grace = runtime.settings.followup_grace_days
        page = overdue_followups(session, cli.actor(), day_or_today(today), grace, monitor, limit, offset)
    lines = [
        f"{i['followup_id']}  {i['household_id']}  {i['site']:<14} day {i['days_after_arrival']:>3}  "
        f"{i['days_overdue']:>4} days overdue  {i['monitor'] or '(unassigned)'}"
        for i in page["items"]
    ]
    emit(page, as_json, "\n".join([*lines, f"{page['total']} overdue"]))


@app.command("record")
def record_command(
    ctx: typer.Context,
    followup: str = typer.Argument(..., help="The follow-up's id."),
    outcome: str = typer.Option(..., help="reached, not_reached, moved or refused."),
    on: str = typer.Option(None, "--on", help="Date of the contact (default: today)."),
    version: int = typer.Option(None, help="The version you last read (refused if it changed since)."),
    as_json: bool = JsonOption,
) -> None:
    """Record the outcome of a follow-up; after `moved` the household's later follow-ups are cancelled."""
    from awda.monitoring.commands import FollowUpOutcomeIn
    from awda.monitoring.followups import record_outcome

    command = FollowUpOutcomeIn.model_validate({"outcome": outcome, "contacted_on": day_or_today(on, "on")})
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        new_version = record_outcome(session, cli.actor(), followup, command, version)
    emit({"followup_id": followup, "outcome": outcome, "version": new_version}, as_json, f"{followup}: {outcome}")


@app.command("assign")
def assign_command(ctx: typer.Context, household: str, monitor: str, as_json: bool = JsonOption) -> None:
    """Give a household's open follow-ups to a monitor who covers its site."""
    from awda.monitoring.followups import assign_followups

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        count = assign_followups(session, cli.actor(), household, monitor)
    emit({"household_id": household, "monitor": monitor, "followups": count}, as_json, f"{count} -> {monitor}")


@app.command("unreached")
def unreached_command(
    ctx: typer.Context,
    today: str = TodayOption,
    escalate: bool = typer.Option(False, help="Also mark them escalated (one event per household)."),
    as_json: bool = JsonOption,
) -> None:
    """Households with a follow-up due and no successful contact for too long (AWDA_FOLLOWUP_ESCALATE_DAYS)."""
    from awda.monitoring.followups import escalate_unreached, unreached_households

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        limit = runtime.settings.followup_escalate_days
        action = escalate_unreached if escalate else unreached_households
        rows = action(session, cli.actor(), day_or_today(today), limit)
    lines = [f"{r['household_id']}  last contact {r['last_contact']}  ({r['days']} days)" for r in rows]
    emit(rows, as_json, "\n".join([*lines, f"{len(rows)} household(s) not reached for over {limit} days"]))


def _person_refs(persons: list[str]) -> list[dict[str, Any]]:
    refs = []
    for text in persons:
        household, _, member = text.rpartition(":")
        if not household or not member.isdigit():
            raise ValidationFailed("person", f"{text!r}: write HOUSEHOLD_UID:MEMBER_INDEX")
        refs.append({"household_uid": household, "member_index": int(member)})
    return refs


@app.command("incident")
def incident_command(
    ctx: typer.Context,
    kind: str = typer.Option(..., "--type", help="arrest, detention, conscription, killing, ..."),
    on: str = typer.Option(..., "--on", help="Date of the incident (the first of the month or year if approximate)."),
    person: list[str] = typer.Option(..., help="A person affected, as HOUSEHOLD_UID:MEMBER_INDEX (repeat)."),
    precision: str = typer.Option("day", help="day, month or year: how exact the date is."),
    place: str = typer.Option(None, help="P-code of the place."),
    perpetrator: str = typer.Option("unknown", help="A category of unit or force, never a person's name."),
    source: str = typer.Option("other", help="household, community, monitor, partner_organisation, media, ..."),
    verification: str = typer.Option("reported", help="reported, credible or verified."),
    agreement: str = typer.Option(None, help="Default: the agreement the first person arrived under."),
    reporter: str = typer.Option(None, help="Who reported it (sealed; shown only to roles reading personal data)."),
    as_json: bool = JsonOption,
) -> None:
    """Record a protection incident; the agreement terms it breaches are worked out from the arrivals."""
    from awda.monitoring.commands import IncidentIn
    from awda.monitoring.incidents import incident_view, record_incident

    command = IncidentIn.model_validate(
        {
            "type": kind,
            "occurred_on": day_or_today(on, "on"),
            "date_precision": precision,
            "place": place,
            "persons": _person_refs(person),
            "perpetrator_category": perpetrator,
            "source": source,
            "verification": verification,
            "agreement": agreement,
            "reporter": {"name": reporter} if reporter else None,
        }
    )
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        uid = record_incident(session, runtime.vault, cli.actor(), command)
        view = incident_view(session, cli.actor(), uid)
    emit(view, as_json, f"incident {uid} recorded; breaches {', '.join(view['breached_terms']) or 'no term'}")


@app.command("incidents")
def incidents_command(
    ctx: typer.Context,
    kind: str = typer.Option(None, "--type"),
    agreement: str = typer.Option(None),
    verification: str = typer.Option(None),
    site: str = typer.Option(None, help="Only this site's incidents."),
    since: str = typer.Option(None, help="Only incidents on or after this date (YYYY-MM-DD)."),
    until: str = typer.Option(None, help="Only incidents on or before this date (YYYY-MM-DD)."),
    limit: int = typer.Option(100, min=1, max=10_000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = JsonOption,
) -> None:
    """List incidents in your sites, newest first (no reporter, no names)."""
    from awda.monitoring.incidents import IncidentFilter, list_incidents

    first = day_or_today(since, "since") if since else None
    last = day_or_today(until, "until") if until else None
    narrowed = IncidentFilter(kind, agreement, verification, site, first, last)
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        page = list_incidents(session, cli.actor(), limit=limit, offset=offset, narrowed=narrowed)
    lines = [
        f"{i['incident_id']}  {i['occurred_on']}  {i['type']:<22} {i['verification']:<9} {i['agreement'] or '-'}"
        for i in page["items"]
    ]
    emit(page, as_json, "\n".join([*lines, f"{page['total']} incident(s)"]))


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    incident: str,
    level: str = typer.Argument(..., help="reported, credible or verified."),
    version: int = typer.Option(None, help="The version you last read."),
    as_json: bool = JsonOption,
) -> None:
    """Change how far an incident is verified."""
    from awda.monitoring.commands import VerificationIn
    from awda.monitoring.incidents import set_verification

    checked = VerificationIn.model_validate({"verification": level})
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        new_version = set_verification(session, cli.actor(), incident, checked.verification, version)
    emit({"incident_id": incident, "verification": level, "version": new_version}, as_json, f"{incident}: {level}")


def _data_lines(file: Path) -> int | None:
    """Rows of a CSV for the progress bar (None for XLSX or a missing file: the importer reports that)."""
    if file.suffix.lower() != ".csv" or not file.is_file():
        return None
    with file.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def import_field_file(ctx: typer.Context, kind: str, file: Path, as_json: bool) -> None:
    """`awda import arrivals|followups|incidents FILE`: all or nothing, idempotent."""
    from awda.monitoring import importing

    cli = state(ctx)
    runtime = cli.runtime()
    total = _data_lines(file)
    with runtime.sessions() as session, progress_bar(f"importing {kind}", total, not as_json) as advance:
        if kind == "arrivals":
            result = importing.import_arrivals(session, cli.actor(), file, advance)
        elif kind == "followups":
            result = importing.import_followups(session, cli.actor(), file, advance)
        else:
            result = importing.import_incidents(session, runtime.vault, cli.actor(), file, advance)
    emit(result, as_json, ", ".join(f"{key} {value}" for key, value in result.items()))
