"""The waiting list's pure rules and the household reference code, without a database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from awda.convoys.rules import ScheduledConvoy
from awda.convoys.waitlist_rules import (
    Waiting,
    iso_week_bounds,
    member_needs,
    place_all,
    reconfirmed_in_window,
    vulnerability,
)
from awda.households.reference import ALPHABET, new_pin, new_reference, normalise_pin, normalise_reference

DAY = date(2026, 12, 1)


def _waiting(uid: str, people: int, declared: date, score: float = 0.0, group: str | None = None) -> Waiting:
    return Waiting(uid, f"h-{uid}", "RUKBAN", "C4301", people, score, declared, declared, group)


def test_needs_come_from_flags_and_age_and_the_score_is_capped() -> None:
    assert member_needs(["medical", "made_up"], 1950, 2026) == {"medical", "elderly"}
    assert member_needs([], 2024, 2026) == {"young_child"}
    assert member_needs([], None, 2026) == set()
    assert vulnerability({"medical", "unaccompanied_child", "disability"}) == 1.0
    assert vulnerability({"elderly", "young_child"}) == pytest.approx(0.3)
    assert vulnerability(set()) == 0.0


def test_order_is_effective_date_then_declaration_then_id() -> None:
    a = _waiting("a", 2, DAY)
    b = _waiting("b", 2, DAY + timedelta(days=45), score=0.5)  # brought forward exactly to DAY
    c = _waiting("c", 2, DAY)
    placed = place_all([c, b, a], [])
    assert [placed[u].position for u in ("a", "c", "b")] == [1, 2, 3]
    assert placed["b"].households_ahead == 2 and placed["b"].people_ahead == 4
    assert placed["a"].expected_week is None  # no convoy scheduled: no date promised


def test_expected_convoys_keep_groups_whole_and_skip_what_does_not_fit() -> None:
    entries = [
        _waiting("big", 5, DAY - timedelta(days=30)),
        _waiting("g1", 2, DAY - timedelta(days=20), group="G"),
        _waiting("small", 1, DAY - timedelta(days=10)),
        _waiting("g2", 2, DAY - timedelta(days=5), group="G"),
    ]
    convoys = [
        ScheduledConvoy("CV-1", DAY, "RUKBAN", ("C4301",), 4),
        ScheduledConvoy("CV-2", DAY + timedelta(days=7), "RUKBAN", ("C4301",), 5),
    ]
    placed = place_all(entries, convoys)
    assert placed["g1"].expected_convoy == placed["g2"].expected_convoy == "CV-1"  # the group boards at g1's place
    assert placed["small"].expected_convoy is None and placed["small"].estimated  # beyond the schedule
    assert placed["big"].expected_convoy == "CV-2"


def test_the_reconfirmation_window_ends_on_the_convoys_day() -> None:
    assert reconfirmed_in_window(datetime(2026, 11, 24, 9), DAY, 7)
    assert not reconfirmed_in_window(datetime(2026, 11, 23, 23), DAY, 7)
    assert not reconfirmed_in_window(datetime(2026, 12, 2, 8), DAY, 7)
    assert not reconfirmed_in_window(None, DAY, 7)


def test_iso_weeks() -> None:
    assert iso_week_bounds("2026-w49") == (date(2026, 11, 30), date(2026, 12, 6))
    assert iso_week_bounds("2020-W53")[0] == date(2020, 12, 28)
    for bad in ("2026-49", "2026-W54", "W49", ""):
        with pytest.raises(ValueError, match="ISO week"):
            iso_week_bounds(bad)


def test_a_reference_survives_typing_and_catches_every_single_wrong_symbol() -> None:
    reference = new_reference()
    typed = f"{reference[:4].lower()} {reference[4:8]}-{reference[8:]}".replace("0", "o").replace("1", "l")
    assert normalise_reference(typed) == reference
    for position in range(len(reference)):
        for symbol in ALPHABET:
            if symbol != reference[position]:
                wrong = reference[:position] + symbol + reference[position + 1 :]
                assert normalise_reference(wrong) is None
    assert normalise_reference(reference + "0") is None


def test_pins_are_six_digits_and_arabic_indic_digits_are_accepted() -> None:
    pin = new_pin()
    assert len(pin) == 6 and pin.isdigit()
    assert normalise_pin("٠١٢٣٤٥") == "012345" and normalise_pin("۹۸۷۶۵۴") == "987654"
    assert normalise_pin("12345") is None and normalise_pin("12a456") is None and normalise_pin("１２３４５６") is None
