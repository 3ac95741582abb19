"""The Spark engine gives the clusters DuckDB gives, through `awda dedupe --backend spark`.

Skipped only when Java is missing, and never when CI=true (CI must run it).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.test_dedupe import FEBRL_FIELDS, Run, clusters_of, copy_febrl, dedupe, pairwise_f1

__all__ = ["dedupe"]  # the CLI fixture, shared with test_dedupe.py

ROWS = 400  # Spark's cost here is per job, not per row: a small file shows the same as a large one

if shutil.which("java") is None and os.environ.get("CI") != "true":
    pytest.skip("Spark tests need Java 17 (java is not on PATH)", allow_module_level=True)


@pytest.mark.slow
def test_spark_and_duckdb_find_the_same_clusters(dedupe: Run, tmp_path: Path) -> None:
    source = copy_febrl("dataset1.csv", tmp_path / "febrl1.csv", limit=ROWS)
    clusters = {}
    for backend in ("duckdb", "spark"):
        out = tmp_path / f"{backend}.csv"
        arguments = ("--fields", FEBRL_FIELDS, "--id-column", "rec_id", "--out", str(out), "--backend", backend)
        summary = json.loads(dedupe(str(source), *arguments, "--json").stdout)
        assert summary["rows"] == ROWS and summary["backend"] == backend
        clusters[backend] = clusters_of(out)
    assert pairwise_f1(clusters["spark"]) >= 0.99
    assert abs(pairwise_f1(clusters["spark"]) - pairwise_f1(clusters["duckdb"])) <= 0.01
    same = {tuple(sorted(ids)) for ids in _groups(clusters["spark"])} == {
        tuple(sorted(ids)) for ids in _groups(clusters["duckdb"])
    }
    assert same


def _groups(clusters: dict[str, str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for record_id, cluster in clusters.items():
        groups.setdefault(cluster, []).append(record_id)
    return list(groups.values())
