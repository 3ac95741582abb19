"""KoboToolbox exports read as tables (the layout of Kobo's exporter, kobotoolbox/formpack `Export`).

- XLSX: the first sheet holds one row per submission, the form's fields (group paths joined by
  `/` when "include groups in headers" is on) then Kobo's columns `_id`, `_uuid` (the instanceID
  without its `uuid:` prefix), `_submission_time`, `_validation_status`, ..., `_index` (1, 2, ...
  when the form has a repeat group). Each repeat group is a sheet named after it (`members`)
  whose rows end with `_index`, `_parent_table_name`, `_parent_index` (the parent's `_index`) and
  `_submission__uuid`, `_submission__submission_time`, ...
- CSV: the first sheet only (Kobo leaves repeat groups out of CSV), every cell quoted, `;` between
  cells by default (`,` on request).

Headers must be the fields' names ("XML values and headers"); an export with question labels is
refused by `exports_import`, which can tell them apart.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from awda.errors import ValidationFailed
from awda.field.odk_exports import Export, Keys, Rows, Table, csv_table
from awda.tables import _cell_text

# An edited submission gets a new `_uuid`; `meta/rootUuid` (in recent exports) keeps the first one.
KOBO_KEYS = Keys(
    ("rootUuid", "_uuid", "instanceID"),
    "_submission_time",
    "_index",
    "_parent_index",
    "/",
    "_validation_status",
    frozenset({"validation_status_not_approved", "not approved"}),  # its code, or its label in newer exports
)
KOBO_COLUMNS = frozenset({"_uuid", "_id", "_index", "_submission_time", "_parent_index", "_parent_table_name"})


def read_kobo_csv(path: Path) -> Export:
    """A Kobo CSV export (`;` or `,` separated)."""
    with path.open("rb") as probe:
        first_line = probe.readline().decode("utf-8", errors="replace")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    closer = ExitStack()
    try:
        table = csv_table(path.name, path.open("rb"), closer, delimiter)
    except BaseException:
        closer.close()
        raise
    return Export("KoboToolbox", KOBO_KEYS, table, closer=closer)


def read_kobo_xlsx(path: Path) -> Export:
    """A Kobo XLSX export: the first sheet and one sheet per repeat group, read row by row."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # a damaged or foreign file fails in zipfile, the XML parser, a KeyError...
        raise ValidationFailed("file", f"{path.name} is not a readable XLSX workbook") from None
    try:
        tables = [_sheet_table(f"{path.name}, sheet {sheet.title}", sheet) for sheet in workbook.worksheets]
    except BaseException:
        workbook.close()
        raise
    if not tables:
        workbook.close()
        raise ValidationFailed("file", f"{path.name} has no sheet")
    repeats = {sheet.title: table for sheet, table in zip(workbook.worksheets[1:], tables[1:], strict=True)}
    export = Export("KoboToolbox", KOBO_KEYS, tables[0], repeats)
    export.closer.callback(workbook.close)
    return export


def _sheet_table(source: str, sheet: Any) -> Table:
    rows = _sheet_rows(source, sheet)
    header = next(rows, (1, []))[1]
    return Table(source, [cell.strip() for cell in header], rows)


def _sheet_rows(source: str, sheet: Any) -> Rows:
    number = 0
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in values]
            if "\x00" in "".join(cells):
                raise ValidationFailed("file", f"{source} holds a NUL character", number)
            yield number, cells
    except ValidationFailed:
        raise
    except Exception:  # the sheet's XML is read lazily, row by row
        raise ValidationFailed("file", f"{source} is not readable", number + 1) from None


def looks_like_kobo(header: Iterator[str] | list[str]) -> bool:
    """A CSV header with Kobo's own columns."""
    return bool(KOBO_COLUMNS & {cell.strip() for cell in header})


def sniff_csv_header(path: Path) -> list[str]:
    """The first row of a CSV file, whichever of `,` and `;` separates it (for telling tools apart)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        line = handle.readline()
    delimiter = ";" if line.count(";") > line.count(",") else ","
    return next(csv.reader([line], delimiter=delimiter), [])
