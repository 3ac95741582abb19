"""``python -m awda.simulate OUT_DIR --households N --seed S``: write a scenario, report speed."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from awda.simulate.scenario import write_scenario


def main(argv: list[str] | None = None) -> None:
    """Write a scenario and print its summary with person rows per second."""
    parser = argparse.ArgumentParser(prog="python -m awda.simulate")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per CPU)")
    parser.add_argument("--duplicates", type=float, default=None, help="share of duplicate registrations")
    parser.add_argument("--year-only", type=float, default=None, help="share of people known by birth year only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = write_scenario(
        args.out_dir, args.households, args.seed, workers=args.workers, duplicates=args.duplicates,
        year_only=args.year_only,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    print(
        f"households={summary.households} persons={summary.persons} "
        f"registration_rows={summary.registration_rows} "
        f"duplicates={summary.duplicate_registrations} seconds={seconds:.2f} "
        f"rows_per_second={summary.registration_rows / seconds:,.0f}"
    )


if __name__ == "__main__":
    main()
