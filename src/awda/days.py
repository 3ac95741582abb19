"""The calendar awda accepts from outside: days and moments from 1900 to 2199.

Python's calendar ends at years 1 and 9999, so a day near either end makes date arithmetic (a week's
Sunday, a follow-up schedule, a look-back window, a time zone) overflow. No record of awda's needs a
day outside these years, and refusing them where input arrives keeps the error a clear 422.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
OUTSIDE = f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"


def check_year(year: int) -> None:
    """ValueError (the message pydantic shows) for a year outside the accepted calendar."""
    if not EARLIEST.year <= year <= LATEST.year:
        raise ValueError(OUTSIDE)


def _day(value: date) -> date:
    check_year(value.year)
    return value


def _moment(value: datetime) -> datetime:
    check_year(value.year)  # before any time zone conversion, which could overflow
    return value


Day = Annotated[date, AfterValidator(_day)]
Moment = Annotated[datetime, AfterValidator(_moment)]
