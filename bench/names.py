"""Name keys at registry scale: awda's `name_key` and `phonetic_key` against a bare normalisation of the same names.

    .venv/bin/python bench/names.py [--persons 200000] [--seed 1] [--rounds 3] [--json]

Each person has five name parts (given, father, grandfather, mother, family), drawn from the
simulator's name tables with their real skew (a few names are very common), each part in Arabic
script (30%) or one of its Latin spellings. awda keys every part with `name_key` and
`phonetic_key`, starting with empty caches each round (the caches are part of the design: names
repeat). The baseline does the least any keying must do to the same parts: `str.lower` and
`unicodedata.normalize("NFKC", ...)`. Each side keeps its best round; the figure is awda's name
parts per second and the ratio baseline time / awda time.

The simulator's tables hold a few thousand distinct spellings; a real registry holds more (rare
names, typing slips). So a second figure keys, with empty caches, that many distinct parts made
by changing one letter of the simulated ones (`--distinct`): the rate of the uncached path.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from awda.linkage.names import clear_caches, name_key, phonetic_key
from awda.simulate.names import NameEntry, name_tables

TARGET_PARTS_PER_SECOND = 100_000
ARABIC_SHARE = 0.3
ROUNDS = 3
DISTINCT = 50_000


def name_parts(persons: int, seed: int) -> list[str]:
    """Five name parts per person, as registrars write them (Arabic script or a Latin spelling)."""
    rng = random.Random(seed)
    tables = name_tables()

    def spell(table: tuple[NameEntry, ...]) -> str:
        entry = table[int(rng.random() * len(table))]
        return entry.ar if rng.random() < ARABIC_SHARE else entry.lat[int(rng.random() * len(entry.lat))]

    parts: list[str] = []
    for _ in range(persons):
        female = rng.random() < 0.5
        given = spell(tables.female if female else tables.male)
        parts += [given, spell(tables.male), spell(tables.male), spell(tables.female), spell(tables.family)]
    return parts


def distinct_parts(parts: list[str], count: int, seed: int) -> list[str]:
    """`count` distinct spellings: the simulated ones, then copies with one letter changed."""
    rng = random.Random(seed)
    seen = sorted(set(parts))
    out, known = list(seen), set(seen)
    latin, arabic = "aeioubdhklmnrst", "ابتدرسعفقلمنهوي"
    while len(out) < count:
        base = seen[int(rng.random() * len(seen))]
        letters = arabic if any("\u0600" <= ch <= "\u06ff" for ch in base) else latin
        at = int(rng.random() * (len(base) + 1))
        changed = base[:at] + letters[int(rng.random() * len(letters))] + base[at + 1 :]
        if changed not in known:
            known.add(changed)
            out.append(changed)
    return out[:count]


def awda_keys(parts: list[str]) -> int:
    clear_caches()
    return sum(len(name_key(part)) + len(phonetic_key(part)) for part in parts)


def baseline_keys(parts: list[str]) -> int:
    return sum(len(unicodedata.normalize("NFKC", part.lower())) for part in parts)


def best_time(rounds: int, work: Callable[[], int]) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def run(persons: int, seed: int, rounds: int = ROUNDS, distinct: int = DISTINCT) -> dict[str, Any]:
    parts = name_parts(persons, seed)
    awda_seconds = best_time(rounds, lambda: awda_keys(parts))
    baseline_seconds = best_time(rounds, lambda: baseline_keys(parts))
    rate = len(parts) / awda_seconds
    unique = distinct_parts(parts, distinct, seed)
    cold_seconds = best_time(rounds, lambda: awda_keys(unique))
    cold_baseline_seconds = best_time(rounds, lambda: baseline_keys(unique))
    return {
        "persons": persons,
        "name_parts": len(parts),
        "distinct_parts": len(set(parts)),
        "awda_seconds": round(awda_seconds, 3),
        "baseline_seconds": round(baseline_seconds, 3),
        "awda_parts_per_second": round(rate),
        "baseline_parts_per_second": round(len(parts) / baseline_seconds),
        "ratio": round(baseline_seconds / awda_seconds, 3),
        "uncached_parts": len(unique),
        "awda_uncached_parts_per_second": round(len(unique) / cold_seconds),
        "uncached_ratio": round(cold_baseline_seconds / cold_seconds, 4),
        "target_parts_per_second": TARGET_PARTS_PER_SECOND,
        "target_met": rate >= TARGET_PARTS_PER_SECOND,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--distinct", type=int, default=DISTINCT)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.persons, arguments.seed, arguments.rounds, arguments.distinct)
    if arguments.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['name_parts']:,} name parts ({result['distinct_parts']:,} distinct): awda "
            f"{result['awda_parts_per_second']:,}/s, baseline {result['baseline_parts_per_second']:,}/s, "
            f"ratio {result['ratio']} (target {TARGET_PARTS_PER_SECOND:,}/s: "
            f"{'met' if result['target_met'] else 'not met'}); uncached, {result['uncached_parts']:,} distinct parts: "
            f"awda {result['awda_uncached_parts_per_second']:,}/s, ratio {result['uncached_ratio']}"
        )


if __name__ == "__main__":
    main()
