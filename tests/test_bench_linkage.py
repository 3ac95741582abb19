"""The linkage benchmark runs end to end on a small scenario (its timing is not asserted: machines are noisy)."""

from __future__ import annotations

from pathlib import Path

from bench.linkage import FIELDS, ID_COLUMN, households_for, registration_table, run, simulate


def test_linkage_benchmark_runs_both_models_and_scores_them(tmp_path: Path) -> None:
    result = run(persons=2500, seed=4, scenario=tmp_path)
    simulated = result["scenario"]["simulated"]
    assert simulated["rows"] == result["rows"] and 2000 <= result["rows"] <= 3000
    assert (
        simulated["duplicate_registrations"] / (simulated["households"] + simulated["duplicate_registrations"]) >= 0.15
    )
    for side in (result["awda"], result["plain"]):
        assert side["rows"] == result["rows"] and side["true_pairs"] > 100
        assert side["correct_pairs"] <= min(side["true_pairs"], side["predicted_pairs"])
        assert 0 < side["f1"] <= 1 and side["peak_memory_mb"] > 0
    assert result["f1_ratio"] == round(result["awda"]["f1"] / result["plain"]["f1"], 4)


def test_the_linked_table_has_one_unique_id_per_person_row(tmp_path: Path) -> None:
    summary = simulate(tmp_path, 600, seed=2)
    assert households_for(6400) == 1000
    table = registration_table(tmp_path)
    ids = table.column(ID_COLUMN).to_pylist()
    assert len(ids) == len(set(ids)) == summary["rows"]
    assert {column for _, column in FIELDS} <= set(table.column_names)
    assert "site" not in table.column_names  # where a household registered is not who a person is
