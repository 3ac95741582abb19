"""Dates as proleptic ordinals (ints), with tables of their ISO text and yyyymmdd keys (formatting is hot)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache


def ordinal(iso: str) -> int:
    """Ordinal of a ``YYYY-MM-DD`` string."""
    return date.fromisoformat(iso).toordinal()


DateText = Callable[[int], str]
FIRST_DAY = date(1900, 1, 1).toordinal()  # days outside FIRST_DAY..LAST_DAY are formatted on demand
LAST_DAY = date(2031, 12, 31).toordinal()
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(32))


class _IsoDates(dict[int, str]):
    """Ordinal -> ISO text (a dict hit costs no Python frame); days out of range are added on demand."""

    def __missing__(self, day: int) -> str:
        when = date.fromordinal(day)
        text = f"{when.year}-{_TWO_DIGITS[when.month]}-{_TWO_DIGITS[when.day]}"  # years 1000-9999
        self[day] = text
        return text


@lru_cache(maxsize=1)
def _iso_dates() -> _IsoDates:
    dates = _IsoDates()
    for day in range(FIRST_DAY, LAST_DAY + 1):  # up front, so that memory stays flat during a run
        dates.__missing__(day)
    return dates


class _DateKeys(dict[int, int]):
    """Ordinal -> ``yyyymmdd`` as an int: ``(key(day) - key(birth)) // 10000`` is an exact age."""

    def __missing__(self, day: int) -> int:
        when = date.fromordinal(day)
        key = when.year * 10000 + when.month * 100 + when.day
        self[day] = key
        return key


@lru_cache(maxsize=1)
def _date_keys() -> _DateKeys:
    keys = _DateKeys()
    for day in range(FIRST_DAY, LAST_DAY + 1):
        keys.__missing__(day)
    return keys


def date_key() -> Callable[[int], int]:
    """Fast ``ordinal -> yyyymmdd`` (an int), cached like ``date_text``."""
    return _date_keys().__getitem__


def date_text() -> DateText:
    """Fast ``ordinal -> "YYYY-MM-DD"``: a dict lookup that needs no Python frame."""
    return _iso_dates().__getitem__


def next_weekday(day: int, weekday: int) -> int:
    """The first ordinal on or after ``day`` falling on ``weekday`` (Monday = 0)."""
    return day + (weekday - (day - 1) % 7) % 7  # ordinal 1 (0001-01-01) was a Monday
