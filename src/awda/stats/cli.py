"""`awda stats ...`: aggregate counts, and survival analysis of an analyst's own file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from awda.cli.common import JsonOption, emit, progress_bar, state
from awda.errors import ValidationFailed
from awda.stats import services

if TYPE_CHECKING:  # numpy loads only when a survival command runs
    from awda.stats.counts import CountTable

app = typer.Typer(help="Aggregate statistics (no personal data).", no_args_is_help=True)


@app.command("summary")
def summary_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Counts of households, persons, sites and intentions."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        data = services.summary(session, cli.actor())
    text = (
        f"households {data['households']}  persons {data['persons']}  sites {data['sites']}  "
        f"intentions {data['intentions']['total']} {data['intentions']['by_status']}"
    )
    emit(data, as_json, text)


@app.command("sites")
def sites_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Households and persons registered per site."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        rows = services.households_by_site(session, cli.actor())
    emit(rows, as_json, "\n".join(f"{r['site']:<16} {r['households']:>8} {r['persons']:>9}" for r in rows))


FromCsvOption = typer.Option(None, "--from-csv", help="A CSV or XLSX file, one row per person (header row 1).")
DurationOption = typer.Option(None, "--duration", help="Column of durations (>= 0; whole numbers stay whole).")
EventOption = typer.Option(
    None, "--event", help="Column of events: 0/1, true/false; with --competing 0 = censored, 1..k."
)
GroupOption = typer.Option(None, "--group", help="Column naming each row's group (one curve per group).")


def _survival_from_csv(
    file: Path | None, duration: str | None, event: str | None, group: str | None, competing: bool
) -> CountTable:
    """The counts of an analyst's file (the registry's counts come from SQL aggregates instead)."""
    from awda.stats.survival_csv import read_counts

    if file is None:
        raise ValidationFailed("--from-csv", "is required (a CSV or XLSX file)")
    if duration is None:
        raise ValidationFailed("--duration", "is required (the column of durations)")
    if event is None:
        raise ValidationFailed("--event", "is required (the column of events)")
    return read_counts(file, duration, event, group, competing)


def _survival_from_registry(
    ctx: typer.Context, by: str, min_verification: str, interval: str, alpha: float, competing: bool, as_json: bool
) -> None:
    """Curves of the registry's cohorts, disclosure-controlled (AWDA_DISCLOSURE_K) before they leave it."""
    from awda.stats.survival_report import survival_report

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        table = services.registry_counts(session, cli.actor(), by, min_verification)
    k = runtime.settings.disclosure_k
    report = services.disclosed(survival_report(table, interval, alpha, competing=False), k)
    if competing:
        report["cif"] = services.disclosed_incidence(table, interval, alpha, k)
    lines = [
        f"{name:<40} people {curve['at_risk'][0]:>7}  survival at day {curve['time'][-1]}: {curve['survival'][-1]:.3f}"
        for name, curve in report["groups"].items()
    ]
    lines.append(f"{report['suppressed_groups']} cohort(s) of fewer than {k} people not shown")
    emit(report, as_json, "\n".join(lines))


@app.command("survival")
def survival_command(
    ctx: typer.Context,
    by: str = typer.Option(None, "--by", help="From the registry: agreement, area, guarantor or profile."),
    min_verification: str = typer.Option("reported", help="With --by: count incidents verified at least this far."),
    from_csv: Path = FromCsvOption,
    duration: str = DurationOption,
    event: str = EventOption,
    group: str = GroupOption,
    ci: str = typer.Option("loglog", "--ci", help="Interval: loglog (lifelines, Stata) or log (R survfit)."),
    alpha: float = typer.Option(0.05, help="1 - confidence level of the intervals."),
    competing: bool = typer.Option(False, "--competing", help="Event codes are causes: add cumulative incidence."),
    as_json: bool = JsonOption,
) -> None:
    """Kaplan-Meier curves with intervals per group, log-rank test, cumulative incidence (docs/survival.md)."""
    from awda.stats.survival import check_interval
    from awda.stats.survival_report import survival_report, survival_text

    interval = check_interval(ci)
    if by is not None:
        _survival_from_registry(ctx, by, min_verification, interval, alpha, competing, as_json)
        return
    table = _survival_from_csv(from_csv, duration, event, group, competing)
    if as_json:
        emit(survival_report(table, interval, alpha, competing, grouped=group is not None), True)
    else:
        emit(None, False, survival_text(table, interval, alpha))


@app.command("hazard-steps")
def hazard_steps_command(
    from_csv: Path = FromCsvOption,
    duration: str = DurationOption,
    event: str = EventOption,
    group: str = GroupOption,
    max_steps: int = typer.Option(3, "--max-steps", help="Most change points to consider."),
    min_events: int = typer.Option(10, "--min-events", help="Fewest events in any segment."),
    permutations: int = typer.Option(999, "--permutations", help="Data sets simulated for the p-value (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulations (same seed, same p-value)."),
    as_json: bool = JsonOption,
) -> None:
    """Change points of a piecewise-constant hazard, each segment's hazard, and a p-value."""
    from awda.stats.hazard_steps import hazard_steps_by_group
    from awda.stats.survival_report import hazard_steps_json, hazard_steps_text

    table = _survival_from_csv(from_csv, duration, event, group, competing=False)
    found = hazard_steps_by_group(table, max_steps, min_events, permutations, seed)
    emit(hazard_steps_json(found), as_json, hazard_steps_text(found))


@app.command("scorecard")
def scorecard_command(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="Folder to write the scorecard into."),
    as_of: str = typer.Option(None, "--as-of", help="Report date (YYYY-MM-DD; default today)."),
    min_verification: str = typer.Option("reported", help="Count incidents verified at least this far."),
    k: int = typer.Option(None, "--k", min=2, help="Smallest count published (default AWDA_DISCLOSURE_K)."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Draw the survival and incidence plots."),
    as_json: bool = JsonOption,
) -> None:
    """Per agreement and guarantor: survival, incidents, arrivals, follow-up coverage; disclosure-controlled."""
    from datetime import date

    from awda.monitoring.scorecard_facts import scorecard_input
    from awda.stats.scorecard import write_scorecard

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise ValidationFailed("--as-of", "a date as YYYY-MM-DD") from None
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        facts = scorecard_input(session, cli.actor(), day, min_verification, k or runtime.settings.disclosure_k)
    with progress_bar("scorecard", len(facts.cohorts), not as_json) as advance:
        result = write_scorecard(facts, out, advance, with_plots=plots)
    summary = {
        "out": str(out),
        "cohorts": result.cohorts,
        "published_cohorts": result.published_cohorts,
        "suppressed_cohorts": result.suppressed_cohorts,
        "suppressed_cells": result.suppressed_cells,
        "files": list(result.files),
    }
    text = (
        f"{result.published_cohorts} of {result.cohorts} cohorts published ({result.suppressed_cells} cells withheld)"
        f" -> {out / 'index.html'}"
    )
    emit(summary, as_json, text)


@app.command("flows")
def flows_command(
    ctx: typer.Context,
    site: str = typer.Option(..., "--site", help="Code of the site, e.g. RUKBAN."),
    as_of: str = typer.Option(None, "--as-of", help="Report date (YYYY-MM-DD; default today)."),
    k: int = typer.Option(None, "--k", min=2, help="Smallest count published (default AWDA_DISCLOSURE_K)."),
    as_json: bool = JsonOption,
) -> None:
    """A site's population week by week, departures by destination and waiting times (small counts withheld)."""
    from datetime import date

    from awda.convoys.site_flows import site_flows_input
    from awda.stats.flows import flows_text, site_flows

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise ValidationFailed("--as-of", "a date as YYYY-MM-DD") from None
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        facts = site_flows_input(session, cli.actor(), site, day, k or runtime.settings.disclosure_k)
    report = site_flows(facts)
    emit(report, as_json, flows_text(report))
