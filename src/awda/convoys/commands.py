"""Validated commands of convoys: what a form, an import row or an API call asks for."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from awda.convoys.waitlist_rules import iso_week_bounds
from awda.days import Day, Moment

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
Uid = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36)]
# A convoy's code goes into paths (/convoys/{code}) and file names: letters, digits, '.', '_' and '-'.
ConvoyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConvoyIn(Command):
    """A convoy to schedule: it leaves `site` on `departs_on` and serves every P-code in `destinations`."""

    code: ConvoyCode
    site: Code
    departs_on: Day
    destinations: list[Code] = Field(min_length=1, max_length=50)
    seats: int = Field(gt=0, le=10_000)
    agreement: Code | None = None
    guarantor: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @field_validator("code", "site")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("destinations")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        upper = [value.upper() for value in values]
        if len(set(upper)) != len(upper):
            raise ValueError("a destination is listed twice")
        return upper


class PlanWeekIn(Command):
    week: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)]
    time_limit: float = Field(default=10.0, ge=0.0, le=600.0)
    notify: bool = True

    @field_validator("week")
    @classmethod
    def _iso_week(cls, value: str) -> str:
        iso_week_bounds(value)  # its ValueError says how to write a week
        return value.upper()


class CheckInIn(Command):
    """People checked in at the bus (departure) or at the destination (arrival); `at` defaults to now."""

    persons: list[Uid] = Field(min_length=1, max_length=500)
    at: Moment | None = None


class StatusLookupIn(Command):
    """A household's own lookup: its reference code and PIN, nothing else."""

    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    pin: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
