"""Latin spellings of Arabic names: plain words first, then the sound string the comparison works on.

`latin_words` is the light step (case, accents, transliteration marks, hyphens, abbreviations,
articles, compounds joined): its output, with apostrophes dropped, is what `name_key` shows.
`latin_sound` is the heavy step on one word: digraphs to one symbol (kh -> x, sh/ch -> S, th -> T,
dh -> D, gh -> g, q/c/ck -> k, v -> w, p -> b), ou/oo -> u and ee -> i, doubled letters once, a
word-final h after a or e as "~" (ta marbuta: Fatimah, Hamzeh), an opening vowel as "'" plus the
vowel (Arabic writes a hamza or an ain there), and "aa"/"ae"/"au" inside a word as an ain between
vowels (Saad, Saeed, Saud). The sound alphabet is described in `arabic.py`.
"""

from __future__ import annotations

import re
import unicodedata

# Marks Latin transliterations use for ain and hamza, and letters NFKD does not take apart.
_MARKS = str.maketrans(
    {
        "ʿ": "'",
        "ʾ": "'",
        "`": "'",
        "’": "'",
        "‘": "'",
        "′": "'",
        "´": "'",
        "ʼ": "'",
        "ʻ": "'",
        "ʽ": "'",
        "ç": "s",
        "ş": "sh",
        "ș": "sh",
        "ı": "i",
        "ß": "ss",
        "ø": "o",
        "đ": "d",
        "ð": "dh",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "ḫ": "kh",
        "ẖ": "kh",
        "ġ": "gh",
        "ṯ": "th",
        "ḏ": "dh",
        "ž": "zh",
        "š": "sh",
        "č": "ch",
    }
)
_NOT_LETTER = re.compile(r"[^a-z']+")
_APOSTROPHES = re.compile(r"'+")
VOWELS = frozenset("aeiou")

MOHAMMED = "muhammad"
_ABBREVIATIONS = {
    "mhd": MOHAMMED,
    "mohd": MOHAMMED,
    "muhd": MOHAMMED,
    "mhmd": MOHAMMED,
    "mhmmd": MOHAMMED,
    "mohmd": MOHAMMED,
    "moh": MOHAMMED,
    "muh": MOHAMMED,
    "md": MOHAMMED,
    "mouhd": MOHAMMED,
}
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "eng", "prof"})
_MARKERS = frozenset({"bin", "ben", "ibn", "bint", "bent", "ibnat", "ould", "binti"})
_ARTICLES = frozenset({"al", "el", "il", "ul", "ol"})
_SUN = ("th", "dh", "sh", "t", "d", "r", "z", "s", "n", "l")
_ABD = frozenset({"abd", "abdul", "abdel", "abdal", "abdil", "abdol", "abdoul", "abdool", "abdl"})
_ABU = frozenset({"abu", "abou", "abo", "aboo", "abul", "aboul", "abol"})
_ALLAH = frozenset({"allah", "ullah", "ollah", "alla", "ellah", "illah", "ulla", "alah", "lah", "llah"})
_DIN = re.compile(r"(?:[aeiou]?[ld]|[aeiou]?dd|[aeiou]l-?d)?d?(?:i|ee|y)ne?")
_DIN_SUFFIX = re.compile(r"([a-z']{3,}?)(?:[aeiou]ld|[aeiou]?dd|[aeiou]d)(?:i|ee|y)ne?")
_ABD_JOINED = (
    (re.compile(r"abd[aeiou]l(?=[a-z']{3})(.*)"), r"abdul\1"),
    (re.compile(r"abd[aeiou](th|dh|sh|[tdrzsn])\1(.+)"), r"abdul\1\2"),
    (re.compile(r"abd(?=[bdfghjklmnqrstvwxz][a-z']{3})(.*)"), r"abdul\1"),
)
_ALLAH_SUFFIX = re.compile(r"([a-z']{3,}?)[aeiou]llah?")  # Nasrullah, Fadlallah, Jadalla
_ALEF_LAM_VOWEL = re.compile(r"al(?!aw|ay)([aeiou][a-z']{4,})")  # Alahmad, Alomari (not Alawneh, Alayan)
_ABU_JOINED = re.compile(r"(?:abu|abou|aboo)(?=[bdfghjklmnqrstvwxz][a-z']{2})(.*)")
_ALEF_LAM_JOINED = re.compile(r"[ae]l(?=[bcdfghjklmnpqrstvwxyz][a-z']{3})(.*)")


def plain_letters(text: str) -> str:
    """Lower-case a-z and apostrophes (for ain/hamza), everything else a space."""
    if text.isascii():  # the common case: nothing to take apart
        return _APOSTROPHES.sub("'", _NOT_LETTER.sub(" ", text.lower().replace("`", "'")))
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_MARKS))
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch)).translate(_MARKS)
    return _APOSTROPHES.sub("'", _NOT_LETTER.sub(" ", stripped))


def latin_words(text: str) -> list[str]:
    """The words of a Latin-script name, abbreviations expanded, articles and markers gone, compounds joined."""
    words = [_ABBREVIATIONS.get(word.replace("'", ""), word) for word in _clean_words(plain_letters(text).split())]
    while len(words) > 1 and words[0] in _TITLES:  # Dr. Mohammed, Eng. Ahmad: a title is no part of the name
        words = words[1:]
    return join_compounds([word for word in words if word not in _MARKERS])


def _clean_words(words: list[str]) -> list[str]:
    """Apostrophes only inside a word (a leading one is an ain, which an opening vowel already says)."""
    cleaned = (word.strip("'") for word in words)
    return [word for word in cleaned if len(word) > 1 or (word and word not in "'")]


def _is_article(word: str, following: str | None) -> bool:
    if following is None:
        return word in _ARTICLES
    if word in _ARTICLES:
        return True
    # ash-Sham, as-Sattar, ad-Din, ar-Rahman: the article's l written as the next word's first consonant.
    return len(word) >= 2 and word[0] in "aeu" and word[1:] in _SUN and following.startswith(word[1:])


def join_compounds(words: list[str]) -> list[str]:
    """Abd al-X, Abu X, X al-Din, X Allah as one word; standalone articles dropped."""
    out: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else None
        if _is_article(word, following):
            index += 1
            continue
        nxt, skip = _next_content(words, index + 1)
        if nxt is not None and (joined := _join_pair(word, nxt)) is not None:
            out.append(joined)
            index = skip + 1
            continue
        out.append(_normalise_single(word))
        index += 1
    return _join_suffixes(out)


def _next_content(words: list[str], start: int) -> tuple[str | None, int]:
    """The next word after any article, and its index."""
    index = start
    while index < len(words):
        following = words[index + 1] if index + 1 < len(words) else None
        if not _is_article(words[index], following) or following is None:
            return words[index], index
        index += 1
    return None, index


def _join_pair(word: str, nxt: str) -> str | None:
    if word in _ABD or (word[:3] == "abd" and _assimilated(word[3:], nxt)):
        return "abdullah" if nxt in _ALLAH else "abdul" + _normalise_single(nxt)
    if word in _ABU:
        return "abu" + _normalise_single(nxt)
    return None


def _assimilated(rest: str, nxt: str) -> bool:
    """abdur + rahman, abdus + salam: the article's l became the next word's first consonant."""
    return len(rest) >= 2 and rest[0] in VOWELS and rest[1:] in _SUN and nxt.startswith(rest[1:])


def _join_suffixes(words: list[str]) -> list[str]:
    """Nour + Eddin -> nouraldin; Nasr + Allah -> nasrallah (the suffix never stands alone)."""
    out: list[str] = []
    for word in words:
        if out and _DIN.fullmatch(word) and not out[-1].endswith("aldin"):
            out[-1] += "aldin"
        elif out and word in _ALLAH and not out[-1].endswith("allah"):
            out[-1] = "abdullah" if out[-1] == "abdul" else out[-1] + "allah"
        else:
            out.append(word)
    return out


def _normalise_single(word: str) -> str:
    """One word standing alone: joined compounds and a joined article put in their one form."""
    if word.startswith("ab"):  # the cheap tests first: most words are none of these
        for pattern, replacement in _ABD_JOINED:
            if pattern.fullmatch(word):
                return pattern.sub(replacement, word)
        if match := _ABU_JOINED.fullmatch(word):
            return "abu" + match.group(1)
    if word.endswith(("n", "ne")) and (match := _DIN_SUFFIX.fullmatch(word)):
        return match.group(1) + "aldin"
    if "ll" in word and (match := _ALLAH_SUFFIX.fullmatch(word)):
        return "abdullah" if match.group(1) == "abd" else match.group(1) + "allah"
    if word.startswith(("al", "el")) and (match := _ALEF_LAM_JOINED.fullmatch(word) or _ALEF_LAM_VOWEL.fullmatch(word)):
        return _normalise_single(match.group(1))
    return word


_DIGRAPHS = (
    ("x", "ks"),
    ("sch", "S"),
    ("tch", "S"),
    ("sh", "S"),
    ("ch", "S"),
    ("kh", "x"),
    ("gh", "g"),
    ("th", "T"),
    ("dh", "D"),
    ("zh", "j"),
    ("dj", "j"),
    ("ph", "f"),
    ("ck", "k"),
    ("q", "k"),
    ("c", "k"),
    ("v", "w"),
    ("p", "b"),
    ("ou", "U"),
    ("oo", "U"),
    ("ee", "I"),
)
_SPLITTABLE = frozenset({"th", "dh", "sh"})
_DOUBLES = re.compile(r"(.)\1+")
_SOUND_VOWELS = frozenset("aeiouIU")  # I: ee, U: ou and oo, long vowels in Latin spellings
_FRENCH_W = re.compile(r"^ou(?=[aeiy])|(?<=[rdlz])ou(?=a[^aeiouy])")  # Oualid, Marouane: French ou for w
_SILENT_E = re.compile(r"(?<=..[aeiouy])ne$")  # Amine, Imane, Noureddine: French spelling, silent e
_FINAL_IE = re.compile(r"(?<=.)ie$")  # Rifaie, Fadie
_SOFT_C = re.compile(r"c(?=[eiy])")  # Nacer, Cyrine: French c before e/i
_DIPHTHONG_AW = re.compile(r"aw(?![aeiouyIU])")  # Hawrani/Hourani, Sawsan/Sousan: the diphthong aw read as u
_GLIDE_Y = re.compile(r"y(?![aeiouIU])")
_IA = re.compile(r"i(?=[aeouIU])")
_VOWEL_AIN = re.compile(r"(?<=[^aeiouIU'])a(?=[aeuIU][^aeiouIU'~]|a$)")
_BACK_VOWEL_AIN = re.compile(r"(?<=[^aeiouIU'])([ouU])(?=a[^aeiouIU'~y]|a$)")  # Zoabi, Suad, Muadh
_FINAL_H = re.compile(r"(?<=[ae])h$")


def latin_sound(word: str, split: bool = False) -> str:
    """The sound string of one Latin word (see the module docstring).

    With `split`, th, dh and sh are read as two letters (Fathi is فتحي, Adham أدهم, Ishaq إسحاق).
    """
    sound = _FRENCH_W.sub("w", _SILENT_E.sub("n", word))
    sound = _SOFT_C.sub("s", _FINAL_IE.sub("i", sound))
    for digraph, symbol in _DIGRAPHS:
        if not (split and digraph in _SPLITTABLE):
            sound = sound.replace(digraph, symbol)
    sound = _BACK_VOWEL_AIN.sub(r"\1'", _VOWEL_AIN.sub("a'", sound))
    sound = _DOUBLES.sub(r"\1", _DIPHTHONG_AW.sub("au", sound))
    sound = _FINAL_H.sub("~", sound)
    sound = _IA.sub("iy", _GLIDE_Y.sub("i", sound) if not sound.startswith("y") else "y" + _GLIDE_Y.sub("i", sound[1:]))
    sound = _DOUBLES.sub(r"\1", sound)
    if sound and sound[0] in _SOUND_VOWELS:
        sound = "'" + sound
    return sound.replace("''", "'")
