"""Reading CSV and XLSX files as rows of text cells, streaming, for every importer."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from awda.errors import ValidationFailed


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        try:
            yield from csv.reader(handle)
        except UnicodeDecodeError:
            raise ValidationFailed("file", "is not UTF-8 text; save it as CSV UTF-8") from None
        except csv.Error as error:
            raise ValidationFailed("file", f"is not valid CSV ({error})") from None


def read_rows(path: Path) -> Iterator[list[str]]:
    """Rows of a .csv or .xlsx file; a clear error for anything else."""
    if not path.exists():
        raise ValidationFailed("file", f"{path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    raise ValidationFailed("file", f"{path.name}: only .csv and .xlsx files can be imported")
