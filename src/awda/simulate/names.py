"""Name entries with weighted Latin transliteration variants, and fast weighted samplers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from awda.simulate import name_tables as tables

# Arabic "sun letters": the article's l assimilates to them (Abd al-Salam -> Abd as-Salam).
SUN_LETTERS = frozenset("تثدذرزسشصضطظلن")

# (pattern, weight) for "عبد ال...": {S} the capitalised stem, {s} the lower-case stem.
ABD_PATTERNS: tuple[tuple[str, int], ...] = (
    ("Abdul {S}", 4),
    ("Abdul{s}", 2),
    ("Abd al-{S}", 2),
    ("Abdel {S}", 1),
    ("Abd Al-{S}", 1),
)
# Extra assimilated spellings for sun-letter stems: Abd ar-Rahman, Abdurrahman.
ABD_SUN_PATTERNS: tuple[tuple[str, int], ...] = (("Abd {c}-{S}", 1), ("Abdu{c1}{s}", 1))
# Article spellings of family names: al-Husseini, Al-Husseini, Al Husseini, el-Husseini, ...
ARTICLE_PATTERNS: tuple[tuple[str, int], ...] = (
    ("al-{S}", 4),
    ("Al-{S}", 2),
    ("Al {S}", 2),
    ("el-{S}", 1),
    ("Al{s}", 1),
    ("{S}", 2),
)
MOHAMMED_ARABIC = "محمد"


@dataclass(frozen=True, eq=False, slots=True)
class NameEntry:
    """One Arabic name and its Latin spellings, repeated by weight (identity-hashed, fast)."""

    ar: str
    lat: tuple[str, ...]

    def spellings(self) -> list[str]:
        """Distinct Latin spellings, most common first."""
        return sorted(set(self.lat), key=lambda s: (-self.lat.count(s), s))


def parse_variants(spec: str) -> list[tuple[str, int]]:
    """Parse ``"Mohammed:4|Mhd"`` into ``[("Mohammed", 4), ("Mhd", 1)]``."""
    out: list[tuple[str, int]] = []
    for item in spec.split("|"):
        text, _, weight = item.partition(":")
        out.append((text, int(weight) if weight else 1))
    return out


def _expand(weighted: Iterable[tuple[str, int]]) -> tuple[str, ...]:
    out: list[str] = []
    for text, weight in weighted:
        out.extend([text] * weight)
    return tuple(out)


def _abd_variants(core_ar: str, spec: str) -> list[tuple[str, int]]:
    variants: list[tuple[str, int]] = []
    sun = core_ar[1] in SUN_LETTERS  # core_ar starts with the article "ال"
    for stem, stem_weight in parse_variants(spec):
        fields = {"S": stem, "s": stem.lower(), "c": "a" + stem[0].lower(), "c1": stem[0].lower()}
        patterns = ABD_PATTERNS + (ABD_SUN_PATTERNS if sun and stem[1] != "h" else ())
        for pattern, weight in patterns:
            variants.append((pattern.format(**fields), weight * stem_weight))
    return variants


def _article_variants(spec: str) -> list[tuple[str, int]]:
    return [
        (pattern.format(S=stem, s=stem.lower()), weight * stem_weight)
        for stem, stem_weight in parse_variants(spec)
        for pattern, weight in ARTICLE_PATTERNS
    ]


def _mohammed_variants(spec: str) -> list[tuple[str, int]]:
    first = parse_variants(tables.MALE_GIVEN[0][1])
    second = parse_variants(spec)
    return [(f"{a} {b}", wa * wb) for (a, wa), (b, wb) in product(first, second)]


def _entries(
    rows: Sequence[tables.NameRow],
    variants: Callable[[str, str], list[tuple[str, int]]],
    arabic: Callable[[str], str] = str,
) -> list[tuple[NameEntry, int]]:
    return [(NameEntry(arabic(ar), _expand(variants(ar, spec))), pop) for ar, spec, pop in rows]


def _family_variants(ar: str, spec: str) -> list[tuple[str, int]]:
    return _article_variants(spec) if ar.startswith("ال") else parse_variants(spec)


def _plain(_ar: str, spec: str) -> list[tuple[str, int]]:
    return parse_variants(spec)


@dataclass(frozen=True, slots=True)
class NameTables:
    """Weighted sampling tables: index with ``int(random() * len(table))``."""

    male: tuple[NameEntry, ...]
    female: tuple[NameEntry, ...]
    family: tuple[NameEntry, ...]

    def all_entries(self) -> set[NameEntry]:
        """Every distinct entry (for tests and documentation)."""
        return set(self.male) | set(self.female) | set(self.family)


def _weighted_table(weighted: Iterable[tuple[NameEntry, int]]) -> tuple[NameEntry, ...]:
    out: list[NameEntry] = []
    for entry, weight in weighted:
        out.extend([entry] * weight)
    return tuple(out)


@lru_cache(maxsize=1)
def name_tables() -> NameTables:
    """Build the sampling tables once per process (pure data, no randomness)."""
    male = _entries(tables.MALE_GIVEN, _plain)
    male += _entries(tables.MALE_FIXED_COMPOUNDS, _plain)
    male += _entries(tables.ABD_COMPOUNDS, _abd_variants, lambda core: "عبد " + core)
    male += _entries(
        tables.MOHAMMED_COMPOUNDS,
        lambda _ar, spec: _mohammed_variants(spec),
        lambda second: f"{MOHAMMED_ARABIC} {second}",
    )
    female = _entries(tables.FEMALE_GIVEN, _plain)
    family = _entries(tables.FAMILY, _family_variants)
    return NameTables(_weighted_table(male), _weighted_table(female), _weighted_table(family))
