"""`awda dedupe FILE.csv --fields ... --id-column COL --out OUT.csv`: the standalone duplicate finder."""

from __future__ import annotations

from pathlib import Path

import typer

from awda.cli.common import JsonOption, emit, progress_bar
from awda.linkage.dedupe import DedupeRequest, dedupe_file
from awda.linkage.engine import DEFAULT_BLOCK_CAP, STEPS, BackendName
from awda.linkage.roles import parse_fields

BACKENDS: tuple[BackendName, ...] = ("duckdb", "spark")


def dedupe_command(
    file: Path = typer.Argument(..., help="A CSV file with a header row (UTF-8)."),
    fields: str = typer.Option(
        ...,
        "--fields",
        help="Roles and columns: given_name=first,family_name=surname,birth_date=dob,sex (docs/linkage.md).",
    ),
    id_column: str = typer.Option(..., "--id-column", help="The column holding each row's unique id."),
    out: Path = typer.Option(..., "--out", help="The CSV to write: every input row with cluster_id appended."),
    backend: str = typer.Option(
        "duckdb", "--backend", help="duckdb (in-process) or spark (needs awda[spark] and Java 17)."
    ),
    threshold: float = typer.Option(
        0.9, "--threshold", help="Match probability at which two rows are the same entity."
    ),
    block_cap: int = typer.Option(
        DEFAULT_BLOCK_CAP, "--block-cap", help="Blocking key values shared by more rows are ignored."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Find rows that are the same person (Arabic-aware, no training labels) and write their cluster ids."""
    if backend not in BACKENDS:
        raise typer.BadParameter("duckdb or spark", param_hint="--backend")
    request = DedupeRequest(
        file, parse_fields(fields), id_column, out, BACKENDS[BACKENDS.index(backend)], threshold, block_cap
    )
    with progress_bar("linking", len(STEPS), enabled=not as_json) as advance:
        summary = dedupe_file(request, on_progress=lambda step: advance(1))
    text = (
        f"{summary['rows']} rows, {summary['clusters']} clusters, {summary['duplicate_rows']} duplicate rows "
        f"({summary['seconds']} s) -> {summary['out']}"
    )
    emit(summary, as_json, text)
