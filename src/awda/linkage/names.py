"""Arabic-aware name keys and comparison: the same person written in Arabic script or Latin letters.

First published interface; the internals are refined in later commits, the signatures stay.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NON_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r" +")


@dataclass(frozen=True)
class NameComparison:
    """The score (0..1) of two names and whether they are taken as the same name."""

    score: float
    match: bool


@lru_cache(maxsize=200_000)
def name_key(text: str) -> str:
    """Script-agnostic Latin key of a name: lower-case a-z and single spaces; "" for empty input."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", str(text).lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _NON_LETTER.sub(" ", folded)).strip()


@lru_cache(maxsize=200_000)
def phonetic_key(text: str) -> str:
    """Coarse key on which common spelling variants of one name meet; "" for empty input."""
    key = name_key(text).replace(" ", "")
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouy]", "", key))


def name_tokens(text: str) -> list[str]:
    """The phonetic keys of the parts of a full name, compound names kept as one token."""
    return [key for key in (phonetic_key(part) for part in name_key(text).split()) if key]


def compare_names(a: str, b: str) -> NameComparison:
    """Score two names (one part or a whole chain, either script) and decide whether they match."""
    left, right = name_tokens(a), name_tokens(b)
    if not left or not right:
        return NameComparison(0.0, False)
    shared = len(set(left) & set(right))
    score = shared / max(len(set(left)), len(set(right)))
    return NameComparison(score, left[0] == right[0] and left[-1] == right[-1])
