"""Pairwise scores of a clustering against the truth: hand-computed cases, brute force, the simulator's truth."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awda.linkage.truth import (
    PairwiseScores,
    pairwise_scores,
    read_registration_truth,
    registration_row_id,
    score_clusters,
)
from awda.simulate import write_scenario

# five rows: a, b, c are person X; d, e are person Y (3 + 1 = 4 true pairs)
TRUTH = {"a": "X", "b": "X", "c": "X", "d": "Y", "e": "Y"}


def test_a_perfect_clustering_scores_one() -> None:
    scores = score_clusters({"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}, TRUTH)
    assert scores == PairwiseScores(rows=5, true_pairs=4, predicted_pairs=4, correct_pairs=4)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)


def test_singletons_claim_nothing_and_find_nothing() -> None:
    scores = score_clusters({key: key for key in TRUTH}, TRUTH)
    assert (scores.predicted_pairs, scores.correct_pairs, scores.true_pairs) == (0, 0, 4)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 0.0, 0.0)


def test_one_big_wrong_cluster_finds_everything_at_low_precision() -> None:
    scores = score_clusters(dict.fromkeys(TRUTH, "all"), TRUTH)
    assert (scores.predicted_pairs, scores.correct_pairs) == (10, 4)  # C(5, 2) pairs, 3 + 1 of them true
    assert scores.precision == pytest.approx(0.4) and scores.recall == 1.0
    assert scores.f1 == pytest.approx(2 * 0.4 / 1.4)


def test_a_split_and_a_wrong_merge() -> None:
    # clusters {a, b} and {c, d, e}: pairs ab, cd, ce, de predicted; ab and de are true
    scores = score_clusters({"a": 1, "b": 1, "c": 2, "d": 2, "e": 2}, TRUTH)
    assert (scores.predicted_pairs, scores.correct_pairs, scores.true_pairs) == (4, 2, 4)
    assert (scores.precision, scores.recall, scores.f1) == (0.5, 0.5, 0.5)


def test_labels_are_only_compared_for_equality() -> None:
    by_names = pairwise_scores([("k1", "X"), ("k1", "X"), ("k2", "Y")])
    by_numbers = pairwise_scores([(7, 0), (7, 0), (8, 1)])
    assert by_names == by_numbers == PairwiseScores(rows=3, true_pairs=1, predicted_pairs=1, correct_pairs=1)


def test_no_rows_and_no_pairs() -> None:
    assert pairwise_scores([]).as_dict() == {
        "rows": 0, "true_pairs": 0, "predicted_pairs": 0, "correct_pairs": 0, "precision": 1.0, "recall": 1.0,
        "f1": 1.0,
    }  # fmt: skip


def test_a_clustered_row_without_truth_is_refused() -> None:
    with pytest.raises(ValueError, match="1 clustered rows have no truth"):
        score_clusters({"a": 1, "z": 1}, TRUTH)
    only_two = score_clusters({"a": 1, "b": 1}, TRUTH)  # truth rows that were not clustered are not scored
    assert only_two == PairwiseScores(rows=2, true_pairs=1, predicted_pairs=1, correct_pairs=1)


def brute_force(rows: list[tuple[int, int]]) -> tuple[int, int, int]:
    predicted = true = correct = 0
    for (cluster_1, entity_1), (cluster_2, entity_2) in itertools.combinations(rows, 2):
        predicted += cluster_1 == cluster_2
        true += entity_1 == entity_2
        correct += cluster_1 == cluster_2 and entity_1 == entity_2
    return predicted, true, correct


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=40))
def test_counting_cells_equals_enumerating_pairs(rows: list[tuple[int, int]]) -> None:
    scores = pairwise_scores(rows)
    predicted, true, correct = brute_force(rows)
    assert (scores.predicted_pairs, scores.true_pairs, scores.correct_pairs) == (predicted, true, correct)
    assert scores.precision == (correct / predicted if predicted else 1.0)
    assert scores.recall == (correct / true if true else 1.0)
    assert 0.0 <= scores.f1 <= 1.0


def test_the_simulators_truth_maps_every_registration_row(tmp_path: Path) -> None:
    write_scenario(tmp_path, 60, seed=4, workers=1, duplicates=0.3)
    truth = read_registration_truth(tmp_path)
    with (tmp_path / "registrations.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(row["_uuid"], int(row["member_index"])) for row in csv.DictReader(handle)]
    assert len(rows) == len(truth) == len(set(rows))
    assert all(key in truth for key in rows)
    assert len(set(truth.values())) < len(truth)  # duplicates: some people are registered twice
    assert read_registration_truth(tmp_path / "truth") == truth
    assert registration_row_id(rows[0][0], "01") == f"{rows[0][0]}:1"


def test_a_file_without_the_truth_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("_uuid,person_id\nu,P1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="member_index"):
        read_registration_truth(path)
