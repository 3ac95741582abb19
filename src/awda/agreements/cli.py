"""`awda agreements ...`: settlement agreements, guarantors and terms."""

from __future__ import annotations

from pathlib import Path

import typer

from awda.agreements import services
from awda.cli.common import JsonOption, emit, state

app = typer.Typer(help="Agreements, guarantors and terms.", no_args_is_help=True)


@app.command("import")
def import_command(
    ctx: typer.Context,
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="agreements.csv or .xlsx"),
    as_json: bool = JsonOption,
) -> None:
    """Import agreements (columns as the simulator's truth/agreements.csv); all or nothing."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        result = services.import_agreements(session, cli.actor(), path)
    emit(result, as_json, f"agreements: {result['created']} created, {result['skipped']} already present")


@app.command("list")
def list_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List agreements with their terms."""
    with state(ctx).runtime().sessions() as session:
        rows = services.list_agreements(session)
    lines = [f"{row['code']:<18} {row['signed_on']}  {row['name_en']}  ({row['guarantor']})" for row in rows]
    emit(rows, as_json, "\n".join(lines) or "no agreements")
