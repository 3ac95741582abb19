"""Fast bulk inserts for importers: ids reserved up front, plain tuples through the driver.

SQLAlchemy's executemany processes every parameter of every row in Python, which costs more than
SQLite's insert itself; at registry scale (millions of rows) that matters. Here the SQL is
rendered once per table and the rows go straight to the driver's executemany.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, text
from sqlalchemy.types import TypeDecorator, TypeEngine


class BulkInserter:
    """Inserts rows of one connection's open transaction, for SQLite and PostgreSQL alike."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.placeholder = "?" if self.dialect == "sqlite" else "%s"

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """`count` fresh primary keys for `table`.

        PostgreSQL draws them from the table's sequence. SQLite has one writer at a time: the
        caller must already have written in this transaction (so it holds the write lock), and
        then max(id) + 1 ... cannot be taken by anyone else before commit.
        """
        if count == 0:
            return []
        if self.dialect == "postgresql":
            query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")
            return [
                int(value) for value in self.connection.execute(query, {"table": table.name, "count": count}).scalars()
            ]
        if not self.connection.in_transaction():
            raise RuntimeError("reserve_ids on SQLite needs an open write transaction")
        # Table and column names come from awda's own metadata, never from input.
        highest = self.connection.exec_driver_sql(f'SELECT max(id) FROM "{table.name}"').scalar() or 0  # noqa: S608
        return list(range(int(highest) + 1, int(highest) + 1 + count))

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert rows given as tuples in `columns` order."""
        bound = self._bind_dates(table, columns, rows)
        if not bound:
            return
        names = ", ".join(f'"{column}"' for column in columns)
        marks = ", ".join([self.placeholder] * len(columns))
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608  (names from metadata)
        cursor = self.connection.connection.cursor()
        try:
            cursor.executemany(sql, bound)
        finally:
            cursor.close()

    def _bind_dates(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
        """SQLite stores dates as text, in the format SQLAlchemy writes and reads back."""
        if self.dialect != "sqlite":
            return list(rows)
        positions = [i for i, name in enumerate(columns) if _is_temporal(table.c[name].type)]
        if not positions:
            return list(rows)
        bound: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            for position in positions:
                values[position] = _sqlite_text(values[position])
            bound.append(values)
        return bound


def _is_temporal(column_type: TypeEngine[Any]) -> bool:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return isinstance(column_type, Date | DateTime)


def _sqlite_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
