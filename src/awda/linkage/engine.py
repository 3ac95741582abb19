"""The linkage engine: rows in, clusters of the same person out, trained without labels on Splink.

Steps: features (Python, streamed in batches) -> capped blocking keys (SQL) -> λ from
deterministic rules -> u by random sampling (seeded) -> m by EM over a few blocking rules ->
scored pairs -> connected components at `threshold`. The same steps run on DuckDB or Spark.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pyarrow as pa

from awda.errors import ValidationFailed
from awda.linkage.engine_backends import Backend, open_backend
from awda.linkage.engine_clusters import split_conflicts
from awda.linkage.features import FeaturePlan, capped_keys_sql, feature_batches
from awda.linkage.model import PLAIN_BLOCKS, Model, ModelKind, build_model
from awda.linkage.roles import Field, check_fields

BackendName = Literal["duckdb", "spark"]
DEFAULT_BLOCK_CAP: Final = 200
REVIEW_THRESHOLD: Final = 0.5
U_MAX_PAIRS: Final = 2_000_000
EM_MAX_PAIRS: Final = 2_000_000
# The deterministic rules need a full date, an id or a phone: where half the people have only a birth
# year they can find about half of the duplicates, hence the recall assumed when λ is estimated.
EXACT_RULE_RECALL: Final = 0.5
QUIET: Final = logging.CRITICAL + 10  # Splink logs at INFO by default; nothing of it reaches users
STEPS: Final = ("features", "blocking", "lambda", "u", "em", "predict", "cluster")


@dataclass
class LinkageResult:
    """Every input row's cluster, the scored pairs worth a look, the trained model and counts."""

    clusters: pa.Table  # unique_id, cluster_id: one row per input row
    pairs: pa.Table  # unique_id_l, unique_id_r, match_probability: pairs at or above min(REVIEW_THRESHOLD, threshold)
    parameters: dict[str, Any]  # Splink's model JSON (no record values)
    stats: dict[str, Any] = field(default_factory=dict)


def _private_dir(workdir: Path | None) -> Path:
    """A fresh directory only this user can read (mkdtemp makes it 0700).

    DuckDB spills and Spark shuffles may write personal values here; it is removed at the end.
    """
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="awda-linkage-", dir=workdir))


def link_records(
    rows: Iterable[Mapping[str, str | None]] | pa.Table,
    fields: Sequence[Field],
    *,
    id_column: str,
    backend: BackendName = "duckdb",
    model: ModelKind = "awda",
    threshold: float = 0.9,
    block_cap: int = DEFAULT_BLOCK_CAP,
    seed: int = 1,
    on_progress: Callable[[str], None] | None = None,
    workdir: Path | None = None,
) -> LinkageResult:
    """Cluster `rows` into people. Deterministic for a given seed (up to floating-point noise).

    `fields` are (role, column) pairs (`roles.parse_fields`); `id_column` must hold a unique,
    non-empty id per row. Inputs are never written to disk except the engine's own spill in a
    private temporary directory under `workdir` (default: the system's), removed afterwards.
    """
    check_fields(fields)
    if not 0.0 < threshold < 1.0:
        raise ValidationFailed("threshold", "a probability between 0 and 1 (exclusive)")
    if block_cap < 2:
        raise ValidationFailed("block_cap", "at least 2")
    plan = FeaturePlan.of(fields, id_column, raw_names=model == "plain")
    built = build_model(plan, model)
    private = _private_dir(workdir)
    try:
        engine = open_backend(backend, private)
        try:
            run = _Run(engine, plan, built, on_progress or (lambda step: None))
            return run.link(rows, threshold=threshold, block_cap=block_cap, seed=seed)
        finally:
            engine.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)


class _Run:
    """One linkage on one engine; keeps the counts it reports."""

    def __init__(self, engine: Backend, plan: FeaturePlan, model: Model, progress: Callable[[str], None]) -> None:
        self.engine, self.plan, self.model, self.progress = engine, plan, model, progress
        self.stats: dict[str, Any] = {"backend": engine.name, "training": []}

    def link(
        self, rows: Iterable[Mapping[str, str | None]] | pa.Table, *, threshold: float, block_cap: int, seed: int
    ) -> LinkageResult:
        from splink import Linker

        self._load(rows, block_cap)
        splink_frame = self.engine.database_api().register("awda_features")
        linker = Linker(splink_frame, self.model.settings, log_level=QUIET)
        self._train(linker, seed)
        self.progress("predict")
        review = min(REVIEW_THRESHOLD, threshold)
        predictions = linker.inference.predict()  # every blocked pair: the low scores reveal conflicts
        self.progress("cluster")
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        # Table names come from Splink and columns are our own: no outside text reaches this SQL.
        pairs = self.engine.arrow(
            "select unique_id_l, unique_id_r, match_probability from "  # noqa: S608
            f"{predictions.physical_name} where match_probability >= {review} order by unique_id_l, unique_id_r"
        )
        clusters = self.engine.arrow(
            "select cast(unique_id as string) as unique_id, cast(cluster_id as string) as cluster_id "  # noqa: S608
            f"from {clustered.physical_name} order by unique_id"
        )
        clusters, self.stats["clusters_split"] = split_conflicts(
            self.engine, predictions.physical_name, clusters, threshold
        )
        self.stats |= {
            "pairs_over_review": pairs.num_rows,
            "clusters": len(set(clusters.column("cluster_id").to_pylist())),
        }
        return LinkageResult(clusters, pairs, linker.misc.save_model_to_json(), self.stats)

    def _load(self, rows: Iterable[Mapping[str, str | None]] | pa.Table, block_cap: int) -> None:
        self.progress("features")
        self.engine.load("awda_rows", feature_batches(rows, self.plan), self.plan.schema())
        ((count, distinct),) = self.engine.rows("select count(*), count(distinct unique_id) from awda_rows")
        if count == 0:
            raise ValidationFailed("file", "has no rows to link")
        if count != distinct:
            raise ValidationFailed(self.plan.id_column, f"{count - distinct} id values appear more than once")
        self.progress("blocking")
        self.engine.create("awda_features", capped_keys_sql("awda_rows", self.plan, block_cap))
        self.stats |= {"rows": count, "block_cap": block_cap, **self._block_counts()}

    def _block_groups(self) -> list[tuple[str, ...]]:
        if self.plan.raw_names:
            present = {name for name, _ in self.plan.value_columns()}
            return [group for group in PLAIN_BLOCKS if all(column in present for column in group)]
        return [(key,) for key in self.plan.blocking_keys()]

    def _block_counts(self) -> dict[str, Any]:
        """Pairs each blocking rule makes (summed: a pair two rules find counts twice) and the largest block."""
        total, largest = 0, 0
        for group in self._block_groups():
            columns = ", ".join(group)
            present = " and ".join(f"{column} is not null" for column in group)
            ((pairs, biggest),) = self.engine.rows(
                "select coalesce(sum(n * (n - 1) / 2), 0), coalesce(max(n), 0) from "  # noqa: S608 (our column names)
                f"(select count(*) as n from awda_features where {present} group by {columns}) as blocks"
            )
            total, largest = total + int(pairs), max(largest, int(biggest))
        return {"blocking_rules": len(self._block_groups()), "blocked_pairs": total, "largest_block": largest}

    def _train(self, linker: Any, seed: int) -> None:
        training = linker.training
        self.progress("lambda")
        if self.model.exact_rules:
            training.estimate_probability_two_random_records_match(self.model.exact_rules, recall=EXACT_RULE_RECALL)
            self.stats["training"].append("lambda from deterministic rules")
        # No exact agreement at all (every duplicate spelled differently) would make λ zero and no
        # pair could ever match: assume instead about one duplicate per two rows.
        settings = linker._settings_obj  # Splink keeps λ here; no public setter
        floor = 0.1 / max(self.stats["rows"], 2)
        if settings._probability_two_random_records_match < floor:
            settings._probability_two_random_records_match = floor
            self.stats["training"].append("lambda floor")
        self.progress("u")
        training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed, num_chunks=1)
        self.stats["training"].append("u by random sampling")
        self.progress("em")
        trained = [self._expectation_maximisation(linker, rule) for rule in self.model.em_rules]
        if self.model.em_rules and not any(trained):
            raise ValidationFailed(
                "file", f"{self.stats['rows']} rows: too few agree on names or dates to learn from; link a larger file"
            )

    def _expectation_maximisation(self, linker: Any, rule: Any) -> bool:
        """m by EM over one blocking rule; stopped early if a level's m underflows to zero.

        On small or sparse data a level seen only among non-matches sees its m shrink to 0.0 in a few
        iterations, which Splink refuses (it cannot be a float64 weight). Fewer iterations stop before
        that; if even one iteration underflows, this rule's session is left out (the others still train m).
        """
        from splink.internals.exceptions import EMTrainingException

        settings = linker._settings_obj  # Splink reads its iteration cap here; no public setter
        cap = settings.training_settings.max_iterations
        for iterations in (cap, 5, 1):
            settings.training_settings = dataclasses.replace(settings.training_settings, max_iterations=iterations)
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=EM_MAX_PAIRS)
            except EMTrainingException:  # no pair agrees on this rule (a small file): nothing to learn from it
                self.stats["training"].append("m by EM: no pairs on a rule")
                return False
            except ValueError as error:
                if "below the minimum allowed value" not in str(error):
                    raise
                self.stats["training"].append(f"m by EM: underflow at {iterations} iterations")
                continue
            finally:
                settings.training_settings = dataclasses.replace(settings.training_settings, max_iterations=cap)
            self.stats["training"].append("m by EM" if iterations == cap else f"m by EM, {iterations} iterations")
            return True
        return False
