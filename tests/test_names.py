"""Arabic-aware name keys and comparison (`awda.linkage.names`), measured on attested spellings."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import jellyfish
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awda.linkage.arabic import normalise_arabic
from awda.linkage.names import NameComparison, compare_names, name_key, name_tokens, phonetic_key

DATA = Path(__file__).resolve().parent / "data" / "names"
SPLINK_JW_THRESHOLD = 0.88  # Splink's default name comparison: Jaro-Winkler at 0.92 and 0.88


def variant_pairs() -> list[tuple[str, str, str]]:
    """Every pair within a group of attested spellings: Arabic script with each Latin one, Latin with Latin."""
    pairs = []
    with (DATA / "variants.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names = ([row["arabic"]] if row["arabic"] else []) + row["latin"].split("|")
            pairs += [(row["group"], a, b) for a, b in itertools.combinations(names, 2)]
    return pairs


def hard_negatives() -> list[tuple[str, str]]:
    with (DATA / "hard_negatives.csv").open(encoding="utf-8") as handle:
        return [(row["name_a"], row["name_b"]) for row in csv.DictReader(handle)]


def jaro_winkler_match(a: str, b: str) -> bool:
    return jellyfish.jaro_winkler_similarity(a.lower(), b.lower()) >= SPLINK_JW_THRESHOLD


def test_the_data_is_big_enough_to_measure() -> None:
    pairs = variant_pairs()
    assert len(pairs) > 1500
    assert sum(1 for _, a, _ in pairs if normalise_arabic(a) != a or any("\u0600" <= ch <= "\u06ff" for ch in a)) > 500
    assert len(hard_negatives()) > 120


def test_recall_of_attested_variants_and_false_matches_of_look_alikes() -> None:
    pairs, negatives = variant_pairs(), hard_negatives()
    recall = sum(compare_names(a, b).match for _, a, b in pairs) / len(pairs)
    false_match = sum(compare_names(a, b).match for a, b in negatives) / len(negatives)
    assert recall >= 0.95
    assert false_match <= 0.05


def test_ours_catches_far_more_than_splinks_default_jaro_winkler() -> None:
    pairs = variant_pairs()
    ours = sum(compare_names(a, b).match for _, a, b in pairs) / len(pairs)
    baseline = sum(jaro_winkler_match(a, b) for _, a, b in pairs) / len(pairs)
    latin = [(a, b) for _, a, b in pairs if a.isascii() and b.isascii()]
    latin_baseline = sum(jaro_winkler_match(a, b) for a, b in latin) / len(latin)
    assert baseline < 0.5  # across scripts Jaro-Winkler can only meet what is written alike
    assert latin_baseline < 0.7
    assert ours >= baseline + 0.4
    assert sum(compare_names(a, b).match for a, b in latin) / len(latin) >= latin_baseline + 0.2


def test_the_phonetic_key_alone_already_meets_most_variants() -> None:
    pairs = variant_pairs()
    assert sum(phonetic_key(a) == phonetic_key(b) for _, a, b in pairs) / len(pairs) >= 0.9


@pytest.mark.parametrize(
    "spellings",
    [
        ["محمد", "Mohammed", "Muhammad", "Mohamad", "Mhd", "Mohd.", "Muh."],
        ["عبد الستار", "Abdul Sattar", "Abd al-Sattar", "Abdulsattar", "Abd as-Sattar", "Abdussattar"],
        ["نور الدين", "Nour al-Din", "Nureddin", "Noureddine", "Nour Eddin", "Nour ad-Din"],
        ["الحسيني", "al-Hussaini", "Al Husseini", "El-Husseini", "Alhussaini"],
        ["الخطيب", "al-Khatib", "Alkhatib", "El Khatib", "Khatib"],
        ["الشام", "ash-Sham", "Al Sham", "Sham"],
    ],
)
def test_common_variants_share_the_phonetic_key(spellings: list[str]) -> None:
    assert len({phonetic_key(name) for name in spellings}) == 1


def test_lookalikes_do_not_share_the_phonetic_key_where_arabic_tells_them_apart() -> None:
    assert phonetic_key("Ahmad") != phonetic_key("Hamad")
    assert phonetic_key("Ali") != phonetic_key("Alia")
    assert phonetic_key("Samir") != phonetic_key("Samira")
    assert phonetic_key("Nour") != phonetic_key("Nouri")


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ("Mohammed Ahmad al-Hussaini", "Mohammed Khalid al-Masri", False),
        ("Mohammed", "Mahmoud", False),
        ("Ahmad", "Hamad", False),
        ("Khaled", "Khalid", True),
        ("Mohammed al-Masri", "Mohammed Ahmad Khalid al-Masri", True),
        ("محمد المصري", "Mohamad Ahmed Khalil El Masri", True),
        ("Mohammed Ahmad al-Masri", "Mohammed Khalid al-Masri", False),
        ("Mohammed Ahmad Khalid", "Mohammed Ahmad Khalid al-Masri", True),
        ("Mohammed", "Mohammed Khalid al-Masri", False),
        ("Mohammed bin Ahmad", "Mohammed Ahmad", True),
        ("فاطمة بنت علي", "Fatima Ali", True),
        ("عبد الرحمن خالد الحلبي", "Abdulrahman Khaled Halabi", True),
        ("نزار قباني", "Nizar Qabbani", True),
        ("ميشيل عفلق", "Michel Aflaq", True),
        ("صلاح الدين البيطار", "Salah al-Din al-Bitar", True),
        ("محمد سعيد رمضان البوطي", "Mohamed Said Ramadan al-Bouti", True),
    ],
)
def test_whole_names(a: str, b: str, match: bool) -> None:
    result = compare_names(a, b)
    assert result.match is match
    assert (result.score >= 0.5) is match
    assert compare_names(b, a) == result


def test_a_missing_patronym_scores_lower_than_a_full_agreement() -> None:
    full = compare_names("Mohammed Ahmad al-Masri", "Mohammed Ahmad al-Masri")
    shorter = compare_names("Mohammed al-Masri", "Mohammed Ahmad al-Masri")
    assert full == NameComparison(1.0, True)
    assert shorter.match and shorter.score < full.score


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("أحمد", "ahmad"),
        ("إبراهيم", "ibrahim"),
        ("آمنة", "amina"),
        ("ٱلخطيب", "khatib"),
        ("مُحَمَّد", "muhammad"),  # tashkeel and shadda
        ("محـــمد", "muhammad"),  # tatweel
        ("\u200fمحمد\u200e", "muhammad"),  # bidi marks
        ("مح\u200cمد", "muhammad"),  # zero-width non-joiner
        ("ﻣﺤﻤﺪ", "muhammad"),  # presentation forms
        ("مصطفى", "mustafa"),  # alef maqsura
        ("مصطفي", "mustafa"),
        ("فاطمه", "fatima"),  # ta marbuta typed as ha
        ("کريم", "karim"),  # Persian kaf
        ("علی", "ali"),  # Persian ya
        ("بن", ""),  # a patronymic marker alone
        ("٣٤٥", ""),  # Arabic-Indic digits are no name
    ],
)
def test_arabic_script_normalisation(text: str, key: str) -> None:
    assert name_key(text) == key


def test_unknown_arabic_words_are_transliterated_letter_by_letter() -> None:
    assert name_key("سلوان") == "slwan"
    assert name_key("ثذظ") == "thdhdh"
    assert compare_names("سلوان", "Silwan").match
    assert not compare_names("سلوان", "Salman").match


@pytest.mark.parametrize(
    ("arabic", "latin"),
    [
        ("ربيع", "Rabih"),
        ("رضوان", "Redouane"),
        ("شكري", "Choukri"),
        ("فؤاد", "Fouad"),
        ("مرح", "Marah"),
        ("خلدون", "Khaldoun"),
        ("زكيه", "Zakiya"),  # ta marbuta typed as ha
        ("يسري", "Yusra"),  # alef maqsura typed as ya
        ("فتحاوي", "Fathawi"),  # th as t + h
    ],
)
def test_letter_by_letter_readings_meet_latin_spellings(arabic: str, latin: str) -> None:
    assert compare_names(arabic, latin).match


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("  MOHAMMED  ", "mohammed"),
        ("Ḥusayn", "husayn"),
        ("ʿAbd al-Raḥmān", "abdulrahman"),
        ("Sa'd", "sad"),
        ("Sa’id", "said"),
        ("Abdul-Rahman", "abdulrahman"),
        ("Abd ar-Rahman", "abdulrahman"),
        ("Abdurrahman", "abdulrahman"),
        ("Abdel Aziz", "abdulaziz"),
        ("Abd Allah", "abdullah"),
        ("Abdallah", "abdullah"),
        ("Abou Zeid", "abuzeid"),
        ("Abul Khair", "abukhair"),
        ("Nasr Allah", "nasrallah"),
        ("Nasrullah", "nasrallah"),
        ("Ezz Eldin", "ezzaldin"),
        ("al-Masri", "masri"),
        ("El Masri", "masri"),
        ("Almasri", "masri"),
        ("Elham", "elham"),  # a name, not an article
        ("Alahmad", "ahmad"),
        ("Alawneh", "alawneh"),
        ("ash-Shami", "shami"),
        ("Mohammed bin Ahmad ibn Khalid", "mohammed ahmad khalid"),
        ("Mhd", "muhammad"),
        ("Moh'd Ali", "muhammad ali"),
        ("Dr. Eng. Ahmad", "ahmad"),
        ("Françoise", "fransoise"),
        ("Şükrü", "shukru"),
    ],
)
def test_latin_normalisation(text: str, key: str) -> None:
    assert name_key(text) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Khaled", "Khalid"),  # e/i
        ("Mohammed", "Muhammad"),  # o/u, e/a, doubled letters
        ("Youssef", "Yusuf"),  # ou/u, e/u
        ("Zainab", "Zeinab"),  # ai/ei
        ("Hamza", "Hamzeh"),  # -a/-eh
        ("Fatima", "Fatmah"),  # a dropped short vowel, final h
        ("Shadi", "Chadi"),  # French ch
        ("Qasim", "Kassem"),  # q/k
        ("Othman", "Osman"),  # th/s
        ("Muadh", "Mouaz"),  # dh/z
        ("Ramadan", "Ramadhan"),  # d/dh
        ("Hany", "Hani"),  # final y
        ("Oualid", "Walid"),  # French ou for w
        ("Amine", "Amin"),  # French silent e
        ("Saad", "Sa'ad"),  # ain
        ("Ziad", "Ziyad"),  # ia/iya
        ("Nacer", "Nasser"),  # French c
    ],
)
def test_each_latin_rule_makes_variants_meet(a: str, b: str) -> None:
    assert compare_names(a, b).match


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ali", "Alia"),
        ("Samir", "Samira"),
        ("Jamal", "Jamil"),
        ("Hamid", "Hamad"),
        ("Ayman", "Iman"),
        ("Said", "Saad"),
        ("Nour", "Nouri"),
        ("Majid", "Majd"),
        ("Sameer", "Samer"),
        ("Hameed", "Hamed"),
        ("Amin", "Yamin"),
        ("Isam", "Wisam"),
        ("Sami", "Shami"),
        ("Hassan", "Hussein"),
        ("Yousef", "Joseph"),
        ("Abdul Rahman", "Abdul Karim"),
        ("Nour al-Din", "Nour"),
    ],
)
def test_look_alikes_stay_apart(a: str, b: str) -> None:
    assert not compare_names(a, b).match


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ("مصطفى", "مصطفي", True),  # alef maqsura typed as ya
        ("فاطمة", "فاطمه", True),  # ta marbuta typed as ha
        ("أحمد", "احمد", True),
        ("عبد الرحمن", "عبدالرحمن", True),
        ("سامر", "سمير", False),  # Samer and Samir: the long vowels tell them apart in Arabic script
        ("محمد", "محمود", False),
        ("الحسين", "الحسيني", False),
    ],
)
def test_two_arabic_spellings_are_compared_letter_by_letter(a: str, b: str, match: bool) -> None:
    assert compare_names(a, b).match is match


@pytest.mark.parametrize(
    ("a", "b"), [("Alomar", "Omar"), ("Alissa", "Issa"), ("Al-Jumaa", "Jumah"), ("Zoabi", "Zu'bi"), ("Suad", "Su'ad")]
)
def test_joined_articles_and_final_ain(a: str, b: str) -> None:
    assert compare_names(a, b).match


def test_compounds_are_one_token() -> None:
    assert name_tokens("Abd al-Rahman Nour al-Din Abu Zeid") == name_tokens("عبد الرحمن نور الدين أبو زيد")
    assert len(name_tokens("Abd al-Rahman Nour al-Din Abu Zeid")) == 3
    assert len(name_tokens("Abdul Sattar bin Mohammed al-Khatib")) == 3


def test_mixed_scripts_in_one_name() -> None:
    assert name_key("محمد Khalid الحلبي") == "muhammad khalid halabi"
    assert compare_names("محمد Khalid الحلبي", "Mohammed خالد Halabi").match


JUNK = ["", "   ", "12345", "!!!---...", "'''", "ـــ", "\x00", "\u200f\u200e", "ً", "-al-", "bin"]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_gives_empty_keys_and_no_match(junk: str) -> None:
    assert name_key(junk) == ""
    assert phonetic_key(junk) == ""
    assert name_tokens(junk) == []
    assert compare_names(junk, "Mohammed") == NameComparison(0.0, False)
    assert compare_names(junk, junk) == NameComparison(0.0, False)


def test_none_like_and_very_long_input() -> None:
    assert name_key(None) == ""  # type: ignore[arg-type]
    assert compare_names(None, "Ali") == NameComparison(0.0, False)  # type: ignore[arg-type]
    long_name = "Mohammed " * 20_000
    assert name_key(long_name).startswith("mohammed mohammed")
    assert not compare_names(long_name, "Ahmad Khalid").match


def test_keys_are_plain_lower_case_latin() -> None:
    for _, a, _ in variant_pairs():
        assert set(name_key(a)) <= set("abcdefghijklmnopqrstuvwxyz ")
        assert set(phonetic_key(a)) <= set("abcdefghijklmnopqrstuvwxyz ")


def test_name_key_is_idempotent_on_the_data() -> None:
    for _, a, b in variant_pairs():
        for name in (a, b):
            assert name_key(name_key(name)) == name_key(name), name


name_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("ابتثجحخدذرسشصضطظعغفقكلمنهويءأإآؤئىةـًٌٍَُِّْٰ ")),
        st.sampled_from(list("abdhiklmnorstuyz '-")),
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(name_text, name_text)
def test_no_input_raises_and_keys_are_idempotent(a: str, b: str) -> None:
    key = name_key(a)
    assert name_key(key) == key
    assert phonetic_key(a) == phonetic_key(a)
    result = compare_names(a, b)
    assert 0.0 <= result.score <= 1.0
    assert result.match == (result.score >= 0.5)
    assert compare_names(b, a) == result


def test_the_names_benchmark_runs_end_to_end() -> None:
    from bench.names import run

    result = run(persons=200, seed=3, rounds=1, distinct=2_000)
    assert result["name_parts"] == 1_000
    assert result["uncached_parts"] == 2_000
    assert result["awda_parts_per_second"] > 0 and result["baseline_parts_per_second"] > 0
