"""Linkage at registry scale: awda's model against plain Splink on the same simulated registrations.

    .venv/bin/python bench/linkage.py [--persons 1000000] [--seed 1] [--backend duckdb] [--scenario DIR] [--json]

A linkage scenario of the simulator (`--duplicates 0.2 --year-only 0.5`: names in Arabic script
and Latin variants, birth year only for half the people, 20% duplicate registrations) is written
first (its time is reported, not measured). Each model then links the person rows of
registrations.csv in its own fresh process: `link_records` with `model="awda"`, then with
`model="plain"` (Splink's default name comparisons, Jaro-Winkler). For each: wall time of
`link_records` alone, the process's peak resident memory (with its children), and pairwise
precision, recall and F1 against the simulator's truth. The figure is F1(awda) / F1(plain).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from awda.linkage.engine import BackendName, link_records
from awda.linkage.model import ModelKind
from awda.linkage.roles import Field
from awda.linkage.truth import pairwise_scores, read_registration_truth
from awda.simulate import write_scenario

DUPLICATES: Final = 0.2
YEAR_ONLY: Final = 0.5
ROWS_PER_HOUSEHOLD: Final = 6.4  # person rows per generated household in this scenario, duplicates included
OUT_DIR: Final = Path(__file__).resolve().parent / "out"
ID_COLUMN: Final = "unique_id"
NAME_COLUMNS: Final = ("given_name", "father_name", "grandfather_name", "family_name")
# The household's site, dates and intention are not identity: only the person's own fields are linked.
FIELDS: Final[tuple[Field, ...]] = (
    *((role, f"{role}_{script}") for role in NAME_COLUMNS for script in ("ar", "lat")),
    ("sex", "sex"),
    ("birth_date", "birth_date"),
    ("birth_year", "birth_year"),
    ("phone", "phone"),
    ("id_number", "document_number"),
)


def households_for(persons: int) -> int:
    """Households to simulate for about ``persons`` person rows."""
    return max(1, round(persons / ROWS_PER_HOUSEHOLD))


def simulate(out_dir: Path, persons: int, seed: int) -> dict[str, Any]:
    """Write the linkage scenario for about ``persons`` rows; return its summary and time."""
    started = time.perf_counter()
    summary = write_scenario(out_dir, households_for(persons), seed, duplicates=DUPLICATES, year_only=YEAR_ONLY)
    return {
        "households": summary.households,
        "persons": summary.persons,
        "rows": summary.registration_rows,
        "duplicate_registrations": summary.duplicate_registrations,
        "seconds": round(time.perf_counter() - started, 2),
    }


def registration_table(scenario: Path) -> Any:
    """The person rows of registrations.csv as an Arrow table: ``unique_id`` (uuid:member) and the linked columns."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    columns = ["_uuid", "member_index", *sorted({column for _, column in FIELDS})]
    table = csv.read_csv(
        scenario / "registrations.csv",
        convert_options=csv.ConvertOptions(
            include_columns=columns,
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=True,
        ),
    )
    unique_id = pc.binary_join_element_wise(table["_uuid"], table["member_index"], ":")
    return table.drop_columns(["_uuid", "member_index"]).append_column(ID_COLUMN, unique_id)


def _peak_mb() -> float:
    """Peak resident memory of this process plus its largest child, in MB (ru_maxrss is in KiB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024  # macOS reports bytes
    return round((own + children) * scale, 1)


def link_and_score(scenario: Path, model: ModelKind, backend: BackendName, seed: int) -> dict[str, Any]:
    """Run in a fresh process: load, link (timed), note the peak memory, then score against the truth."""
    started = time.perf_counter()
    table = registration_table(scenario)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = link_records(table, FIELDS, id_column=ID_COLUMN, backend=backend, model=model, seed=seed)
    seconds = time.perf_counter() - started
    peak = _peak_mb()
    del table
    truth = read_registration_truth(scenario)
    clusters = result.clusters
    labelled = (
        (cluster, truth[uuid, int(member)])
        for unique_id, cluster in zip(
            clusters.column("unique_id").to_pylist(), clusters.column("cluster_id").to_pylist(), strict=True
        )
        for uuid, member in (unique_id.rsplit(":", 1),)
    )
    scores = pairwise_scores(labelled)
    if scores.rows != len(truth):
        raise RuntimeError(f"{model}: {scores.rows} rows clustered, {len(truth)} registered")
    return {
        "model": model,
        "seconds": round(seconds, 2),
        "load_seconds": round(load_seconds, 2),
        "peak_memory_mb": peak,
        "clusters": len(set(clusters.column("cluster_id").to_pylist())),
        **{key: round(value, 5) if isinstance(value, float) else value for key, value in scores.as_dict().items()},
        "stats": {key: value for key, value in result.stats.items() if isinstance(value, int | float | str)},
    }


def _quiet_link_and_score(scenario: Path, model: ModelKind, backend: BackendName, seed: int) -> dict[str, Any]:
    """``link_and_score`` with the child's standard output closed: DuckDB draws progress bars on it."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return link_and_score(scenario, model, backend, seed)


def _in_fresh_process(scenario: Path, model: ModelKind, backend: BackendName, seed: int) -> dict[str, Any]:
    """Each model in its own process, so that its peak memory is its own (and its output does not mix with ours)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(_quiet_link_and_score, (scenario, model, backend, seed))
        return result


def run(
    persons: int = 1_000_000,
    seed: int = 1,
    backend: BackendName = "duckdb",
    scenario: Path | None = None,
    plain: bool = True,
) -> dict[str, Any]:
    """Simulate (unless ``scenario`` holds one already), link with both models, report the F1 ratio."""
    with tempfile.TemporaryDirectory(prefix="awda-bench-linkage-") as scratch:
        folder = scenario or Path(scratch)
        simulated = None
        if not (folder / "registrations.csv").exists():
            simulated = simulate(folder, persons, seed)
        awda = _in_fresh_process(folder, "awda", backend, seed)
        baseline = _in_fresh_process(folder, "plain", backend, seed) if plain else None
    result: dict[str, Any] = {
        "persons_requested": persons,
        "rows": awda["rows"],
        "backend": backend,
        "seed": seed,
        "scenario": {"duplicates": DUPLICATES, "year_only": YEAR_ONLY, "simulated": simulated},
        "awda": awda,
        "plain": baseline,
    }
    if baseline is not None:
        result["f1_ratio"] = round(awda["f1"] / baseline["f1"], 4) if baseline["f1"] else None
    return result


def save(result: dict[str, Any]) -> Path:
    """Keep the result under bench/out/ (not versioned)."""
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"linkage-{result['rows']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def _line(side: dict[str, Any]) -> str:
    return (
        f"{side['model']}: {side['seconds']} s, peak {side['peak_memory_mb']} MB, precision {side['precision']}, "
        f"recall {side['recall']}, F1 {side['f1']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000, help="person rows to simulate (about)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--scenario", type=Path, default=None, help="reuse (or keep) a scenario in this folder")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Splink baseline")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.persons, arguments.seed, arguments.backend, arguments.scenario, not arguments.no_plain)
    path = save(result)
    if arguments.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['rows']} person rows ({arguments.backend}); saved to {path.name} in bench/out/")
    print(_line(result["awda"]))
    if result["plain"] is not None:
        print(_line(result["plain"]))
        print(f"F1 ratio awda / plain: {result['f1_ratio']}")


if __name__ == "__main__":
    main()
