"""A full name, in either script or both, cut into compound-aware words, each with its sound string.

Arabic runs are cut at spaces, the article and the patronymic markers (بن ابن بنت) come off, and
the compounds are joined as Latin spellings join them (`latin.join_compounds`): عبد الرحمن,
عبدالله, أبو زيد, نور الدين, نصر الله. Each word is read from the vowelisation table when it is
there, letter by letter otherwise (then the word is *skeletal*: see `names_similarity`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from awda.linkage.arabic import (
    is_arabic,
    is_patronymic_marker,
    lookup_form,
    normalise_arabic,
    skeletal_sound,
    strip_article,
    vowelised,
)
from awda.linkage.latin import latin_sound, latin_words


class NameWord(NamedTuple):
    """One word of a name: its Latin key text (a-z), its sound string, whether that is skeletal, and,
    for a word written in Arabic script, its letter-by-letter sound (two Arabic spellings are
    compared on that: it keeps the long vowels a table reading cannot show, سامر against سمير)."""

    text: str
    sound: str
    skeletal: bool
    arabic: str = ""


_WORD_SPLIT = re.compile(r"[\s\-_.,;:/\\|()\[\]{}\"]+")
_ARTICLE = "ال"
_ABD, _ABU, _DIN, _ALLAH = "عبد", ("ابو", "أبو"), "الدين", "الله"
_SOUND_TO_TEXT = str.maketrans(
    {"A": "a", "I": "i", "U": "u", "Y": "i", "'": "", "~": "h", "H": "h"}
    | {"T": "th", "D": "dh", "S": "sh", "x": "kh", "g": "gh"}
)


@lru_cache(maxsize=400_000)
def name_words(text: str) -> tuple[NameWord, ...]:
    """The words of a name (one part or a whole chain), compounds joined, articles and markers gone."""
    runs: list[tuple[bool, list[str]]] = []
    if text.isascii():  # no Arabic, nothing for NFKC to fold
        return tuple(word for word in _latin_run(text) if word.sound.strip("'~"))
    for word in _WORD_SPLIT.split(normalise_arabic(text)):
        if not word:
            continue
        arabic = is_arabic(word)
        if runs and runs[-1][0] == arabic:
            runs[-1][1].append(word)
        else:
            runs.append((arabic, [word]))
    words: list[NameWord] = []
    for arabic, run in runs:
        words.extend(_arabic_words(run) if arabic else _latin_run(" ".join(run)))
    return tuple(word for word in words if word.sound.strip("'~"))


def _latin_run(text: str) -> list[NameWord]:
    return [NameWord(word.replace("'", ""), sound_of(word), False) for word in latin_words(text)]


@lru_cache(maxsize=200_000)
def sound_of(latin: str) -> str:
    """`latin.latin_sound`, cached (names repeat heavily)."""
    return latin_sound(latin)


@lru_cache(maxsize=100_000)
def split_sound_of(latin: str) -> str:
    """`latin.latin_sound` reading th, dh and sh as two letters, cached."""
    return latin_sound(latin, split=True)


def split_reading(word: NameWord) -> str | None:
    """For a Latin word with th, dh or sh: its sound with those as two letters (Fathi, فتحي)."""
    if word.skeletal or word.arabic or not any(pair in word.text for pair in ("th", "dh", "sh")):
        return None
    return split_sound_of(word.text)


def without_article(word: NameWord) -> str | None:
    """The sound of a Latin word without a joined al-/el- before a vowel (Alomar), if it has one."""
    if word.arabic or word.skeletal or len(word.text) < 5 or word.text[:2] not in ("al", "el"):
        return None
    return sound_of(word.text[2:]) if word.text[2] in "aeiou" else None


def _split_joined(word: str) -> list[str]:
    """عبدالرحمن -> عبد الرحمن; نورالدين -> نور الدين; نصرالله -> نصر الله; أبوزيد -> أبو زيد."""
    for head in (_ABD, _ARTICLE + _ABD):  # العبدالله: a family name with the article before the compound
        if word.startswith(head + _ARTICLE) and len(word) > len(head) + 2:
            return [_ABD, word[len(head) :]]
    for head in _ABU:
        if word.startswith(head) and len(word) > 4 and not vowelised(word):
            return [head, word[3:]]
    for tail in (_DIN, _ALLAH):
        if word.endswith(tail) and len(word) > len(tail) + 1 and not vowelised(word):
            return [word[: -len(tail)], tail]
    return [word]


def _arabic_words(run: list[str]) -> list[NameWord]:
    pieces = [piece for word in run if not is_patronymic_marker(word) for piece in _split_joined(word)]
    out: list[list[str]] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        if piece in (_DIN, _ALLAH) and out:
            out[-1].append(piece)
        elif piece == _ARTICLE:
            pass
        elif (piece == _ABD or piece in _ABU) and index + 1 < len(pieces):
            out.append([piece, pieces[index + 1]])
            index += 1
        else:
            out.append([piece])
        index += 1
    return [_compound_word(parts) for parts in out]


def _compound_word(parts: list[str]) -> NameWord:
    """Join the readings of a compound's parts the way `latin.join_compounds` joins Latin ones."""
    readings: list[tuple[str, str | None]] = []
    for position, part in enumerate(parts):
        if position == 0 and len(parts) > 1 and (part == _ABD or part in _ABU):
            readings.append((part, "abdul" if part == _ABD else "abu"))
        elif position > 0 and part == _DIN:
            readings.append((part, "aldin"))
        elif position > 0 and part == _ALLAH:
            readings.append((part, "lah" if readings[-1][1] == "abdul" else "allah"))
        else:
            bare = strip_article(part)
            readings.append((bare, vowelised(bare)))
    letters = skeletal_sound(lookup_form("".join(strip_article(part) for part in parts)))
    if all(latin is not None for _, latin in readings):
        text = "".join(latin or "" for _, latin in readings)
        return NameWord(text.replace("'", ""), sound_of(text), False, letters)
    sounds = [sound_of(latin) if latin is not None else skeletal_sound(arabic) for arabic, latin in readings]
    sound = sounds[0] + "".join(part.lstrip("'") for part in sounds[1:])
    return NameWord(sound.translate(_SOUND_TO_TEXT), sound, True, letters)
