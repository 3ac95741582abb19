"""The planner's standalone files: a waitlist and a convoy schedule in, a plan out (docs/convoys.md).

Every error names the file, the row (the header is row 1) and the column. The plan file is
written whole or not at all.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

from awda.convoys.planner import DEFAULT_TIME_LIMIT, Progress, plan_convoys
from awda.convoys.rules import Plan, ScheduledConvoy, WaitingHousehold, input_problems, travel_units, why_no_convoy
from awda.errors import AwdaError, ValidationFailed
from awda.exports import csv_writer
from awda.tables import read_rows

WAITLIST_COLUMNS = (
    "household_id",
    "size",
    "origin",
    "destination",
    "earliest_date",
    "vulnerability",
    "registered_at",
    "group_id",
)
CONVOY_COLUMNS = ("convoy_id", "date", "origin", "destinations", "seats")
PLAN_COLUMNS = ("household_id", "convoy_id")
PLAN_HASHTAGS = ("#x_household+id", "#x_convoy+code")  # HXL, as the manifest tags the same ids


class PlanFileError(ValidationFailed):
    """A cell, a row or a header of a planning file is wrong: names the file, the row and the column."""

    def __init__(self, file: Path, field: str, message: str, row: int | None = None) -> None:
        super().__init__(field, message, row)
        self.file = file.name
        where = f", row {row}" if row is not None else ""
        Exception.__init__(self, f"{file.name}{where}, {field}: {message}")


class NothingToPlan(AwdaError):
    """The input is valid but no household can ride any convoy; no plan file is written."""

    status = 422
    title = "Nothing to plan"


Cells = dict[str, str]


def _records(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, Cells]]:
    """(file row number, cells by column) for each non-blank row; a missing column is an error on row 1."""
    try:
        rows = read_rows(path)
        header = next(rows, None)
    except ValidationFailed as error:
        raise PlanFileError(path, error.field, error.message) from None
    if header is None:
        raise PlanFileError(path, "header", "the file is empty", 1)
    names = [name.strip().lower() for name in header]
    missing = [column for column in columns if column not in names]
    if missing:
        raise PlanFileError(path, missing[0], f"missing column (expected {', '.join(columns)})", 1)
    at = {column: names.index(column) for column in columns}
    try:
        for number, row in enumerate(rows, start=2):
            if any(cell.strip() for cell in row):
                yield number, {column: (row[i].strip() if i < len(row) else "") for column, i in at.items()}
    except ValidationFailed as error:
        raise PlanFileError(path, error.field, error.message, error.row) from None


class _Cell:
    """Typed reading of one row's cells, each error naming the file, the row and the column."""

    def __init__(self, path: Path, row: int, cells: Cells) -> None:
        self.path, self.row, self.cells = path, row, cells

    def fail(self, column: str, message: str) -> PlanFileError:
        return PlanFileError(self.path, column, message, self.row)

    def text(self, column: str) -> str:
        value = self.cells[column]
        if not value:
            raise self.fail(column, "is empty")
        return value

    def whole(self, column: str, least: int) -> int:
        value = self.text(column)
        try:
            number = int(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a whole number") from None
        if number < least:
            raise self.fail(column, f"must be at least {least}, not {number}")
        return number

    def day(self, column: str) -> date:
        value = self.text(column)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not an ISO date (YYYY-MM-DD)") from None

    def instant(self, column: str) -> date | datetime:
        value = self.text(column)
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not an ISO date or date-time") from None

    def weight(self, column: str) -> float:
        value = self.cells[column] or "0"
        try:
            number = float(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a number") from None
        if not math.isfinite(number) or number < 0:
            raise self.fail(column, f"must be a number >= 0, not {value}")
        return number


def _unique(cell: _Cell, column: str, seen: dict[str, int]) -> str:
    value = cell.text(column)
    if value in seen:
        raise cell.fail(column, f"{value} is already on row {seen[value]}")
    seen[value] = cell.row
    return value


def read_waitlist(path: Path) -> list[WaitingHousehold]:
    """The waiting households of a waitlist file (columns `WAITLIST_COLUMNS`), checked row by row and as groups."""
    households, rows, seen = [], [], dict[str, int]()
    for row, cells in _records(path, WAITLIST_COLUMNS):
        cell = _Cell(path, row, cells)
        households.append(
            WaitingHousehold(
                household_id=_unique(cell, "household_id", seen),
                size=cell.whole("size", 1),
                origin=cell.text("origin"),
                destination=cell.text("destination"),
                earliest_date=cell.day("earliest_date"),
                vulnerability=cell.weight("vulnerability"),
                registered_at=cell.instant("registered_at"),
                group_id=cells["group_id"] or None,
            )
        )
        rows.append(row)
    for problem in input_problems(households, ()):
        raise PlanFileError(path, problem.field, problem.message, rows[problem.index])
    return households


def read_convoys(path: Path) -> list[ScheduledConvoy]:
    """The scheduled convoys of a convoy file (columns `CONVOY_COLUMNS`; destinations separated by `;`)."""
    convoys, seen = [], dict[str, int]()
    for row, cells in _records(path, CONVOY_COLUMNS):
        cell = _Cell(path, row, cells)
        convoy_id = _unique(cell, "convoy_id", seen)
        when, origin = cell.day("date"), cell.text("origin")
        destinations = tuple(place.strip() for place in cell.text("destinations").split(";"))
        if not all(destinations):
            raise cell.fail("destinations", "has an empty place; separate places with ';'")
        convoys.append(
            ScheduledConvoy(convoy_id, when, origin, tuple(dict.fromkeys(destinations)), cell.whole("seats", 0))
        )
    return convoys


def write_plan(
    path: Path, plan: Plan, convoys: Sequence[ScheduledConvoy], households: Sequence[WaitingHousehold]
) -> int:
    """Write `household_id,convoy_id` rows after the HXL hashtag row, convoy by convoy in schedule order; atomic.

    Returns the rows written."""
    order = {convoy.convoy_id: index for index, convoy in enumerate(convoys)}
    rows = sorted(
        (
            (household.household_id, plan.assignments[household.household_id])
            for household in households
            if household.household_id in plan.assignments
        ),
        key=lambda pair: order[pair[1]],
    )
    handle, name = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv_writer(stream)  # ids come from the input files: guarded against formulas
            writer.writerow(PLAN_COLUMNS)
            writer.writerow(PLAN_HASHTAGS)
            writer.writerows(rows)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return len(rows)


def read_inputs(waitlist: Path, convoys_file: Path) -> tuple[list[WaitingHousehold], list[ScheduledConvoy]]:
    """Both files, checked; NothingToPlan if no household could ride any convoy (then no plan is written)."""
    households = read_waitlist(waitlist)
    convoys = read_convoys(convoys_file)
    _refuse_empty(waitlist, households, convoys)
    return households, convoys


def plan_and_write(
    households: Sequence[WaitingHousehold],
    convoys: Sequence[ScheduledConvoy],
    out: Path,
    time_limit: float = DEFAULT_TIME_LIMIT,
    on_progress: Progress | None = None,
) -> Plan:
    """Plan, then write the plan file (whole or not at all)."""
    plan = plan_convoys(households, convoys, time_limit, on_progress)
    write_plan(out, plan, convoys, households)
    return plan


def _refuse_empty(waitlist: Path, households: Sequence[WaitingHousehold], convoys: Sequence[ScheduledConvoy]) -> None:
    if not households:
        raise NothingToPlan(f"{waitlist.name} has no waiting households; no plan written")
    if not convoys:
        raise NothingToPlan("the convoy file has no convoys; no plan written")
    if not any(unit.convoys for unit in travel_units(households, convoys)):
        first = households[0]
        raise NothingToPlan(
            f"no household can ride any convoy, so no plan was written; "
            f"for example household {first.household_id}: {why_no_convoy(first, convoys)}"
        )
