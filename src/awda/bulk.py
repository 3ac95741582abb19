"""Fast bulk inserts for importers: ids reserved up front, plain tuples through the driver.

SQLAlchemy's executemany processes every parameter of every row in Python, which costs more than
SQLite's insert itself; at registry scale (millions of rows) that matters. Here the SQL is
rendered once per table and the rows go straight to the driver's executemany. Rows refer to each
other by position in their batch ("the 3rd person"); `insert` turns positions into the reserved
ids, in SQL when the ids are contiguous, so the writing process touches no row in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, text
from sqlalchemy.exc import DBAPIError


class BulkInserter:
    """Inserts rows of one connection's open transaction, for SQLite and PostgreSQL alike."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.placeholder = "?" if self.dialect == "sqlite" else "%s"

    def reserve_ids(self, table: Table, count: int) -> Sequence[int]:
        """`count` fresh primary keys for `table` (a `range` when they are contiguous).

        PostgreSQL draws them from the table's sequence. SQLite has one writer at a time: the
        caller must already have written in this transaction (so it holds the write lock), and
        then max(id) + 1 ... cannot be taken by anyone else before commit.
        """
        if count == 0:
            return range(0)
        if self.dialect == "postgresql":
            query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")
            drawn = [
                int(value) for value in self.connection.execute(query, {"table": table.name, "count": count}).scalars()
            ]
            # Concurrent writers may interleave with the sequence; then the ids are mapped one by one.
            return range(drawn[0], drawn[0] + count) if drawn[-1] - drawn[0] == count - 1 else drawn
        if not self.connection.in_transaction():
            raise RuntimeError("reserve_ids on SQLite needs an open write transaction")
        # Table and column names come from awda's own metadata, never from input.
        highest = self.connection.exec_driver_sql(f'SELECT max(id) FROM "{table.name}"').scalar() or 0  # noqa: S608
        return range(int(highest) + 1, int(highest) + 1 + count)

    def insert(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        links: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        """Insert rows given as tuples in `columns` order, values already bound (`temporal_binder`).

        A column named in `links` holds a position in the batch; it is stored as `links[column][position]`.
        """
        if not rows:
            return
        links = links or {}
        if not all(isinstance(ids, range) for ids in links.values()):
            rows, links = _mapped(columns, rows, links), {}
        names = ", ".join(f'"{column}"' for column in columns)
        marks = ", ".join(self._mark(links.get(column)) for column in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608  (names from metadata)
        cursor = self.connection.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        except self.connection.dialect.loaded_dbapi.Error as error:
            # Raised as SQLAlchemy would (an IntegrityError for a unique key taken meanwhile), so
            # callers and shells handle driver errors the same on every path.
            raise DBAPIError.instance(sql, None, error, self.connection.dialect.loaded_dbapi.Error) from error
        finally:
            cursor.close()

    def _mark(self, ids: Sequence[int] | None) -> str:
        if ids is None:
            return self.placeholder
        start = int(ids[0]) if ids else 0  # an int from a range: safe to render into the SQL
        return f"({self.placeholder} + {start})"


def _mapped(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], links: Mapping[str, Sequence[int]]
) -> list[list[Any]]:
    """Rows with positions replaced by ids, for ids that are not one contiguous range."""
    targets = [(columns.index(column), ids) for column, ids in links.items()]
    mapped = []
    for row in rows:
        values = list(row)
        for position, ids in targets:
            values[position] = ids[values[position]]
        mapped.append(values)
    return mapped


def temporal_binder(dialect: str) -> Callable[[date | datetime | None], Any]:
    """How a date or UTC datetime is passed to the driver: SQLite stores them as text, in the format
    SQLAlchemy writes and reads back; PostgreSQL's driver takes the objects."""
    return _sqlite_text if dialect == "sqlite" else _unchanged


def _unchanged(value: date | datetime | None) -> Any:
    return value


def _sqlite_text(value: date | datetime | None) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
