"""Arabic script: normalisation, and transliteration into the sound alphabet that Latin spellings also reach.

Arabic writes consonants and long vowels; short vowels are left out (and diacritics, when present,
are dropped here). A word is therefore either found in the vowelisation table (`names_lexicon`),
which gives its usual Latin reading (محمد -> muhammad, so it meets Mohammed and not Mahmoud), or
transliterated letter by letter into a *skeletal* sound string: consonants, long vowels as capitals
(A I U) and no short vowels. `names_similarity` lets a Latin spelling insert short vowels into a
skeletal string almost for free.

Sound alphabet shared with `latin.py`: b t s j h x(kh) d z r k g(gh) f l m n w y, S (sh), T (th),
D (dh, for ذ ض ظ), ' (hamza, ain or a word's opening vowel), ~ (a word-final h after a vowel, or
ta marbuta), vowels a e i o u (Latin) and A I U (Arabic long vowels); at the end of an Arabic word
after a consonant, H is a ha (a ta marbuta typed as ha, or a real h) and Y a ya (a long i, or an
alef maqsura typed as ya).
"""

from __future__ import annotations

import re
import unicodedata

from awda.linkage.names_lexicon import LOOKUP_FOLD, VOWELISED

ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Tashkeel, superscript alef, Quranic marks and tatweel carry no consonant; zero-width and bidi
# controls (and the soft hyphen) are invisible: all go.
_INVISIBLE = re.compile(
    "[\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_FOLD = str.maketrans(
    {
        "ک": "ك",
        "ڪ": "ك",
        "ی": "ي",
        "ې": "ي",
        "ۍ": "ي",
        "ۀ": "ة",
        "ە": "ه",
        "ھ": "ه",
        "ہ": "ه",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ٵ": "ا",
        "ٶ": "ؤ",
        "ٸ": "ئ",
        "٠": "0",
        "١": "1",
        "٢": "2",
        "٣": "3",
        "٤": "4",
        "٥": "5",
        "٦": "6",
        "٧": "7",
        "٨": "8",
        "٩": "9",
        "۰": "0",
        "۱": "1",
        "۲": "2",
        "۳": "3",
        "۴": "4",
        "۵": "5",
        "۶": "6",
        "۷": "7",
        "۸": "8",
        "۹": "9",
        "،": " ",
        "؛": " ",
        "؟": " ",
        "٪": " ",
        "ـ": "",
    }
)

_CONSONANTS = {
    "ب": "b",
    "ت": "t",
    "ث": "T",
    "ج": "j",
    "ح": "h",
    "خ": "x",
    "د": "d",
    "ذ": "D",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "S",
    "ص": "s",
    "ض": "D",
    "ط": "t",
    "ظ": "D",
    "ع": "'",
    "غ": "g",
    "ف": "f",
    "ق": "k",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ء": "'",
    "ؤ": "'",
    "ئ": "'",
    "پ": "b",
    "چ": "S",
    "ژ": "j",
    "ڤ": "w",
    "گ": "g",
}
_HAMZA_ALEFS = "أإ"
_LONG_VOWEL_SOUNDS = ("A", "'A", "U", "I")
_OPEN_ENDINGS = {"ه": "H", "ي": "Y"}
_ALEFS = "اأإآى"
_ARTICLE = "ال"
_PATRONYMIC_MARKERS = {"بن", "ابن", "بنت", "ابنه", "ابنة"}


def normalise_arabic(text: str) -> str:
    """NFKC (presentation forms to letters), invisible marks removed, Persian/Urdu letters and digits folded."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_FOLD)


def is_arabic(word: str) -> bool:
    """Whether a word is written (at least partly) in Arabic script."""
    return ARABIC_LETTERS.search(word) is not None


def lookup_form(word: str) -> str:
    """The form under which a word is found in the vowelisation table."""
    return word.translate(LOOKUP_FOLD)


def is_patronymic_marker(word: str) -> bool:
    """بن / ابن / بنت: son of, daughter of."""
    return lookup_form(word) in _PATRONYMIC_MARKERS


def strip_article(word: str) -> str:
    """الخطيب -> خطيب; a word that is only the article stays (it is dropped later)."""
    if word.startswith(_ARTICLE) and len(word) > 3:
        return word[2:]
    if word.startswith("لل") and len(word) > 4:  # the article after the preposition li-, as in لله
        return word[2:]
    return word


def vowelised(word: str) -> str | None:
    """The usual Latin reading of a common name written in Arabic script, if the table knows it."""
    return VOWELISED.get(lookup_form(word))


def skeletal_sound(word: str) -> str:
    """Letter-by-letter sound string of an Arabic word: consonants and long vowels only."""
    out: list[str] = []
    last = len(word) - 1
    for index, letter in enumerate(word):
        before = out[-1] if out else ""
        after = word[index + 1] if index < last else ""
        out.append(_letter_sound(letter, index, last, before, after))
    return "".join(out)


def _letter_sound(letter: str, index: int, last: int, before: str, after: str) -> str:
    """One letter in context: alef, waw and ya are vowels or consonants by position."""
    if index == last and index > 1 and before not in _LONG_VOWEL_SOUNDS and letter in _OPEN_ENDINGS:
        # ha: a ta marbuta typed as ha (حمزه) or a real h (نزيه); ya: a long i (سامي) or an alef maqsura (مصطفي)
        return _OPEN_ENDINGS[letter]
    if letter in _CONSONANTS:
        return _CONSONANTS[letter]
    if letter in _ALEFS:
        return _alef_sound(letter, index)
    if letter == "ة":
        return "a~" if index == last else "t"
    if letter in "وي":
        glide, vowel = ("w", "U") if letter == "و" else ("y", "I")
        next_is_alef = after != "" and (after in _ALEFS + "ة" or (after == "ه" and index + 1 == last))
        return glide if index == 0 or before in ("A", "'A", "U", "I") or next_is_alef else vowel
    return ""


def _alef_sound(letter: str, index: int) -> str:
    """An opening alef is a hamza with an unwritten vowel; آ is hamza and long a; أ إ inside are hamzas."""
    if letter == "آ":
        return "'A"
    if index == 0 or letter in _HAMZA_ALEFS:
        return "'"
    return "A"
