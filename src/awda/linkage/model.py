"""Splink settings from the roles present: awda's comparisons on our name keys, or Splink's plain ones.

The settings are dialect-free creators (Splink writes the SQL for DuckDB or Spark when the Linker
is built), so one model serves both engines. Training rules (deterministic rules for λ, blocking
rules for EM) are chosen here too, from whatever columns the plan has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from awda.linkage.features import FeaturePlan
from awda.linkage.roles import NAME_ROLES

ModelKind = Literal["awda", "plain"]
NAME_JW: Final = (0.92, 0.85)
PLAIN_BLOCKS: Final = (
    ("given_name_raw", "family_name_raw"),
    ("full_name_raw",),
    ("birth_date_text",),
    ("id_number",),
    ("phone",),
    ("postcode",),
)
# Deterministic rules for λ: all columns equal means the same person, almost never by chance.
EXACT_RULES: Final = (
    ("id_number", "birth_year"),
    ("bk_names_any_order", "birth_date"),
    ("given_name_key", "family_name_key", "birth_date"),
    ("given_name_key", "father_name_key", "family_name_key", "birth_year"),
    ("full_name_key", "birth_date"),
    ("phone", "given_name_key"),
    ("full_name_key", "birth_year"),
)
# EM blocks on columns its comparisons read, so Splink leaves those comparisons out of that session;
# names by their phonetic sets, so duplicates spelled differently are among the pairs it learns from.
EM_RULES: Final = (
    ("birth_date",),
    ("given_name_ph", "family_name_ph"),
    ("id_number",),
    ("full_name_key",),
    ("phone",),
    ("postcode", "street_number"),
    ("locality",),
)


@dataclass(frozen=True)
class Model:
    """The Splink settings and the rules used to train them without labels."""

    settings: SettingsCreator
    exact_rules: list[BlockingRuleCreator] = field(default_factory=list)
    em_rules: list[BlockingRuleCreator] = field(default_factory=list)


def _level(sql: str, label: str) -> ComparisonLevelCreator:
    return cll.CustomLevel(sql, label_for_charts=label)


def _name_comparison(role: str, swap_with: str | None = None) -> ComparisonCreator:
    key = f"{role}_key"
    swapped: list[ComparisonLevelCreator] = []
    if swap_with is not None:  # given and family names written in each other's place
        swapped.append(
            cll.ColumnsReversedLevel(key, f"{swap_with}_key", symmetrical=True).configure(label_for_charts="swapped")
        )
    return cl.CustomComparison(
        [
            cll.NullLevel(key),
            cll.ExactMatchLevel(key, term_frequency_adjustments=True),
            *swapped,
            cll.ArrayIntersectLevel(f"{role}_keys", 1).configure(label_for_charts="a spelling in common"),
            cll.ArrayIntersectLevel(f"{role}_ph", 1).configure(label_for_charts="phonetic key in common"),
            *(cll.JaroWinklerLevel(key, threshold) for threshold in NAME_JW),
            cll.ElseLevel(),
        ],
        output_column_name=role,
    )


def _patronymic_comparison(with_grandfather: bool) -> ComparisonCreator:
    """Father (and grandfather) as one chain, so agreeing lineage is not counted twice as independent."""
    both = "father_name_ph and grandfather_name_ph"
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [cll.NullLevel("father_name_key")]
    if with_grandfather:
        levels.append(
            cll.And(cll.ExactMatchLevel("father_name_key"), cll.ExactMatchLevel("grandfather_name_key")).configure(
                label_for_charts="father and grandfather exact"
            )
        )
        levels.append(
            cll.And(
                cll.ArrayIntersectLevel("father_name_ph", 1), cll.ArrayIntersectLevel("grandfather_name_ph", 1)
            ).configure(label_for_charts=f"{both} phonetic")
        )
    levels += [
        cll.ExactMatchLevel("father_name_key").configure(label_for_charts="father exact"),
        cll.ArrayIntersectLevel("father_name_ph", 1).configure(label_for_charts="father phonetic"),
        cll.JaroWinklerLevel("father_name_key", NAME_JW[0]),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="patronymic")


def _full_name_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        [
            cll.NullLevel("full_name_key"),
            cll.ExactMatchLevel("full_name_key", term_frequency_adjustments=True),
            cll.ArrayIntersectLevel("full_name_tokens", 3),
            cll.JaroWinklerLevel("full_name_key", 0.92),
            cll.ArrayIntersectLevel("full_name_tokens", 2),
            cll.ArrayIntersectLevel("full_name_tokens", 1),
            cll.ElseLevel(),
        ],
        output_column_name="full_name",
    )


def _birth_comparison() -> ComparisonCreator:
    """Exact date; a one-character slip; one side with the year only and the same year; within a year."""
    one_side_year_only = "(birth_date_l is null or birth_date_r is null) and birth_year_l = birth_year_r"
    transposed = "birth_year_l = birth_year_r and birth_month_l = birth_day_r and birth_day_l = birth_month_r"
    return cl.CustomComparison(
        [
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("birth_date").configure(label_for_charts="same date"),
            _level(one_side_year_only, "same year, one side has the year only"),
            cll.DamerauLevenshteinLevel("birth_date_text", 1).configure(label_for_charts="one digit off"),
            _level(transposed, "day and month swapped"),
            cll.ExactMatchLevel("birth_year").configure(label_for_charts="same year"),
            _level("abs(birth_year_l - birth_year_r) <= 1", "within a year"),
            cll.ElseLevel(),
        ],
        output_column_name="birth",
    )


def _typo_comparison(column: str, tf: bool = False) -> ComparisonCreator:
    return cl.CustomComparison(
        [
            cll.NullLevel(column),
            cll.ExactMatchLevel(column, term_frequency_adjustments=tf),
            cll.DamerauLevenshteinLevel(column, 1),
            cll.ElseLevel(),
        ],
        output_column_name=column,
    )


def _fuzzy_text_comparison(column: str, thresholds: tuple[float, ...]) -> ComparisonCreator:
    return cl.CustomComparison(
        [
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            *(cll.JaroWinklerLevel(column, threshold) for threshold in thresholds),
            cll.ElseLevel(),
        ],
        output_column_name=column,
    )


def _other_comparisons(plan: FeaturePlan) -> list[ComparisonCreator]:
    comparisons: list[ComparisonCreator] = []
    if plan.has_birth():
        comparisons.append(_birth_comparison())
    for column in ("id_number", "phone", "postcode"):
        if plan.has(column):
            comparisons.append(_typo_comparison(column))
    if plan.has("address"):
        comparisons.append(_fuzzy_text_comparison("address", (0.92, 0.8)))
    if plan.has("locality"):
        comparisons.append(_fuzzy_text_comparison("locality", (0.9,)))
    for column in ("street_number", "sex", "region"):
        if plan.has(column):
            comparisons.append(cl.ExactMatch(column))
    return comparisons


def awda_comparisons(plan: FeaturePlan) -> list[ComparisonCreator]:
    both = plan.has("given_name") and plan.has("family_name")
    comparisons: list[ComparisonCreator] = []
    if plan.has("given_name"):
        comparisons.append(_name_comparison("given_name", "family_name" if both else None))
    if plan.has("family_name"):
        comparisons.append(_name_comparison("family_name", "given_name" if both else None))
    if plan.has("father_name"):
        comparisons.append(_patronymic_comparison(plan.has("grandfather_name")))
    elif plan.has("grandfather_name"):
        comparisons.append(_name_comparison("grandfather_name"))
    if plan.has("full_name"):
        comparisons.append(_full_name_comparison())
    return comparisons + _other_comparisons(plan)


def plain_comparisons(plan: FeaturePlan) -> list[ComparisonCreator]:
    """Splink's own defaults on the raw, lower-cased names; the other roles as in awda's model."""
    names: list[ComparisonCreator] = [
        cl.NameComparison(f"{role}_raw") for role in (*NAME_ROLES, "full_name") if plan.has(role)
    ]
    return names + _other_comparisons(plan)


def _available(plan: FeaturePlan, columns: tuple[str, ...]) -> bool:
    present = set(plan.schema().names)
    return all(column in present for column in columns)


def _rules(rules: tuple[tuple[str, ...], ...], kind: ModelKind) -> list[tuple[str, ...]]:
    """The plain model compares raw names, so its training rules use them too."""
    if kind == "awda":
        return list(rules)
    return [tuple(column.replace("_key", "_raw").replace("_ph", "_raw") for column in rule) for rule in rules]


def build_model(plan: FeaturePlan, kind: ModelKind = "awda") -> Model:
    """Settings, deterministic rules and EM blocking rules for the roles in `plan`."""
    if kind == "plain":
        blocks = [block_on(*columns) for columns in PLAIN_BLOCKS if _available(plan, columns)]
        comparisons = plain_comparisons(plan)
    else:
        blocks = [block_on(key) for key in plan.blocking_keys()]
        comparisons = awda_comparisons(plan)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=list(comparisons),
        blocking_rules_to_generate_predictions=list(blocks),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
    )
    exact = [block_on(*rule) for rule in _rules(EXACT_RULES, kind) if _available(plan, rule)]
    em = [block_on(*rule) for rule in _rules(EM_RULES, kind) if _available(plan, rule)][:3]
    return Model(settings, exact[:4], em)
