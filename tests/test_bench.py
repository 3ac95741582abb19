"""The ingest benchmark runs end to end on a small file (its timing is not asserted: machines are noisy)."""

from __future__ import annotations

from bench.ingest import run


def test_ingest_benchmark_runs_and_imports_everything() -> None:
    result = run(rows=1500, seed=3)
    assert 1400 <= result["rows"] <= 1500
    assert result["errors"] == 0
    assert result["households"] > 250
    assert result["ratio"] > 0
