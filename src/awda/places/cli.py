"""`awda places ...`: the gazetteer and sites."""

from __future__ import annotations

from pathlib import Path

import typer

from awda.cli.common import JsonOption, emit, state
from awda.places import services

app = typer.Typer(help="Gazetteer places and sites.", no_args_is_help=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    level: int = typer.Option(None, help="Admin level 0-4."),
    parent: str = typer.Option(None, help="Parent P-code."),
    as_json: bool = JsonOption,
) -> None:
    """List places."""
    with state(ctx).runtime().sessions() as session:
        places = services.list_places(session, level, parent)
        rows = [
            {
                "pcode": p.pcode,
                "admin_level": p.admin_level,
                "name_en": p.name_en,
                "name_ar": p.name_ar,
                "demo": p.is_demo,
            }
            for p in places
        ]
    emit(
        rows, as_json, "\n".join(f"{r['pcode']:<10} {r['admin_level']}  {r['name_en']} / {r['name_ar']}" for r in rows)
    )


@app.command("sites")
def sites_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List sites."""
    with state(ctx).runtime().sessions() as session:
        rows = [
            {"code": s.code, "kind": s.kind, "name_en": s.name_en, "name_ar": s.name_ar}
            for s in services.list_sites(session)
        ]
    emit(rows, as_json, "\n".join(f"{r['code']:<16} {r['kind']:<20} {r['name_en']}" for r in rows))


@app.command("load-demo")
def load_demo_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Load the demo gazetteer (Homs, Rukban, Idleb, Jarablus; marked as demo data)."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        result = services.load_demo_gazetteer(session, cli.actor())
    emit(result.__dict__, as_json, f"places +{result.places_created}, sites +{result.sites_created}")


@app.command("export")
def export_command(
    ctx: typer.Context,
    out: Path = typer.Option(..., help="The CSV file to write (HXL-tagged COD layout)."),
    as_json: bool = JsonOption,
) -> None:
    """Write the gazetteer as an HXL-tagged COD CSV that `awda import places` reads back."""
    with state(ctx).runtime().sessions() as session, out.open("w", newline="", encoding="utf-8") as handle:
        count = services.export_gazetteer(session, handle)
    emit({"places": count, "file": str(out)}, as_json, f"{count} places -> {out}")
