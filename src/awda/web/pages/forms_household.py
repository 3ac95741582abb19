"""The registration form's fields turned into the same commands the API takes, with errors per field.

Member rows are numbered fields (`m1_given_name_ar`, `m2_sex`, ...); a row left wholly empty is not a
member. Every refusal comes back as {form field: message}, so the page shows it next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from awda.errors import ValidationFailed
from awda.households.commands import ConsentIn, HouseholdIn, IntentionIn, PersonIn
from awda.web.pages.forms import failure_errors, message_for, validation_errors

MEMBER_TEXT_FIELDS = (
    "relationship",
    "sex",
    "birth_date",
    "birth_year",
    "given_name_ar",
    "father_name_ar",
    "family_name_ar",
    "mother_name_ar",
    "given_name_lat",
    "father_name_lat",
    "family_name_lat",
    "document_type",
    "document_number",
    "phone",
)
INTENTION_FIELDS = ("intention_kind", "origin_pcode", "destination_pcode", "window_start", "window_end")
HOUSEHOLD_FIELDS = ("site_code", "registered_on", *INTENTION_FIELDS)
FIRST_ROWS = 2
MAX_ROWS = 30


class FormErrors(Exception):
    """The form's problems as {form field: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass
class HouseholdForm:
    """What the user typed, kept to show the form again."""

    values: dict[str, str] = field(default_factory=dict)
    chosen: dict[str, list[str]] = field(default_factory=dict)  # checkboxes: purposes, mN_vulnerabilities
    rows: int = FIRST_ROWS

    @classmethod
    def blank(cls, today: date, sites: list[str]) -> HouseholdForm:
        values = {"registered_on": today.isoformat(), "m1_relationship": "head"}
        if len(sites) == 1:
            values["site_code"] = sites[0]
        return cls(values, {"purposes": ["registration"]})

    @classmethod
    def read(cls, form: FormData) -> HouseholdForm:
        rows = _row_count(str(form.get("rows", "")))
        names = list(HOUSEHOLD_FIELDS) + [f"m{row}_{name}" for row in range(1, rows + 1) for name in MEMBER_TEXT_FIELDS]
        values = {name: str(form.get(name, "")).strip()[:200] for name in names}  # longer than any field allows
        chosen = {"purposes": [str(value) for value in form.getlist("purposes")]}
        for row in range(1, rows + 1):
            chosen[f"m{row}_vulnerabilities"] = [str(value) for value in form.getlist(f"m{row}_vulnerabilities")]
        return cls({name: value for name, value in values.items() if value}, chosen, rows)

    @classmethod
    def read_member(cls, form: FormData, row: int) -> HouseholdForm:
        """One member's fields (`m<row>_...`), for adding a member to a registered household."""
        names = [f"m{row}_{name}" for name in MEMBER_TEXT_FIELDS]
        values = {name: str(form.get(name, "")).strip()[:200] for name in names}
        chosen = {f"m{row}_vulnerabilities": [str(value) for value in form.getlist(f"m{row}_vulnerabilities")]}
        return cls({name: value for name, value in values.items() if value}, chosen, row)

    def filled_rows(self) -> list[int]:
        return [
            row for row in range(1, self.rows + 1) if any(self.values.get(f"m{row}_{n}") for n in MEMBER_TEXT_FIELDS)
        ]

    def value(self, name: str) -> str:
        return self.values.get(name, "")


def _row_count(text: str) -> int:
    return min(max(int(text), 1), MAX_ROWS) if text.isdigit() else FIRST_ROWS


def _given(values: dict[str, str], names: tuple[str, ...], prefix: str = "") -> dict[str, Any]:
    return {name: values[prefix + name] for name in names if values.get(prefix + name)}


def person_command(form: HouseholdForm, row: int) -> PersonIn:
    prefix = f"m{row}_"
    arguments = _given(form.values, MEMBER_TEXT_FIELDS, prefix)
    arguments |= {"member_index": row, "vulnerabilities": form.chosen.get(f"{prefix}vulnerabilities", [])}
    try:
        return PersonIn(**arguments)
    except ValidationError as error:
        raise FormErrors(validation_errors(error, prefix)) from None
    except ValidationFailed as error:
        raise FormErrors(failure_errors(error, prefix)) from None


def intention_command(values: dict[str, str]) -> IntentionIn | None:
    """The intention part of a form, or None when its fields are all empty."""
    given = _given(values, INTENTION_FIELDS)
    if not given:
        return None
    arguments = {("kind" if name == "intention_kind" else name): value for name, value in given.items()}
    try:
        return IntentionIn(**{"kind": "", "origin_pcode": "", "destination_pcode": "", **arguments})
    except ValidationError as error:
        raise FormErrors(validation_errors(error, fields={"kind": "intention_kind"})) from None
    except ValidationFailed as error:
        raise FormErrors({_intention_field(error.field): message_for(error.field)}) from None


def _intention_field(name: str) -> str:
    return "intention_kind" if name == "kind" else name


def household_command(form: HouseholdForm, registrar: str) -> HouseholdIn:
    """The whole form as a `HouseholdIn`, or FormErrors with every problem found."""
    errors: dict[str, str] = {}
    members = []
    for row in form.filled_rows():
        try:
            members.append(person_command(form, row))
        except FormErrors as problem:
            errors |= problem.errors
    if not form.filled_rows():
        errors["m1_given_name_ar"] = message_for("members")
    consent, intention = _consent(form, errors), _intention(form, errors)
    if errors or consent is None:
        raise FormErrors(errors)
    first = form.filled_rows()[0]
    try:
        return HouseholdIn(
            site_code=form.value("site_code") or "-",
            registered_on=form.value("registered_on"),  # pydantic parses the text
            registrar=registrar,
            consent=consent,
            members=members,
            intention=intention,
        )
    except ValidationError as error:
        raise FormErrors(validation_errors(error)) from None
    except ValidationFailed as error:
        target = f"m{first}_relationship" if error.field in {"relationship", "member_index"} else error.field
        raise FormErrors({target: message_for(error.field)}) from None


def _consent(form: HouseholdForm, errors: dict[str, str]) -> ConsentIn | None:
    try:
        return ConsentIn(purposes=form.chosen.get("purposes", []), given_on=form.value("registered_on"))
    except ValidationError as error:
        errors |= validation_errors(error, fields={"given_on": "registered_on"})
    except ValidationFailed as error:
        errors |= failure_errors(error)
    return None


def _intention(form: HouseholdForm, errors: dict[str, str]) -> IntentionIn | None:
    try:
        return intention_command(form.values)
    except FormErrors as problem:
        errors |= problem.errors
    return None
