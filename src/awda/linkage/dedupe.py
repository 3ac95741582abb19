"""`awda dedupe`: a CSV in, the same CSV out with a `cluster_id` column, in the spirit of csvdedupe.

The file is read twice, streaming: once into the engine (only the columns the roles name and the
id), once to copy every row, in order, with its cluster appended. The output is written to a
temporary name next to the target and renamed into place only when everything succeeded.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awda.errors import ValidationFailed
from awda.exports import csv_writer
from awda.linkage.engine import DEFAULT_BLOCK_CAP, BackendName, link_records
from awda.linkage.names_pairs import is_hashtag_row
from awda.linkage.roles import Field, check_columns, check_fields
from awda.tables import read_rows

CLUSTER_COLUMN = "cluster_id"
CLUSTER_HASHTAG = "#x_cluster"  # an HXL input stays HXL (docs/linkage.md): its hashtag row comes back with this


@dataclass(frozen=True)
class DedupeRequest:
    source: Path
    fields: list[Field]
    id_column: str
    out: Path
    backend: BackendName = "duckdb"
    threshold: float = 0.9
    block_cap: int = DEFAULT_BLOCK_CAP
    seed: int = 1


def _hashtags(rows: Iterator[list[str]]) -> tuple[list[str] | None, Iterator[list[str]]]:
    """The input's HXL hashtag row, if its first row under the header is one, and the data rows."""
    first = next(rows, None)
    if first is None:
        return None, rows
    if is_hashtag_row(first):
        return [cell.strip() for cell in first], rows
    return None, itertools.chain([first], rows)


def _header_and_rows(source: Path) -> tuple[list[str], Iterator[list[str]]]:
    if source.suffix.lower() != ".csv":
        raise ValidationFailed("file", f"{source.name}: awda dedupe reads .csv files")
    rows = read_rows(source)
    header = next(rows, None)
    if header is None:
        raise ValidationFailed("file", "is empty")
    names = [cell.strip() for cell in header]
    if CLUSTER_COLUMN in names:
        raise ValidationFailed(CLUSTER_COLUMN, "the file already has this column; rename it first", 1)
    return names, rows


def _records(
    rows: Iterator[list[str]], header: list[str], wanted: list[str], id_column: str
) -> Iterator[dict[str, str]]:
    """The named columns of each row, stripped; refuses a ragged row, an empty or a repeated id."""
    positions = [(name, header.index(name)) for name in wanted]
    id_position = header.index(id_column)
    seen: set[str] = set()
    tags, rows = _hashtags(rows)
    for number, row in enumerate(rows, start=3 if tags else 2):
        if len(row) != len(header):
            raise ValidationFailed("file", f"has {len(row)} cells where the header has {len(header)}", number)
        identifier = row[id_position].strip()
        if not identifier:
            raise ValidationFailed(id_column, "the id is empty", number)
        if identifier in seen:
            raise ValidationFailed(id_column, "this id appears on an earlier row too", number)
        seen.add(identifier)
        yield {name: row[position].strip() for name, position in positions}


def _write(request: DedupeRequest, header: list[str], clusters: dict[str, str]) -> None:
    """Every input row with its cluster id, atomically: a temporary file renamed over the target."""
    request.out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{request.out.name}.", suffix=".part", dir=request.out.parent)
    id_position = header.index(request.id_column)
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            writer = csv_writer(out)
            writer.writerow([*header, CLUSTER_COLUMN])
            tags, rows = _hashtags(_header_and_rows(request.source)[1])
            if tags is not None:
                writer.writerow([*tags, *[""] * (len(header) - len(tags)), CLUSTER_HASHTAG])
            for row in rows:
                cells = [cell.strip() for cell in row]
                writer.writerow([*cells, clusters[cells[id_position]]])
        os.replace(temporary, request.out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def dedupe_file(request: DedupeRequest, on_progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Cluster the rows of a CSV and write it back with `cluster_id`; returns the summary."""
    started = time.perf_counter()
    check_fields(request.fields)
    header, rows = _header_and_rows(request.source)
    check_columns(request.fields, header, request.id_column)
    wanted = sorted({column for _, column in request.fields} | {request.id_column})
    result = link_records(
        _records(rows, header, wanted, request.id_column),
        request.fields,
        id_column=request.id_column,
        backend=request.backend,
        threshold=request.threshold,
        block_cap=request.block_cap,
        seed=request.seed,
        on_progress=on_progress,
        workdir=None,
    )
    clusters = dict(
        zip(
            result.clusters.column("unique_id").to_pylist(),
            result.clusters.column("cluster_id").to_pylist(),
            strict=True,
        )
    )
    _write(request, header, clusters)
    sizes: dict[str, int] = {}
    for cluster in clusters.values():
        sizes[cluster] = sizes.get(cluster, 0) + 1
    return {
        "rows": len(clusters),
        "clusters": len(sizes),
        "duplicate_rows": len(clusters) - len(sizes),
        "largest_cluster": max(sizes.values()),
        "pairs_blocked": result.stats["blocked_pairs"],
        "largest_block": result.stats["largest_block"],
        "pairs_over_review": result.stats["pairs_over_review"],
        "backend": request.backend,
        "threshold": request.threshold,
        "seconds": round(time.perf_counter() - started, 2),
        "out": str(request.out),
    }
