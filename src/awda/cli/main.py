"""The `awda` command: set-up, demo, server, simulator, imports and one group per domain."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from awda.access import cli as users_cli
from awda.agreements import cli as agreements_cli
from awda.audit import cli as audit_cli
from awda.backup import cli as backup_cli
from awda.cards import cli as cards_cli
from awda.cli import setup
from awda.cli.common import CliState, JsonOption, emit, progress_bar, state
from awda.convoys import cli as convoys_cli
from awda.db import written_meanwhile
from awda.errors import AwdaError
from awda.field import cli as field_cli
from awda.households import cli as households_cli
from awda.linkage import cli as linkage_cli
from awda.linkage import dedupe_cli, names_cli
from awda.monitoring import cli as monitoring_cli
from awda.places import cli as places_cli
from awda.retention import cli as retention_cli
from awda.stats import cli as stats_cli
from awda.vault import VaultError

app = typer.Typer(
    help="awda: registry for displaced people going home, and those who help them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
import_app = typer.Typer(help="Import files.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(households_cli.app, name="households")
app.add_typer(users_cli.app, name="users")
app.add_typer(places_cli.app, name="places")
app.add_typer(stats_cli.app, name="stats")
app.add_typer(agreements_cli.app, name="agreements")
app.add_typer(cards_cli.app, name="cards")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(convoys_cli.app, name="convoys")
app.add_typer(monitoring_cli.app, name="monitoring")
app.add_typer(field_cli.app, name="field")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(linkage_cli.app, name="linkage")
app.add_typer(names_cli.app, name="names")
app.command("backup")(backup_cli.backup_command)
app.command("restore")(backup_cli.restore_command)
app.command("dedupe")(dedupe_cli.dedupe_command)


@app.callback()
def root(
    ctx: typer.Context,
    user: str = typer.Option(
        None, "--user", envvar="AWDA_USER", help="Act as this account (default: the local operator, 'system')."
    ),
) -> None:
    ctx.obj = CliState(user)
    ctx.call_on_close(ctx.obj.close)


@app.command("init")
def init_command(
    ctx: typer.Context,
    demo_gazetteer: bool = typer.Option(False, help="Also load the demo gazetteer."),
    as_json: bool = JsonOption,
) -> None:
    """Create the data folder, the master keyfile (if absent) and the schema; create the first admin."""
    result = setup.initialise(state(ctx), demo_gazetteer)
    emit(result, as_json, setup.init_text(result))


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    households: int = typer.Option(2000, help="Households to simulate."),
    seed: int = typer.Option(7),
    serve: bool = typer.Option(True, "--serve/--no-serve"),
    as_json: bool = JsonOption,
) -> None:
    """Simulate a scenario, import it, print a summary and the admin credentials, then serve."""
    cli = state(ctx)
    result = setup.run_demo(cli, households, seed, progress=not as_json)
    emit(result, as_json, setup.demo_text(result))
    if serve:
        setup.serve(cli.runtime().settings)


@app.command("serve")
def serve_command(host: str = typer.Option(None), port: int = typer.Option(None)) -> None:
    """Serve the JSON API (and later the pages) on the configured address."""
    from awda.settings import Settings

    setup.serve(Settings(), host, port)


@app.command("simulate")
def simulate_command(
    households: int = typer.Option(..., help="Number of households."),
    seed: int = typer.Option(1),
    out: Path = typer.Option(..., help="Output folder."),
    duplicates: float = typer.Option(None, help="Share of duplicate registrations (0 to 0.5), for linkage tests."),
    year_only: float = typer.Option(None, help="Share of people known by birth year only (0 to 1)."),
    as_json: bool = JsonOption,
) -> None:
    """Write a deterministic scenario: registrations.csv and its ground truth in truth/."""
    from awda.simulate.scenario import write_scenario

    with progress_bar("simulating", households, enabled=not as_json) as advance:
        try:
            summary = write_scenario(
                out, households, seed, on_progress=advance, duplicates=duplicates, year_only=year_only
            )
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
    emit(summary.__dict__, as_json, f"{summary.households} households, {summary.registration_rows} rows -> {out}")


@import_app.command("registrations")
def import_registrations_command(ctx: typer.Context, file: Path, as_json: bool = JsonOption) -> None:
    """Import a registrations CSV/XLSX (docs/import.md); idempotent, all-or-nothing per household."""
    cli = state(ctx)
    report = setup.import_file(cli, file, progress=not as_json)
    emit(report.as_dict(), as_json, setup.import_text(report.as_dict()))
    if report.error_count:
        raise typer.Exit(1)


@import_app.command("places")
def import_places_command(
    ctx: typer.Context,
    file: Path,
    sites: Path = typer.Option(None, help="A sites CSV (code, kind, name_en, name_ar, place_pcode)."),
    as_json: bool = JsonOption,
) -> None:
    """Import an HXL-tagged or COD-style gazetteer (CSV or XLSX), and optionally sites."""
    from awda.places.services import import_gazetteer

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        result = import_gazetteer(session, cli.actor(), file, sites)
    emit(result.__dict__, as_json, ", ".join(f"{key} {value}" for key, value in result.__dict__.items()))


@import_app.command("arrivals")
def import_arrivals_command(ctx: typer.Context, file: Path, as_json: bool = JsonOption) -> None:
    """Import arrivals (docs/monitoring.md): one per household and date; schedules follow-ups."""
    monitoring_cli.import_field_file(ctx, "arrivals", file, as_json)


@import_app.command("followups")
def import_followups_command(ctx: typer.Context, file: Path, as_json: bool = JsonOption) -> None:
    """Import follow-up outcomes (docs/monitoring.md); outcomes recorded already are skipped."""
    monitoring_cli.import_field_file(ctx, "followups", file, as_json)


@import_app.command("convoys")
def import_convoys_command(ctx: typer.Context, file: Path, as_json: bool = JsonOption) -> None:
    """Import a schedule of convoys (docs/convoys.md); all or nothing; convoys already scheduled are skipped."""
    from awda.convoys.importing import import_convoys

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        report = import_convoys(session, cli.actor(), file)
    emit(report, as_json, f"{report['scheduled']} convoys scheduled, {report['skipped']} already were")


@import_app.command("incidents")
def import_incidents_command(ctx: typer.Context, file: Path, as_json: bool = JsonOption) -> None:
    """Import incidents (docs/monitoring.md), idempotent by incident_id."""
    monitoring_cli.import_field_file(ctx, "incidents", file, as_json)


@import_app.command("odk")
def import_odk_command(
    ctx: typer.Context,
    path: Path,
    form: str = typer.Option(None, help="awda_registration, awda_followup or awda_incident (default: detected)."),
    as_json: bool = JsonOption,
) -> None:
    """Import an ODK Central (CSV zip) or KoboToolbox (XLSX, CSV) export (docs/field.md); per submission."""
    from awda.field.exports_import import import_export, report_text

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session, progress_bar("importing", None, not as_json) as advance:
        report = import_export(session, runtime.vault, cli.actor(), path, form, advance)
    emit(report.as_dict(), as_json, report_text(report))
    if report.refused:
        raise typer.Exit(1)


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "input"
    return f"{field}: {first['msg']}"


def main() -> None:
    """Entry point: one clear line and a non-zero exit on any error, never a traceback.

    Typer itself reports usage errors (exit 2); domain errors are caught here.
    """
    try:
        app()
    except AwdaError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2 if error.status in {400, 422} else 1)
    except ValidationError as error:
        typer.echo(f"error: {_first_problem(error)}", err=True)
        sys.exit(2)
    except VaultError as error:
        typer.echo(f"error: protected data could not be opened ({error}); check the master key", err=True)
        sys.exit(1)
    except IntegrityError as error:  # a unique key taken by a concurrent writer is a conflict, not a crash
        conflict = written_meanwhile(error)
        if conflict is None and os.environ.get("AWDA_DEBUG"):
            raise
        typer.echo(f"error: {conflict or 'unexpected IntegrityError; run with AWDA_DEBUG=1 for details'}", err=True)
        sys.exit(1)
    except Exception as error:  # the last line of defence: no traceback to a user
        if os.environ.get("AWDA_DEBUG"):
            raise
        typer.echo(f"error: unexpected {type(error).__name__}; run with AWDA_DEBUG=1 for details", err=True)
        sys.exit(1)
