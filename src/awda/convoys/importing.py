"""A schedule of convoys in (CSV or XLSX): the standalone planner's convoys file, read by the registry.

Columns: `convoy_id,date,origin,destinations,seats` as in docs/convoys.md (`origin` is the code of
the site the convoy leaves from, `destinations` P-codes separated by `;`), and optionally
`agreement` and `guarantor`. All or nothing; a convoy already scheduled with the same code is
skipped, so the file can be sent again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.convoys.commands import ConvoyIn
from awda.convoys.models import Convoy
from awda.convoys.services import insert_convoy
from awda.db import action
from awda.errors import ValidationFailed
from awda.monitoring.importing import file_rows, row_errors

COLUMNS = ("convoy_id", "date", "origin", "destinations", "seats")


def _command(cells: dict[str, str]) -> ConvoyIn:
    try:
        departs_on = date.fromisoformat(cells["date"])
    except ValueError:
        raise ValidationFailed("date", f"{cells['date']!r} is not a date as YYYY-MM-DD") from None
    values: dict[str, Any] = {
        "code": cells["convoy_id"],
        "site": cells["origin"],
        "departs_on": departs_on,
        "destinations": [part.strip() for part in cells["destinations"].split(";") if part.strip()],
        "seats": cells["seats"],
        "agreement": cells.get("agreement") or None,
        "guarantor": cells.get("guarantor", ""),
    }
    return ConvoyIn.model_validate(values)


def import_convoys(session: Session, actor: Actor, path: Path) -> dict[str, int]:
    """Schedule every convoy of the file, or none (the first bad row is named)."""
    require(actor, Permission.MOVE_INTENTION)
    existing = set(session.scalars(select(Convoy.code)))
    rows = created = 0
    with action(session):
        for number, cells in file_rows(path, COLUMNS):
            rows += 1
            with row_errors(number):
                command = _command(cells)
                if command.code in existing:
                    continue
                insert_convoy(session, actor, command, row=number)
            existing.add(command.code)
            created += 1
    return {"rows": rows, "scheduled": created, "skipped": rows - created}
