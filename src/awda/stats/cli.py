"""`awda stats ...`: aggregate counts."""

from __future__ import annotations

import typer

from awda.cli.common import JsonOption, emit, state
from awda.stats import services

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
