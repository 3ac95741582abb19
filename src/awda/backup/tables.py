"""The database side of a backup: every table as plain rows, read in one snapshot, written back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    LargeBinary,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine

from awda.backup.rules import BYTES, DATE, DATETIME, PLAIN
from awda.db import Base, alembic_config
from awda.errors import ConfigurationError

BATCH = 2_000
PLAIN_TYPES = (int, str, bool, float)  # values JSON carries as they are
Progress = Callable[[int], None]


def all_tables() -> list[Table]:
    """Every table of the schema, parents before the tables that refer to them."""
    import awda.models  # noqa: F401  (registers every table on the metadata)

    return list(Base.metadata.sorted_tables)


def column_kind(column: Column[Any]) -> str:
    """How the column's values travel in the file: bytes, datetime, date or plain JSON."""
    kind: TypeEngine[Any] = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, LargeBinary):
        return BYTES
    if isinstance(kind, DateTime):
        return DATETIME
    if isinstance(kind, Date):
        return DATE
    try:
        python_type: type = kind.python_type
    except NotImplementedError:
        python_type = object
    if python_type not in PLAIN_TYPES:  # fail before writing anything, not halfway through a table
        raise ConfigurationError(f"column {column.table.name}.{column.name}: backups cannot carry its type yet")
    return PLAIN


def table_specs(tables: Sequence[Table]) -> dict[str, list[list[str]]]:
    """Each table's [column, kind] pairs, as the manifest records them."""
    return {table.name: [[column.name, column_kind(column)] for column in table.columns] for table in tables}


@contextmanager
def snapshot(session: Session) -> Iterator[None]:
    """One read-only transaction whose reads all see the same committed state.

    PostgreSQL: REPEATABLE READ READ ONLY. SQLite: an explicit BEGIN (the driver would otherwise
    run each SELECT on its own); in WAL mode a reader keeps its snapshot while writers go on.
    """
    if session.in_transaction():
        session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    else:
        session.connection().exec_driver_sql("BEGIN")
    try:
        yield
    finally:
        session.rollback()  # nothing was written: this only ends the snapshot


def begin_writing(session: Session) -> None:
    """Start the restore's one transaction; on SQLite take the write lock at once."""
    if session.in_transaction():
        session.commit()
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def unknown_tables(session: Session, tables: Sequence[Table]) -> list[str]:
    """Tables in the database that the backup would not carry (so it refuses to run)."""
    present = set(inspect(session.connection()).get_table_names())
    return sorted(present - {table.name for table in tables} - {"alembic_version"})


def current_revision(session: Session) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(session.connection()).get_current_revision()


def known_revisions(session: Session) -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(session.get_bind().engine))
    return {revision.revision for revision in script.walk_revisions()}


def row_count(session: Session, table: Table) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def is_empty(session: Session, tables: Sequence[Table]) -> bool:
    return all(session.execute(select(text("1")).select_from(table).limit(1)).first() is None for table in tables)


def table_rows(session: Session, table: Table) -> Iterator[Sequence[Any]]:
    """Every row in primary-key order, streamed (a server-side cursor on PostgreSQL)."""
    query = select(*table.columns).order_by(*table.primary_key.columns).execution_options(yield_per=BATCH)
    result = session.execute(query)
    try:
        yield from result
    finally:
        result.close()


def clear_tables(session: Session, tables: Sequence[Table]) -> None:
    """Delete every row of every table, inside the current transaction."""
    if session.get_bind().dialect.name == "postgresql":
        quote = session.get_bind().dialect.identifier_preparer.quote
        session.execute(text("TRUNCATE " + ", ".join(quote(table.name) for table in tables)))
        return
    for table in reversed(tables):
        session.execute(table.delete())


def insert_rows(session: Session, table: Table, rows: Iterable[list[Any]], progress: Progress) -> int:
    """Insert the rows in batches; references of a table to itself are set in a second pass."""
    names = [column.name for column in table.columns]
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    keys = [column.name for column in table.primary_key.columns]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        values = dict(zip(names, row, strict=True))
        if own and any(values[name] is not None for name in own):
            later.append({**{f"k_{key}": values[key] for key in keys}, **{f"v_{name}": values[name] for name in own}})
            values.update(dict.fromkeys(own))
        batch.append(values)
        if len(batch) >= BATCH:
            count += _flush(session, table, batch, progress)
    count += _flush(session, table, batch, progress)
    if later:
        statement = update(table).values({name: bindparam(f"v_{name}") for name in own})
        for key in keys:
            statement = statement.where(table.c[key] == bindparam(f"k_{key}"))
        session.execute(statement, later)
    return count


def _flush(session: Session, table: Table, batch: list[dict[str, Any]], progress: Progress) -> int:
    if not batch:
        return 0
    session.execute(insert(table), batch)
    done = len(batch)
    batch.clear()
    progress(done)
    return done


def reset_sequences(session: Session, tables: Sequence[Table]) -> None:
    """PostgreSQL: move each id sequence past the restored ids (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    quote = session.get_bind().dialect.identifier_preparer.quote
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608  (quoted identifiers)
                f"COALESCE(MAX({quote(column.name)}), 0) + 1, false) FROM {quote(table.name)}"
            ),
            {"table": table.name, "column": column.name},
        )
