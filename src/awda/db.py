"""Engine, sessions and migrations. SQLite gets WAL, foreign keys and secure deletion."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

from awda.errors import Conflict, StaleVersion

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits at registry scale.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # 16 KiB pages for new files (existing ones keep theirs): shallower b-trees and fewer pages
    # per commit for the random blind-index inserts of bulk imports. Must precede WAL mode.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Overwrite deleted content so crypto-shredded keys do not linger in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # 64 MiB of page cache: index pages of bulk imports stay in memory between statements.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite the folder is created and the pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("awda") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


@contextmanager
def action(session: Session) -> Iterator[Session]:
    """One named action's transaction: commit on success, roll back on any error.

    On SQLite the action holds the database's write lock from its first read (BEGIN IMMEDIATE),
    so what it reads cannot change before it commits: SQLite actions run one after another.
    PostgreSQL stays at READ COMMITTED; actions lock what they read to decide (docs/architecture.md).
    """
    try:
        _hold_sqlite_write_lock(session)
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleVersion("the record was changed by someone else meanwhile; read it again") from None
    except BaseException:
        session.rollback()
        raise


def _hold_sqlite_write_lock(session: Session) -> None:
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    # The sqlite3 module opens its own transaction only at the first write; reads before it would
    # see a state another writer can change before this action commits (a lost update).
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def serialise(session: Session, name: str) -> None:
    """Hold off every other action that serialises on `name` until this transaction ends.

    For allocations with no row to lock (the first signing key, say). PostgreSQL: a transaction
    advisory lock; SQLite: nothing more is needed, an action already holds the write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def written_meanwhile(error: IntegrityError) -> Conflict | None:
    """The Conflict a shell shows when a unique key was taken by a concurrent writer, else None.

    A check-then-insert (a source reference, a username, an arrival) can race another request
    that inserts the same key between the check and the commit; the unique constraint refuses
    the second one, which is a conflict for the user, not an internal error.
    """
    original = error.orig
    unique = getattr(original, "sqlstate", None) == "23505" or getattr(original, "sqlite_errorname", "") in {
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
    }
    if not unique:
        return None
    return Conflict("the same record was written by someone else meanwhile; read it again")
