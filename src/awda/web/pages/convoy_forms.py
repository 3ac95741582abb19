"""The form that schedules a convoy: what was typed, kept as typed, and the `ConvoyIn` it asks for.

A refusal (pydantic's or the service's) comes back as {field: message}, the messages keyed by field
as in `forms.py`; the service decides what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from awda.convoys.commands import ConvoyIn
from awda.errors import Conflict, NotFound, ValidationFailed
from awda.web.pages.forms import message_for, validation_errors
from awda.web.pages.labels import N_

# The longest value `ConvoyIn` accepts in each field (the destinations: 50 P-codes and separators).
FIELD_LIMITS = {
    "code": 64,
    "site": 64,
    "departs_on": 10,
    "destinations": 1_000,
    "seats": 5,
    "agreement": 64,
    "guarantor": 200,
}
SCHEDULE_MESSAGES = {
    "code": N_("Give the convoy a code of at most 64 characters: Latin letters, digits, '.', '_' or '-'."),
    "site": N_("Choose one of your sites."),
    "departs_on": N_("Give the day the convoy leaves."),
    "destinations": N_("Give the P-codes of places in the gazetteer, each once, separated by commas."),
    "seats": N_("Give the number of seats, a whole number from 1 to 10,000."),
    "agreement": N_("Choose an agreement from the list, or none."),
    "guarantor": N_("Write the guarantor in at most 200 characters."),
}
CODE_TAKEN = N_("A convoy with this code is scheduled already: choose another code.")
SEPARATORS = re.compile(r"[\s,;،]+")  # the Arabic comma too


class ScheduleRefused(Exception):
    """The form's problems, {field: message}; nothing was scheduled."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass
class ScheduleForm:
    """What was typed in the form, kept as typed so that a refused form shows it again."""

    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, sites: list[str]) -> ScheduleForm:
        """An empty form: the user's only site chosen, departure today."""
        values = dict.fromkeys(FIELD_LIMITS, "")
        values["site"] = sites[0] if len(sites) == 1 else ""
        values["departs_on"] = date.today().isoformat()
        return cls(values)

    @classmethod
    def read(cls, posted: FormData) -> ScheduleForm:
        # One character more than allowed is kept, so an over-long value is refused rather than cut.
        return cls({name: str(posted.get(name, "")).strip()[: limit + 1] for name, limit in FIELD_LIMITS.items()})

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def command(self) -> ConvoyIn:
        """The form as the API's command; its problems as `ScheduleRefused`."""
        given: dict[str, Any] = {name: value for name, value in self.values.items() if value}
        given["destinations"] = [pcode for pcode in SEPARATORS.split(self.value("destinations")) if pcode]
        try:
            return ConvoyIn.model_validate(given)
        except ValidationError as error:
            found = validation_errors(error)
            raise ScheduleRefused({name: SCHEDULE_MESSAGES.get(name, found[name]) for name in found}) from None


def refusal_errors(error: Exception) -> dict[str, str]:
    """The service's refusal of a well-formed form, next to the field it concerns."""
    if isinstance(error, ScheduleRefused):
        return error.errors
    if isinstance(error, NotFound):  # a site outside the user's scope looks absent
        return {"site": SCHEDULE_MESSAGES["site"]}
    if isinstance(error, Conflict):
        return {"code": CODE_TAKEN}
    if isinstance(error, ValidationFailed):
        return {error.field: SCHEDULE_MESSAGES.get(error.field, message_for(error.field))}
    raise error
