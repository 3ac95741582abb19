"""Validated commands of monitoring: what a form, an import row or an API call asks for."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from awda.days import Day
from awda.monitoring import rules

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Uid = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArrivalIn(Command):
    """Members of a household arrived at `place` on `arrived_on` (all members when none are named)."""

    household_uid: Uid
    member_indexes: list[int] | None = None
    arrived_on: Day
    place: Code  # P-code of the community of arrival
    agreement: Code | None = None  # the agreement they returned under, if any
    intention: Literal["return", "relocate", "evacuate"] = "return"
    convoy_ref: Code | None = None


class FollowUpOutcomeIn(Command):
    outcome: Literal["reached", "not_reached", "moved", "refused"]
    contacted_on: Day


class AssignIn(Command):
    monitor: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class PersonRef(Command):
    household_uid: Uid
    member_index: int = Field(ge=1, le=99)


class ReporterIn(Command):
    """Who reported the incident: sealed like personal data, shown only to roles that read personal data."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    relation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""


class IncidentIn(Command):
    type: str
    occurred_on: Day
    date_precision: Literal["day", "month", "year"] = "day"
    place: Code | None = None
    persons: list[PersonRef] = Field(min_length=1, max_length=500)
    perpetrator_category: str = "unknown"
    source: str = "other"
    verification: Literal["reported", "credible", "verified"] = "reported"
    agreement: Code | None = None  # default: the agreement the first affected person arrived under
    breached_terms: list[Code] | None = None  # default: worked out from the agreement's terms
    reporter: ReporterIn | None = None
    source_ref: Code | None = None  # the field form's submission id, for idempotent imports

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return rules.check_incident_type(value).value

    @field_validator("perpetrator_category")
    @classmethod
    def _perpetrator(cls, value: str) -> str:
        return rules.check_perpetrator(value)

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        return rules.check_choice("source", value, rules.SOURCES)


class VerificationIn(Command):
    verification: Literal["reported", "credible", "verified"]
