"""Fixtures: every storage test runs on SQLite and on PostgreSQL (mandatory when CI=true)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from awda.access.rules import Actor
from awda.access.services import SYSTEM, actor_for_user, create_user, grant_site
from awda.cli.main import main
from awda.db import Base, make_engine, migrate, session_factory
from awda.places.services import load_demo_gazetteer
from awda.runtime import Runtime
from awda.settings import Settings
from awda.vault import Vault, new_master_key_text, parse_master_key

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery staple"


def _postgres_url() -> str | None:
    """The PostgreSQL URL to test against, or None (skip) when no server answers outside CI."""
    url = os.environ.get("AWDA_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs PostgreSQL at {url}: {type(error).__name__}")
        return None
    return url


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str | None]:
    """A private schema for this test run, migrated once, dropped at the end."""
    url = _postgres_url()
    if url is None:
        yield None
        return
    schema = f"awda_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    engine = make_engine(scoped)
    migrate(engine)
    engine.dispose()
    yield scoped
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "awda.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_schema_url: str | None
) -> str:
    if request.param == "sqlite":
        target = tmp_path / "awda.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite:///{target}"
    if postgres_schema_url is None:
        pytest.skip("PostgreSQL tests skipped: no server at 127.0.0.1:5432 (set AWDA_TEST_POSTGRES_URL)")
    _truncate_all(postgres_schema_url)
    return postgres_schema_url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, master_key=SecretStr(new_master_key_text()))


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    assert settings.master_key is not None
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    vault = Vault(parse_master_key(settings.master_key.get_secret_value()))
    yield Runtime(settings, engine, session_factory(engine), vault)
    engine.dispose()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    with runtime.sessions() as opened:
        yield opened


@pytest.fixture
def gazetteer(session: Session) -> None:
    load_demo_gazetteer(session, SYSTEM)


def make_user(session: Session, username: str, role: str, sites: tuple[str, ...] = ()) -> Actor:
    user = create_user(session, SYSTEM, username, role, PASSWORD)
    for code in sites:
        grant_site(session, SYSTEM, username, code)
    return actor_for_user(session, user)


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def awda(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Done]:
    """Runs `awda ARGS` in this process through the real entry point `main()`."""
    monkeypatch.setenv("AWDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AWDA_DATABASE_URL", database_url)
    monkeypatch.delenv("AWDA_MASTER_KEY", raising=False)
    monkeypatch.delenv("AWDA_USER", raising=False)

    def run(*arguments: str, expect: int = 0) -> Done:
        monkeypatch.setattr(sys, "argv", ["awda", *arguments])
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        assert code == expect, err
        assert "Traceback" not in err
        return Done(code, out, err)

    return run
