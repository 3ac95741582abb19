"""Import rate of awda against a raw sqlite3 executemany of the same rows, in the same run.

    .venv/bin/python bench/ingest.py [--rows 200000] [--json]

awda's import includes validation, per-household encryption, blind indexes, intentions and events;
the baseline parses the same CSV and inserts it, unvalidated and in plaintext, into a plain table.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from awda.access.services import SYSTEM
from awda.db import make_engine, migrate, session_factory
from awda.households.importer import import_registrations
from awda.places.services import load_demo_gazetteer
from awda.simulate.scenario import write_scenario
from awda.vault import Vault, new_master_key_text, parse_master_key

TARGET_RATIO = 0.25
PERSONS_PER_HOUSEHOLD = 4.7  # the simulator's mean, to size the scenario


def scenario_rows(folder: Path, rows: int, seed: int) -> Path:
    """A registrations file of at most `rows` rows, cut at a household boundary."""
    write_scenario(folder / "scenario", int(rows / PERSONS_PER_HOUSEHOLD) + 50, seed)
    source, target = folder / "scenario" / "registrations.csv", folder / "registrations.csv"
    with source.open(newline="", encoding="utf-8") as reader, target.open("w", newline="", encoding="utf-8") as out:
        records = csv.reader(reader)
        writer = csv.writer(out)
        writer.writerow(next(records))
        kept: list[list[str]] = []
        for _ref, group in itertools.groupby(records, key=lambda row: row[0]):
            members = list(group)
            if len(kept) + len(members) > rows:
                break
            kept.extend(members)
        writer.writerows(kept)
    return target


def baseline_seconds(path: Path, folder: Path) -> float:
    """Parse the CSV and executemany every row into a plain table (page size and WAL as awda's SQLite)."""
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        records = csv.reader(handle)
        header = next(records)
        connection = sqlite3.connect(folder / "baseline.db")
        connection.execute("PRAGMA page_size=16384")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"CREATE TABLE rows ({', '.join(f'c{i} TEXT' for i in range(len(header)))})")
        connection.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * len(header))})", records)
        connection.commit()
        connection.close()
    return time.perf_counter() - started


def awda_seconds(path: Path, folder: Path) -> tuple[float, dict[str, Any]]:
    """Import with awda into a fresh migrated database holding the demo gazetteer."""
    engine = make_engine(f"sqlite:///{folder / 'awda.db'}")
    migrate(engine)
    vault = Vault(parse_master_key(new_master_key_text()))
    with session_factory(engine)() as session:
        load_demo_gazetteer(session, SYSTEM)
        started = time.perf_counter()
        report = import_registrations(session, vault, SYSTEM, path)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, report.as_dict()


def run(rows: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="awda-bench-") as name:
        folder = Path(name)
        path = scenario_rows(folder, rows, seed)
        baseline = baseline_seconds(path, folder)
        awda, report = awda_seconds(path, folder)
    count = int(report["rows"])
    ratio = (count / awda) / (count / baseline)
    return {
        "rows": count,
        "households": report["households"],
        "errors": report["error_count"],
        "awda_seconds": round(awda, 3),
        "baseline_seconds": round(baseline, 3),
        "awda_rows_per_second": round(count / awda),
        "baseline_rows_per_second": round(count / baseline),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.rows, arguments.seed)
    if arguments.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['rows']} rows: awda {result['awda_rows_per_second']}/s, raw sqlite3 executemany "
            f"{result['baseline_rows_per_second']}/s, ratio {result['ratio']} (target {TARGET_RATIO})"
        )


if __name__ == "__main__":
    main()
