"""`awda names compare`: two names, or a CSV of pairs, through `awda.linkage.names.compare_names`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from awda.cli.common import JsonOption, progress_bar
from awda.errors import ValidationFailed
from awda.linkage.names import compare_names
from awda.linkage.names_pairs import check_out, compare_pairs_file, count_pair_rows

app = typer.Typer(help="Arabic-aware name comparison (docs/linkage.md).", no_args_is_help=True)


@app.command("compare")
def compare_command(
    name_a: str | None = typer.Argument(None, help="A name: one part or a whole chain, Arabic script or Latin."),
    name_b: str | None = typer.Argument(None, help="The other name."),
    pairs: Path | None = typer.Option(None, "--pairs", help="A UTF-8 CSV with columns name_a,name_b."),
    out: Path | None = typer.Option(None, "--out", help="With --pairs: the CSV to write, score,match appended."),
    as_json: bool = JsonOption,
) -> None:
    """Score two names and say whether they match; or every pair of a CSV file."""
    if pairs is None:
        if name_a is None or name_b is None or out is not None:
            raise typer.BadParameter("give two names, or --pairs FILE.csv --out OUT.csv")
        result = compare_names(name_a, name_b)
        data = {"score": round(result.score, 4), "match": result.match}
        verdict = "match" if result.match else "no match"
        typer.echo(json.dumps(data) if as_json else f"{verdict} (score {data['score']})")
        return
    if out is None or name_a is not None:
        raise typer.BadParameter("--pairs needs --out, and no names")
    try:
        check_out(pairs, out)
        with progress_bar("Comparing names", count_pair_rows(pairs), enabled=not as_json) as advance:
            summary = compare_pairs_file(pairs, out, advance, checked=True)
    except ValidationFailed as error:  # a bad file is the user's to fix: one line, exit 1
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    report = {"rows": summary.rows, "matches": summary.matches, "out": str(summary.out)}
    typer.echo(
        json.dumps(report, ensure_ascii=False) if as_json else f"{summary.rows} pairs, {summary.matches} matches: {out}"
    )
