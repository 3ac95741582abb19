"""Validated commands: what a form, an import row or an API call asks a service to do."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_validator

from awda.errors import ValidationFailed
from awda.households import rules

Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, revalidate_instances="never")


class PersonIn(Command):
    """One member of a household; personal fields are sealed by the vault when stored."""

    member_index: int = Field(ge=1, le=99)
    relationship: str
    sex: Literal["female", "male"]
    birth_date: date | None = None
    birth_year: int | None = None
    given_name_ar: Name = ""
    given_name_lat: Name = ""
    father_name_ar: Name = ""
    father_name_lat: Name = ""
    grandfather_name_ar: Name = ""
    grandfather_name_lat: Name = ""
    family_name_ar: Name = ""
    family_name_lat: Name = ""
    mother_name_ar: Name = ""
    mother_name_lat: Name = ""
    document_type: str | None = None
    document_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    phone: str | None = None
    vulnerabilities: list[str] = Field(default_factory=list)

    @field_validator("relationship")
    @classmethod
    def _relationship(cls, value: str) -> str:
        if value not in rules.RELATIONSHIPS:
            raise ValueError(f"use one of {', '.join(sorted(rules.RELATIONSHIPS))}")
        return value

    @field_validator("vulnerabilities")
    @classmethod
    def _vulnerabilities(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - rules.VULNERABILITIES)
        if unknown:
            raise ValueError(f"unknown vulnerability {unknown[0]!r}")
        return sorted(set(value))

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return rules.normalise_phone(value) if value else None

    _checked: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _consistent(self) -> PersonIn:
        # Pydantic re-runs after-validators when a household embeds an already valid member.
        if self._checked:
            return self
        self._checked = True
        if not self.given_name_ar and not self.given_name_lat:
            raise ValidationFailed("given_name_ar", "a given name is required (given_name_ar or given_name_lat)")
        for field in rules.NAME_FIELDS:
            value = getattr(self, field)
            if value:
                rules.check_name_script(field, value)
        rules.check_birth(self.birth_date, self.birth_year, date.today())
        if self.document_number:
            rules.check_no_control_characters("document_number", self.document_number)
        if self.document_number and not self.document_type:
            raise ValidationFailed("document_type", "is required with document_number")
        if self.document_type and self.document_type not in rules.DOCUMENT_TYPES:
            raise ValidationFailed("document_type", f"must be one of {', '.join(sorted(rules.DOCUMENT_TYPES))}")
        return self

    def personal_values(self) -> list[str]:
        """The sealed fields as text, in rules.PERSONAL_FIELDS order ('' when not given)."""
        values = [getattr(self, field) or "" for field in rules.PERSONAL_FIELDS]
        return [value.isoformat() if isinstance(value, date) else value for value in values]

    @property
    def effective_birth_year(self) -> int:
        return self.birth_date.year if self.birth_date else int(self.birth_year or 0)


class ConsentIn(Command):
    purposes: list[str]
    given_on: date

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, value: list[str]) -> list[str]:
        return rules.check_purposes(value)


class IntentionIn(Command):
    kind: rules.IntentionKind
    origin_pcode: Code
    destination_pcode: Code
    window_start: date | None = None
    window_end: date | None = None
    members: list[int] | None = None  # member indexes; None means the whole household

    @model_validator(mode="after")
    def _consistent(self) -> IntentionIn:
        rules.check_window(self.window_start, self.window_end)
        if self.origin_pcode.upper() == self.destination_pcode.upper():
            raise ValidationFailed("destination_pcode", "is the same place as origin_pcode")
        if self.members is not None and not self.members:
            raise ValidationFailed("intention_members", "must name at least one member")
        return self


class HouseholdIn(Command):
    site_code: Code
    registered_on: date
    registrar: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    travel_group: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    consent: ConsentIn
    members: list[PersonIn] = Field(min_length=1, max_length=60)
    intention: IntentionIn | None = None
    source_ref: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HouseholdIn:
        indexes = [member.member_index for member in self.members]
        rules.check_members(indexes, [member.relationship for member in self.members])
        if self.registered_on > date.today():
            raise ValidationFailed("registered_on", "is in the future")
        if self.intention is not None and self.intention.members is not None:
            missing = sorted(set(self.intention.members) - set(indexes))
            if missing:
                raise ValidationFailed(
                    "intention_members", f"names member_index {missing[0]}, who is not in the household"
                )
        return self


class ChangeStatusIn(Command):
    reason: str = ""

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return rules.check_reason(value)
