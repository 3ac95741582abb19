"""`awda retention show|apply` (docs/backup.md)."""

from __future__ import annotations

import typer

from awda.cli.common import JsonOption, emit, state
from awda.retention import services

app = typer.Typer(help="How long each record type is kept, and applying that.", no_args_is_help=True)


@app.command("show")
def show_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """The retention rules with this installation's periods."""
    from awda.settings import Settings

    table = services.retention_table(Settings())
    lines = [
        f"{row['record_type']:<20} {_period(row['days']):<12} {row['action']} (from {row['counted_from'] or '-'})"
        for row in table
    ]
    emit({"rules": table}, as_json, "\n".join(lines))


def _period(days: int | None) -> str:
    if days is None:
        return "kept"
    return "off" if days <= 0 else f"{days} days"


@app.command("apply")
def apply_command(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what is due; change nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Delete, clear or shred what is past its period; one event with the counts."""
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        report = services.apply_retention(session, cli.actor(), runtime.settings, dry_run=dry_run)
    verb = "due" if dry_run else "done"
    lines = [f"{name:<20} {verb} {row['due']}" for name, row in report["rules"].items()]
    emit(report, as_json, "\n".join(lines))
