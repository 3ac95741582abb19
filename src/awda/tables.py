"""Reading CSV and XLSX files as rows of text cells, streaming, for every importer."""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterator
from contextlib import closing
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


def _xlsx_rows(path: Path) -> Generator[list[str], None, None]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # a damaged or foreign file fails in zipfile, the XML parser, a KeyError...
        raise ValidationFailed("file", f"{path.name} is not a readable XLSX workbook") from None
    read = 0
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            read += 1
            yield [_cell_text(value) for value in row]
    except Exception:  # the sheet's XML is read lazily, row by row
        raise ValidationFailed("file", f"{path.name} is not a readable XLSX workbook", read + 1) from None
    finally:
        workbook.close()


def _csv_rows(path: Path) -> Generator[list[str], None, None]:
    read = 0
    with path.open(newline="", encoding="utf-8-sig") as handle:
        try:
            for row in csv.reader(handle):
                read += 1
                yield row
        except UnicodeDecodeError:  # decoded a block ahead of the parser: no row to name
            raise ValidationFailed("file", "is not UTF-8 text; save it as CSV UTF-8") from None
        except csv.Error as error:
            raise ValidationFailed("file", f"is not valid CSV ({error})", read + 1) from None


def _without_nul(rows: Generator[list[str], None, None]) -> Iterator[list[str]]:
    """The rows, until a cell holds a NUL: never text, and PostgreSQL refuses it in any text column."""
    with closing(rows):  # stopping here closes the file the reader holds open
        yield from _checked_rows(rows)


def _checked_rows(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    header: list[str] = []
    for number, row in enumerate(rows, start=1):
        if "\x00" in "".join(row):  # one scan in C per row; the cell is looked for only on failure
            column = next(index for index, cell in enumerate(row) if "\x00" in cell)
            name = header[column].strip() if column < len(header) and header[column].strip() else f"column {column + 1}"
            raise ValidationFailed(name, "contains a NUL character (is this a text file?)", number)
        if number == 1:
            header = row
        yield row


def read_rows(path: Path) -> Iterator[list[str]]:
    """Rows of a .csv or .xlsx file; a clear error for anything else (a NUL in a cell names its row and column)."""
    if not path.exists():
        raise ValidationFailed("file", f"{path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _without_nul(_csv_rows(path))
    if suffix == ".xlsx":
        return _without_nul(_xlsx_rows(path))
    raise ValidationFailed("file", f"{path.name}: only .csv and .xlsx files can be imported")
