"""Arabic-aware name keys and comparison: the same person written in Arabic script or Latin letters.

`name_key` is a readable Latin key (Arabic script transliterated, Latin spellings normalised),
`phonetic_key` a coarse key on which common spelling variants meet (for blocking), `name_tokens`
the coarse keys of a full name's words, and `compare_names` the decision for two whole names.
The rules are described in docs/linkage.md ("Names"); the pieces live in `arabic.py`, `latin.py`,
`names_parts.py` (cutting a name into words) and `names_similarity.py` (how far two words are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from awda.linkage.names_parts import NameWord, name_words, sound_of, split_reading, split_sound_of, without_article
from awda.linkage.names_similarity import VOWELS, word_distance, word_score

MATCH_SCORE = 0.5
MAX_NAME_LENGTH = 500  # longer input is not a name; only its start is looked at
_COARSE = str.maketrans({"T": "s", "D": "d", "S": "c", "~": "h", "H": "h"})
_FINAL_VOWEL = {"a": "h", "e": "h", "A": "h", "i": "y", "I": "y", "Y": "y", "u": "w", "o": "w", "U": "w"}
_DOUBLES = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class NameComparison:
    """The score (0..1) of two names and whether they are taken as the same name (score >= 0.5)."""

    score: float
    match: bool


def _words(text: object) -> tuple[NameWord, ...]:
    if not isinstance(text, str) or not text:
        return ()
    return name_words(text[:MAX_NAME_LENGTH])


@lru_cache(maxsize=400_000)
def name_key(text: str) -> str:
    """Script-agnostic Latin key of a name: lower-case a-z and single spaces; "" for empty input."""
    return " ".join(word.text for word in _words(text))


@lru_cache(maxsize=400_000)
def coarse_key(sound: str) -> str:
    """The consonant skeleton of one sound string: an opening glottal as "a", the final vowel's kind kept."""
    out: list[str] = []
    last = len(sound.rstrip("~'")) - 1
    for index, symbol in enumerate(sound):
        if symbol in VOWELS:
            if index == last:
                out.append(_FINAL_VOWEL[symbol])
        elif symbol == "'":
            if index == 0:
                out.append("a")
        elif not _hamza_seat(sound, index):
            out.append(symbol)
    return _DOUBLES.sub(r"\1", "".join(out).translate(_COARSE))


def _hamza_seat(sound: str, index: int) -> bool:
    """The ya of فايز, نايف read letter by letter: a hamza that Latin writes y, ', or not at all."""
    following = sound[index + 1 : index + 2]
    return sound[index] == "y" and index > 0 and sound[index - 1] == "A" and following not in ("", *VOWELS)


@lru_cache(maxsize=400_000)
def phonetic_key(text: str) -> str:
    """Coarse key on which common spelling variants of a name meet (محمد, Mohammed, Muhammad, Mhd); "" for empty."""
    return " ".join(name_tokens(text))


def clear_caches() -> None:
    """Forget every cached key and score (for benchmarks that time a cold start, and to free memory)."""
    for cached in (name_key, phonetic_key, coarse_key, name_words, word_score, word_distance, sound_of, split_sound_of):
        cached.cache_clear()


def name_tokens(text: str) -> list[str]:
    """The phonetic keys of the words of a full name: compounds one token, article and bin/ibn gone."""
    return [key for key in (coarse_key(word.sound) for word in _words(text)) if key]


def compare_names(a: str, b: str) -> NameComparison:
    """Score two names (one part or a whole chain, either script) and decide whether they match."""
    left, right = _words(a), _words(b)
    if not left or not right:
        return NameComparison(0.0, False)
    score = _chain_score(left, right) if len(left) <= len(right) else _chain_score(right, left)
    return NameComparison(round(score, 6), score >= MATCH_SCORE)


def _similarity(left: NameWord, right: NameWord) -> float:
    if left.arabic and right.arabic:
        return word_score(left.arabic, True, right.arabic, True)
    score = word_score(left.sound, left.skeletal, right.sound, right.skeletal)
    if score < 1.0:  # Alomar, Alissa, Alali: a joined article too short to strip safely from the word alone
        for one, other in ((left, right), (right, left)):
            if (bare := without_article(one)) is not None:
                score = max(score, word_score(bare, False, other.sound, other.skeletal))
            if other.skeletal and (split := split_reading(one)) is not None:
                score = max(score, word_score(split, False, other.sound, True))
    return score


def _chain_score(short: tuple[NameWord, ...], long: tuple[NameWord, ...]) -> float:
    """First with first and last with last; the shorter chain's middle words in order in the longer one.

    A chain may lack the father's and grandfather's names (2 words against 4); a given name alone
    never matches a full name, and a chain whose family name is missing matches only as the first
    words of the other (given, father...), with a lower score.
    """
    first = _similarity(short[0], long[0])
    if len(short) == 1:
        return first if len(long) == 1 else min(first, MATCH_SCORE - 0.01) * 0.9
    ends = _aligned(short, long)
    prefix = _aligned(short, long[: len(short)]) if len(long) > len(short) else None
    missing = len(long) - len(short)
    if ends is not None:
        return MATCH_SCORE + (ends - MATCH_SCORE) * (1 - 0.04 * missing)
    if prefix is not None:
        return MATCH_SCORE + (prefix - MATCH_SCORE) * (0.8 - 0.04 * missing)
    last = _similarity(short[-1], long[-1])
    return min(MATCH_SCORE - 0.01, (first + last) / 2) * 0.9


def _aligned(short: tuple[NameWord, ...], long: tuple[NameWord, ...]) -> float | None:
    """Mean similarity of the best in-order alignment with both ends fixed, or None if a word fails."""
    if _similarity(short[0], long[0]) < MATCH_SCORE or _similarity(short[-1], long[-1]) < MATCH_SCORE:
        return None
    scores = [_similarity(short[0], long[0]), _similarity(short[-1], long[-1])]
    start = 1
    for word in short[1:-1]:
        found = next(
            (j for j in range(start, len(long) - 1) if _similarity(word, long[j]) >= MATCH_SCORE),
            None,
        )
        if found is None:
            return None
        scores.append(_similarity(word, long[found]))
        start = found + 1
    return sum(scores) / len(scores)
