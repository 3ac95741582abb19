"""`awda convoys ...`: schedules, waiting lists, week plans, manifests, check-in and the missed-arrival alarm.

`awda convoys plan --waitlist W.csv --convoys C.csv --out PLAN.csv` also works on files alone,
with no registry (the standalone mode of docs/convoys.md).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

from awda.cli.common import CliState, JsonOption, day_or_today, emit, progress_bar, state
from awda.convoys.planner import DEFAULT_TIME_LIMIT
from awda.convoys.rules import Plan
from awda.errors import ValidationFailed

app = typer.Typer(help="Convoys: schedules, waiting lists, plans, manifests, check-in.", no_args_is_help=True)
TodayOption = typer.Option(None, "--today", help="As of this date (default: today).")


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("at", "a time as YYYY-MM-DDTHH:MM[+03:00]") from None


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    week: str = typer.Option(None, "--week", help="Plan the registry's convoys of this ISO week, e.g. 2026-W49."),
    waitlist: Path = typer.Option(None, "--waitlist", help="Standalone: waiting households CSV (docs/convoys.md)."),
    convoys: Path = typer.Option(None, "--convoys", help="Standalone: scheduled convoys CSV (docs/convoys.md)."),
    out: Path = typer.Option(None, "--out", help="Standalone: plan CSV to write: household_id,convoy_id."),
    time_limit: float = typer.Option(DEFAULT_TIME_LIMIT, "--time-limit", min=0.0, help="Seconds the solver may use."),
    notify: bool = typer.Option(True, "--notify/--no-notify", help="Send booked households their date."),
    as_json: bool = JsonOption,
) -> None:
    """Assign waiting households to convoys: priority to vulnerability, groups together, earlier registration first."""
    if week is not None:
        if waitlist or convoys or out:
            raise ValidationFailed("--week", "plans the registry; leave out --waitlist, --convoys and --out")
        result = plan_registry_week(state(ctx), week, time_limit, notify, progress=not as_json)
        emit(result, as_json, week_text(result))
        return
    if waitlist is None or convoys is None or out is None:
        missing = next(
            name for name, value in (("--waitlist", waitlist), ("--convoys", convoys), ("--out", out)) if value is None
        )
        raise ValidationFailed(
            missing, "is required: give --week W, or --waitlist W.csv --convoys C.csv --out PLAN.csv"
        )
    plan = plan_from_files(waitlist, convoys, out, time_limit, progress=not as_json)
    emit(plan.summary(), as_json, plan_text(plan, out))


def plan_registry_week(cli: CliState, week: str, time_limit: float, notify: bool, progress: bool) -> dict[str, Any]:
    """The registry mode: the week's convoys filled from the waiting lists, households told."""
    from awda.convoys.booking import notify_bookings, plan_week
    from awda.convoys.commands import PlanWeekIn
    from awda.convoys.messages import sender_from_setting

    command = PlanWeekIn(week=week, time_limit=time_limit, notify=notify)
    runtime, actor = cli.runtime(), cli.actor()
    with runtime.sessions() as session, progress_bar("planning", None, enabled=progress) as advance:
        planned = plan_week(session, actor, command, advance)
        result: dict[str, Any] = planned.summary()
        if notify:
            sender = sender_from_setting(runtime.settings.message_sender, runtime.settings.data_dir)
            days = runtime.settings.reconfirm_days
            result["messages"] = notify_bookings(session, runtime.vault, actor, planned.booked, sender, days)
    return result


def week_text(result: dict[str, Any]) -> str:
    lines = [
        f"{result['week']}: {len(result['convoys'])} convoys, {result['assigned_households']} households "
        f"({result['assigned_people']} people) booked, {result['unassigned_households']} wait",
        f"objective {result['objective']:g}, bound {result['bound']:g}",
    ]
    if "messages" in result:
        lines.append(
            f"{result['messages']['sent']} told their date, {result['messages']['unreachable']} without a phone"
        )
    return "\n".join(lines)


def plan_from_files(waitlist: Path, convoys: Path, out: Path, time_limit: float, progress: bool) -> Plan:
    """The standalone mode: files in, plan file out."""
    from awda.convoys.plancsv import plan_and_write, read_inputs

    households, scheduled = read_inputs(waitlist, convoys)
    with progress_bar("planning", len(households), enabled=progress) as advance:
        return plan_and_write(households, scheduled, out, time_limit, advance)


def plan_text(plan: Plan, out: Path) -> str:
    gap = (plan.bound - plan.objective) / plan.bound if plan.bound else 0.0
    proof = "proven optimal" if plan.optimal else f"within {gap:.3%} of the bound"
    lines = [
        f"{plan.assigned_households} households ({plan.assigned_people} people) assigned -> {out}",
        f"objective {plan.objective:g}, bound {plan.bound:g} ({proof}), {plan.seconds:.1f} s",
        f"{plan.unassigned_households} households wait, "
        f"{len(plan.without_eligible_convoy)} of them with no eligible convoy",
    ]
    return "\n".join(lines)


@app.command("schedule")
def schedule_command(
    ctx: typer.Context,
    code: str = typer.Option(..., "--code", help="The convoy's code, unique."),
    site: str = typer.Option(..., "--site", help="Code of the site it leaves from."),
    on: str = typer.Option(..., "--date", help="Day of departure (YYYY-MM-DD)."),
    destinations: str = typer.Option(..., "--destinations", help="P-codes it serves, separated by ';'."),
    seats: int = typer.Option(..., "--seats", help="Seats for passengers."),
    agreement: str = typer.Option(None, "--agreement", help="Code of the agreement it travels under."),
    guarantor: str = typer.Option("", "--guarantor", help="Who guarantees its safe passage."),
    as_json: bool = JsonOption,
) -> None:
    """Schedule a convoy."""
    from awda.convoys.commands import ConvoyIn
    from awda.convoys.services import schedule_convoy

    command = ConvoyIn.model_validate(
        {
            "code": code,
            "site": site,
            "departs_on": day_or_today(on, "date"),
            "destinations": [part for part in destinations.split(";") if part.strip()],
            "seats": seats,
            "agreement": agreement,
            "guarantor": guarantor,
        }
    )
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        schedule_convoy(session, cli.actor(), command)
    emit({"code": command.code}, as_json, f"scheduled {command.code}")


@app.command("list")
def list_command(
    ctx: typer.Context,
    week: str = typer.Option(None, "--week", help="Only convoys of this ISO week, e.g. 2026-W49."),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = JsonOption,
) -> None:
    """Convoys in your sites, earliest first, with bookings and safe-arrival rates."""
    from awda.convoys.services import list_convoys
    from awda.convoys.waitlist_rules import iso_week_bounds

    start = end = None
    if week is not None:
        try:
            start, end = iso_week_bounds(week)
        except ValueError as error:
            raise ValidationFailed("--week", str(error)) from None
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        page = list_convoys(session, cli.actor(), start, end, limit, offset)
    emit(page, as_json, "\n".join(convoy_line(item) for item in page["items"]) or "no convoys")


def convoy_line(view: dict[str, Any]) -> str:
    safe = view["safe_arrival"]
    rate = f"{safe['arrived']}/{safe['departed']} arrived" if safe["departed"] else "not left"
    return (
        f"{view['code']}  {view['departs_on']}  {view['origin']} -> {';'.join(view['destinations'])}  "
        f"{view['booked_people']}/{view['seats']} seats  {view['status']}  {rate}"
    )


@app.command("show")
def show_command(ctx: typer.Context, code: str, as_json: bool = JsonOption) -> None:
    """One convoy: seats, bookings, status and its safe-arrival rate with a 95% interval."""
    from awda.convoys.services import convoy_view

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        view = convoy_view(session, cli.actor(), code)
    emit(view, as_json, convoy_line(view))


@app.command("waitlist")
def waitlist_command(
    ctx: typer.Context,
    origin: str = typer.Option(None, "--origin", help="Site code; with --destination, one list in order."),
    destination: str = typer.Option(None, "--destination", help="P-code of the destination."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0),
    today: str = TodayOption,
    as_json: bool = JsonOption,
) -> None:
    """The waiting lists in your sites, or one list in its documented order with positions and expected weeks."""
    from awda.convoys.waitlists import list_summaries, waiting_list

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        if origin is None or destination is None:
            lists = list_summaries(session, cli.actor())
            lines = [
                f"{i['origin']} -> {i['destination']}: {i['households']} households, {i['people']} people"
                for i in lists
            ]
            emit(lists, as_json, "\n".join(lines) or "nobody is waiting")
            return
        days = cli.runtime().settings.waitlist_priority_days
        page = waiting_list(
            session, cli.actor(), origin, destination, day_or_today(today, "today"), limit, offset, days
        )
    lines = [
        f"{i['position']:>5}  {i['household']}  {i['people']} people  since {i['waiting_since']}  "
        f"{i['expected_week'] or 'no date yet'}{' (estimate)' if i['expected_date_estimated'] else ''}"
        for i in page["items"]
    ]
    emit(page, as_json, "\n".join(lines) or "nobody is waiting on this list")


@app.command("manifest")
def manifest_command(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The convoy's code."),
    out: Path = typer.Option(..., "--out", help="Folder for CODE.pdf and CODE.csv."),
    as_json: bool = JsonOption,
) -> None:
    """Print a convoy's manifest: a PDF for the bus (Arabic and English) and a CSV (HXL-tagged)."""
    from awda.convoys.manifest import manifest_csv, manifest_pdf
    from awda.convoys.manifests import convoy_manifest

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        manifest = convoy_manifest(session, runtime.vault, cli.actor(), code, runtime.settings.reconfirm_days)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / manifest.convoy_code
    with stem.with_suffix(".csv").open("w", encoding="utf-8", newline="") as handle:
        rows = manifest_csv(manifest, handle)
    stem.with_suffix(".pdf").write_bytes(manifest_pdf(manifest))
    result = {"convoy": manifest.convoy_code, "households": manifest.household_count, "people": rows,
              "pdf": str(stem.with_suffix(".pdf")), "csv": str(stem.with_suffix(".csv"))}  # fmt: skip
    emit(result, as_json, f"{manifest.household_count} households, {rows} people -> {result['pdf']}, {result['csv']}")


@app.command("depart")
def depart_command(ctx: typer.Context, code: str, as_json: bool = JsonOption) -> None:
    """Close boarding: booked households that did not board go back to their list, in their place."""
    from awda.convoys.booking import depart_convoy

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        result = depart_convoy(session, cli.actor(), code, runtime.settings.reconfirm_days)
    released = result["released"]
    emit(result, as_json, f"{code} left with {result['boarded_households']} households; released {released}")


@app.command("checkin")
def checkin_command(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The convoy's code."),
    persons: list[str] = typer.Option(None, "--person", help="A person's uid; repeat for each person."),
    arrival: bool = typer.Option(False, "--arrival/--departure", help="Check in at arrival (default: departure)."),
    at: str = typer.Option(None, "--at", help="When (ISO time; default: now)."),
    as_json: bool = JsonOption,
) -> None:
    """Check people in at the bus (departure) or at the destination (arrival)."""
    from awda.convoys.checkin import check_in_arrival, check_in_departure
    from awda.convoys.commands import CheckInIn

    if not persons:
        raise ValidationFailed("--person", "name at least one person (--person UID, repeated)")
    command = CheckInIn(persons=persons, at=_instant(at))
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        if arrival:
            result = check_in_arrival(session, cli.actor(), code, command)
        else:
            result = check_in_departure(session, cli.actor(), code, command, runtime.settings.reconfirm_days)
    kind = "arrival" if arrival else "departure"
    emit(result, as_json, f"{result['checked_in']} checked in at {kind} ({result['already']} already were)")


@app.command("missing")
def missing_command(
    ctx: typer.Context,
    hours: int = typer.Option(None, "--hours", min=1, help="Hours after departure (default AWDA_ARRIVAL_ALARM_HOURS)."),
    raise_alarm: bool = typer.Option(False, "--raise-alarm", help="Record the alarm (once per convoy)."),
    as_json: bool = JsonOption,
) -> None:
    """The missed-arrival alarm: people who departed and were not confirmed at arrival in time."""
    from awda.convoys.checkin import missed_arrivals

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        wait = hours or runtime.settings.arrival_alarm_hours
        result = missed_arrivals(session, cli.actor(), wait, raise_alarm=raise_alarm)
    lines = [
        f"{c['convoy']} ({c['departs_on']}): {len(c['persons'])} not confirmed at arrival" for c in result["convoys"]
    ]
    emit(result, as_json, "\n".join(lines) or f"everyone who left more than {wait} hours ago has arrived")
    if result["total"]:
        raise typer.Exit(3)  # scripts and cron see the alarm in the exit status


@app.command("pin")
def pin_command(ctx: typer.Context, household: str, as_json: bool = JsonOption) -> None:
    """Give a household its reference code and a new PIN (shown once) for its own status lookup."""
    from awda.convoys.selfservice import issue_pin

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        issued = issue_pin(session, runtime.vault, cli.actor(), household)
    emit(issued, as_json, f"reference {issued['reference']}  PIN {issued['pin']} (write it on the household's slip)")


@app.command("status")
def status_command(
    ctx: typer.Context,
    reference: str = typer.Option(..., "--reference", help="The household's reference code."),
    pin: str = typer.Option(..., "--pin", prompt=True, hide_input=True, help="The household's PIN."),
    reconfirm: bool = typer.Option(False, "--reconfirm", help="Also re-confirm the wish to travel."),
    as_json: bool = JsonOption,
) -> None:
    """A household's own status (for a helpline reading it out): needs its reference and PIN, no account."""
    from awda.convoys.selfservice import Limits, household_status, reconfirm_by_household

    runtime = state(ctx).runtime()
    settings = runtime.settings
    limits = Limits(
        settings.pin_max_failures, settings.pin_lock_minutes, settings.reconfirm_days, settings.waitlist_priority_days
    )
    with runtime.sessions() as session:
        act = reconfirm_by_household if reconfirm else household_status
        view = act(session, runtime.vault, reference, pin, date.today(), limits)
    emit(view, as_json, status_text(view))


def status_text(view: dict[str, Any]) -> str:
    lines = [f"reference {view['reference']}: {view['status']}"]
    if "position" in view:
        lines.append(f"position {view['position']}, expected week {view.get('expected_week') or 'not yet known'}")
    if "convoy" in view:
        convoy = view["convoy"]
        done = "re-confirmed" if convoy["reconfirmed"] else f"re-confirm from {convoy['reconfirm_from']}"
        lines.append(f"convoy on {convoy['departs_on']}: {done}")
    return "\n".join(lines)
