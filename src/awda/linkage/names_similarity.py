"""How far apart two name words are: an edit distance over sound strings with costs that know Arabic names.

Consonants carry a name: a consonant missing or replaced costs 1, except where transliterations
genuinely waver (th/s/t for ث, dh/d/z for ذ ض ظ, k/g, j/g, kh/h, sh/s). Short vowels are written
as the writer hears them: a/e and e/i and o/u trade cheaply, a/i and a/u and i/u do not (Hamad is
not Hamid, Jamal is not Jamil). A vowel inserted or dropped inside a word costs little (Fatima,
Fatma), but a final vowel is the feminine or nisba ending and costs 1 (Ali/Alia, Samir/Samira,
Nour/Nouri). A skeletal string (Arabic not found in the vowelisation table) accepts any short
vowel almost for free, and its long vowels must be met by a vowel of their kind.
"""

from __future__ import annotations

from functools import lru_cache

SHORT_VOWELS = frozenset("aeiou")
LONG_VOWELS = frozenset("AIUY")
VOWELS = SHORT_VOWELS | LONG_VOWELS
MATCH_COST = 0.5  # at most this (scaled by length) for two words to be the same name

_PAIR_COSTS: dict[frozenset[str], float] = {}


def _costs(pairs: str, cost: float) -> None:
    for pair in pairs.split():
        _PAIR_COSTS[frozenset(pair)] = cost


_costs("ou Uo Aa Ii Uu", 0.0)
_costs("ae ei", 0.2)
_costs("Ae Iy Uw yi wu wo Ts Dd Dz ~h TD", 0.2)
_costs("Ie", 0.55)  # a long i is seldom written e: Sameer is not Samer
_costs("Tt jg", 0.3)
_costs("eo eu", 0.4)
_costs("'y", 0.3)
_costs("'w Tz", 0.4)
_costs("dz sz xh xk ~'", 0.5)
_costs("Ss", 0.6)
_costs("'h ao Ao kg", 0.6)
_costs("H~ YI Yi", 0.0)
_costs("Ha He Hh Ya Ye YA Yy", 0.15)


def substitution_cost(left: str, right: str) -> float:
    """Cost of reading one symbol as another."""
    if left == right:
        return 0.0
    cost = _PAIR_COSTS.get(frozenset((left, right)))
    if cost is not None:
        return cost
    return 0.7 if left in VOWELS and right in VOWELS else 1.0


def _final_substitution(left: str, right: str, cost: float) -> float:
    """At the end of a word: -eh and -a are one ending (Fatmeh, Fatma); a final ain is often an h (Rabih)."""
    pair = {left, right}
    if pair == {"a", "e"}:
        return 0.05
    if pair == {"'", "h"}:
        return 0.3
    return cost


def _is_final(sound: str, index: int) -> bool:
    rest = sound[index + 1 :]
    return rest in ("", "~")


def _in_last_syllable(sound: str, index: int) -> bool:
    """A vowel between the last two consonants: Majid/Majd, Nasir/Nasr are different names."""
    rest = sound[index + 1 :].rstrip("~")
    return len(rest) == 1 and rest not in VOWELS and sound[index - 1] not in VOWELS


_CONSONANT_INDEL = {"~": 0.05, "y": 0.6, "w": 0.6}


def indel_cost(sound: str, index: int, other_skeletal: bool, own_skeletal: bool = False) -> float:
    """Cost of a symbol that has nothing facing it in the other word."""
    symbol = sound[index]
    if symbol in SHORT_VOWELS:
        return _short_vowel_indel(sound, index, other_skeletal)
    if symbol in LONG_VOWELS:  # against another Arabic spelling a long vowel is a letter like any other
        if _is_final(sound, index):
            return 1.0
        if symbol == "U" and other_skeletal and not own_skeletal:  # a Latin ou is often a short u: Choukri
            return 0.3
        return 0.6 if other_skeletal else 0.5
    if symbol == "'":
        return 0.8 if index == 0 else 0.2
    return _CONSONANT_INDEL.get(symbol, 1.0)


def _short_vowel_indel(sound: str, index: int, other_skeletal: bool) -> float:
    """Final vowels are endings (1); the vowel of an opening hamza and a last-syllable vowel matter more."""
    if _is_final(sound, index):
        if index and sound[index - 1] == "'":
            return 0.2  # Ala'a and Ala', Jum'a
        # -ah against Arabic letters: the h may be a real one (Marah, مرح), not a ta marbuta
        return 0.05 if other_skeletal and sound[index + 1 :] == "~" else 1.0
    if other_skeletal:
        return 0.05
    if index == 1 and sound[0] == "'":
        return 0.6
    if _in_last_syllable(sound, index):
        # An e or an a after an ain is how Latin breaks up a final cluster (Bader, Sa'ad); i, o, u are not.
        return 0.3 if sound[index - 1] == "'" and sound[index] == "a" else 0.45 if sound[index] == "e" else 0.6
    return 0.3


@lru_cache(maxsize=500_000)
def word_distance(left: str, left_skeletal: bool, right: str, right_skeletal: bool) -> float:
    """Weighted edit distance of two sound strings."""
    previous = [0.0]
    for j in range(len(right)):
        previous.append(previous[-1] + indel_cost(right, j, left_skeletal, right_skeletal))
    across_scripts = left_skeletal != right_skeletal
    for i in range(len(left)):
        drop_left = indel_cost(left, i, right_skeletal, left_skeletal)
        current = [previous[0] + drop_left]
        for j in range(len(right)):
            replace = _replace_cost(left, i, right, j, across_scripts)
            current.append(
                min(
                    previous[j] + replace,
                    previous[j + 1] + drop_left,
                    current[j] + indel_cost(right, j, left_skeletal, right_skeletal),
                )
            )
        previous = current
    return previous[-1]


def _replace_cost(left: str, i: int, right: str, j: int, across_scripts: bool) -> float:
    """`substitution_cost` where the place in the word matters."""
    replace = substitution_cost(left[i], right[j])
    if replace == 0.0:
        return replace
    if i == 0 and j == 0 and replace < 1.0 and "'" in (left[0], right[0]):
        return 1.0  # an opening glottal stop is no y or w: Amin is not Yamin, Asim not Wasim
    if _is_final(left, i) and _is_final(right, j):
        replace = _final_substitution(left[i], right[j], replace)
    if across_scripts and {left[i], right[j]} == {"I", "e"}:
        replace = 0.3  # an Arabic ya read as a Latin e (Michel, ميشيل); only a Latin ee against e is far
    return replace


def length_scale(left: str, right: str) -> float:
    """Long words (compounds) may gather a few more small differences than short ones."""
    consonants = min(sum(1 for ch in side if ch not in VOWELS) for side in (left, right))
    return 1.0 + 0.15 * max(0, consonants - 4)


@lru_cache(maxsize=500_000)
def word_score(left: str, left_skeletal: bool, right: str, right_skeletal: bool) -> float:
    """1 for the same sound, falling to 0; two words are one name at 0.5 and above."""
    if not left or not right:
        return 0.0
    distance = word_distance(left, left_skeletal, right, right_skeletal)
    return max(0.0, 1.0 - distance / (2 * MATCH_COST * length_scale(left, right)))
