"""The issue's accuracy bar on simulator data: precision and recall of at least 0.97 on persons.

The linkage scenario (docs/simulator.md): names in Arabic script and Latin variants, birth year
only for half the people, 20% duplicate registrations written with other spellings, sometimes in
the other script only, fewer members, no patronyms, years for dates, phones written the local way.
The engine links the person rows of registrations.csv on the person's own fields (never the site)
and is scored pair by pair against the simulator's truth.
"""

from __future__ import annotations

import pytest

from awda.linkage.engine import link_records
from awda.linkage.truth import PairwiseScores, read_registration_truth, score_clusters
from awda.simulate import write_scenario
from bench.linkage import DUPLICATES, FIELDS, ID_COLUMN, YEAR_ONLY, registration_table

HOUSEHOLDS = 2000  # about 12,600 person rows, 500 duplicate registrations
BAR = 0.97


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> PairwiseScores:
    scenario = tmp_path_factory.mktemp("linkage-scenario")
    write_scenario(scenario, HOUSEHOLDS, seed=21, workers=1, duplicates=DUPLICATES, year_only=YEAR_ONLY)
    result = link_records(registration_table(scenario), FIELDS, id_column=ID_COLUMN, model="awda", seed=1)
    clusters = result.clusters
    ids, cluster_ids = clusters.column("unique_id").to_pylist(), clusters.column("cluster_id").to_pylist()
    truth = {f"{uuid}:{member}": person for (uuid, member), person in read_registration_truth(scenario).items()}
    assert sorted(ids) == sorted(truth)  # every row is clustered exactly once
    return score_clusters(dict(zip(ids, cluster_ids, strict=True)), truth)


@pytest.mark.slow
def test_duplicates_are_found_with_high_precision(scores: PairwiseScores) -> None:
    assert scores.true_pairs > 1500  # the scenario really holds duplicates to find
    assert scores.precision >= BAR, scores.as_dict()


@pytest.mark.slow
def test_duplicates_are_found_with_high_recall(scores: PairwiseScores) -> None:
    assert scores.recall >= BAR, scores.as_dict()
