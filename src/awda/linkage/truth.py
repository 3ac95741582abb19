"""Scoring a clustering against true identities: exact pairwise precision, recall and F1 in O(rows).

Two rows form a *true pair* when they are the same true person, a *predicted pair* when they are
in the same cluster. Pairs are never enumerated: a group of n rows holds n(n-1)/2 pairs, so
counting the rows per cluster, per true person and per (cluster, person) cell is enough, even for
millions of rows. Pure: no database, no Splink.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

Key = TypeVar("Key", bound=Hashable)
TRUTH_COLUMNS = ("_uuid", "member_index", "person_id")


@dataclass(frozen=True)
class PairwiseScores:
    """Pair counts of a clustering against the truth, and the scores they give.

    With no predicted pair precision is 1 (nothing wrong was claimed); with no true pair recall is 1.
    """

    rows: int
    true_pairs: int  # pairs of rows that are the same person
    predicted_pairs: int  # pairs of rows put in the same cluster
    correct_pairs: int  # pairs that are both

    @property
    def precision(self) -> float:
        """Share of predicted pairs that are true."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs that were predicted."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        precision, recall = self.precision, self.recall
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Counts and scores, for JSON output."""
        return {
            "rows": self.rows,
            "true_pairs": self.true_pairs,
            "predicted_pairs": self.predicted_pairs,
            "correct_pairs": self.correct_pairs,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def pairwise_scores(labelled_rows: Iterable[tuple[Hashable, Hashable]]) -> PairwiseScores:
    """Score rows given as ``(cluster label, true entity label)``, one tuple per row, in one pass."""
    cells: Counter[tuple[Hashable, Hashable]] = Counter(labelled_rows)
    clusters: Counter[Hashable] = Counter()
    entities: Counter[Hashable] = Counter()
    for (cluster, entity), count in cells.items():
        clusters[cluster] += count
        entities[entity] += count
    return PairwiseScores(
        rows=sum(cells.values()),
        true_pairs=_pairs(entities.values()),
        predicted_pairs=_pairs(clusters.values()),
        correct_pairs=_pairs(cells.values()),
    )


def score_clusters(clusters: Mapping[Key, Hashable], truth: Mapping[Key, Hashable]) -> PairwiseScores:
    """Score every clustered row against its true entity.

    Raises ``ValueError`` if a clustered row has no truth; truth rows that were not clustered are
    not scored (a truth file may cover more rows than were linked).
    """
    missing = [key for key in clusters if key not in truth]
    if missing:
        raise ValueError(f"{len(missing)} clustered rows have no truth, for example {missing[0]!r}")
    return pairwise_scores((cluster, truth[key]) for key, cluster in clusters.items())


def read_registration_truth(path: Path) -> dict[tuple[str, int], str]:
    """``{(_uuid, member_index): person_id}`` from a scenario's ``truth/registration_rows.csv``, streamed.

    ``path`` may be the scenario folder, its ``truth/`` folder or the file itself.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "registration_rows.csv" if path.name == "truth" else path / "truth" / "registration_rows.csv"
    truth: dict[tuple[str, int], str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if not set(TRUTH_COLUMNS) <= set(header):
            raise ValueError(f"{path.name}: expected columns {', '.join(TRUTH_COLUMNS)}")
        uuid, member, person = (header.index(column) for column in TRUTH_COLUMNS)
        for row in reader:
            truth[row[uuid], int(row[member])] = row[person]
    return truth


def registration_row_id(uuid: str, member_index: int | str) -> str:
    """The unique id of a person row of registrations.csv used by the linkage tests and benchmark."""
    return f"{uuid}:{int(member_index)}"
