"""The household page's form that records an arrival: what was typed, kept as typed, and the `ArrivalIn`
it asks for.

The form's names carry an `arrival_` prefix, since the household page holds other forms with a place
and an agreement. A refusal (pydantic's or the service's) comes back as {form field: message}, the
messages keyed by the command's field as in `forms.py`; the service decides what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from awda.errors import Conflict, ValidationFailed
from awda.households.rules import ACTIVE_STATUSES
from awda.monitoring.commands import ArrivalIn
from awda.web.pages.forms import MAX_MEMBER_INDEX, message_for, validation_errors
from awda.web.pages.labels import N_

# The form's field -> the command's field; `arrival_members` are the checked members' indexes.
COMMAND_FIELDS = {
    "arrival_on": "arrived_on",
    "arrival_place": "place",
    "arrival_agreement": "agreement",
    "arrival_intention": "intention",
}
FORM_FIELDS = {command: form for form, command in COMMAND_FIELDS.items()} | {"member_indexes": "arrival_members"}
LONGEST = 64  # as `ArrivalIn`'s codes allow; one character more is kept, so an over-long value is refused
ALREADY = N_("The arrival of these members on this day is recorded already.")


class ArrivalRefused(Exception):
    """The form's problems, {form field: message}; nothing was recorded."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass
class ArrivalForm:
    """What was typed and checked in the form, kept so that a refused form shows it again."""

    values: dict[str, str] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, household: dict[str, Any]) -> ArrivalForm:
        """Today, every member, no agreement (as the service picks when none is named); the place and
        what the household did from its active intention, if it has one."""
        active = [item for item in household["intentions"] if item["status"] in ACTIVE_STATUSES]
        intention = active[-1] if active else {}
        values = {
            "arrival_on": date.today().isoformat(),
            "arrival_place": intention.get("destination") or "",
            "arrival_agreement": "",
            "arrival_intention": intention.get("kind", "return"),
        }
        return cls(values, [str(member["member_index"]) for member in household["members"]])

    @classmethod
    def read(cls, posted: FormData) -> ArrivalForm:
        values = {name: str(posted.get(name, "")).strip()[: LONGEST + 1] for name in COMMAND_FIELDS}
        members = [str(value)[:3] for value in posted.getlist("arrival_members")][: MAX_MEMBER_INDEX + 1]
        return cls(values, members)

    def command(self, household_uid: str) -> ArrivalIn:
        """The form as the API's command; its problems as `ArrivalRefused`. No member checked is a
        problem here: the service reads no members as all of them."""
        indexes = sorted({int(index) for index in self.members if index.isdigit()})
        if not indexes:
            raise ArrivalRefused({"arrival_members": message_for("member_indexes")})
        given: dict[str, Any] = {COMMAND_FIELDS[name]: value for name, value in self.values.items() if value}
        try:
            return ArrivalIn.model_validate(given | {"household_uid": household_uid, "member_indexes": indexes})
        except ValidationError as error:
            raise ArrivalRefused(validation_errors(error, fields=FORM_FIELDS)) from None


def refusal_errors(error: ArrivalRefused | ValidationFailed | Conflict) -> dict[str, str]:
    """A refused arrival, next to the field it concerns."""
    if isinstance(error, ArrivalRefused):
        return error.errors
    if isinstance(error, Conflict):  # these members' arrival on that day is there already
        return {"arrival_on": ALREADY}
    return {FORM_FIELDS.get(error.field, "arrival_on"): message_for(error.field)}
