"""Opens the raw SQLite files and proves no registered name, phone or document number is in them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.db import make_engine, migrate, session_factory
from awda.households import erasure, services
from awda.households.importer import import_registrations
from awda.households.models import Household
from awda.places.services import load_demo_gazetteer
from awda.runtime import Runtime
from awda.vault import Vault, new_master_key_text, parse_master_key
from tests import factories
from tests.test_import import household_rows, write_csv

SECRETS = [
    factories.HEAD_NAME_AR,
    factories.HEAD_NAME_LAT,
    factories.FAMILY_AR,
    factories.FAMILY_LAT,
    "خديجة",
    "Khadija",
    "مريم",
    "Maryam",
    factories.HEAD_PHONE,
    factories.HEAD_PHONE.lstrip("+"),
    factories.HEAD_DOCUMENT,
    "أحمد",
    "Ahmad",
    "يوسف",
    "Yousef",
    "العلي",
    "al-Ali",
    "963111234567",
    "2012-04-09",
]


def raw_bytes(database: Path) -> bytes:
    files = [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-journal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def found_in(blob: bytes) -> list[str]:
    return [text for text in SECRETS if text.encode("utf-8") in blob]


def test_no_personal_field_in_the_raw_database_file(tmp_path: Path) -> None:
    database = tmp_path / "awda.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    vault = Vault(parse_master_key(new_master_key_text()))
    with session_factory(engine)() as session:
        load_demo_gazetteer(session, SYSTEM)
        created = services.register_household(session, vault, SYSTEM, factories.household())
        services.register_household(session, vault, SYSTEM, factories.household(site="ATMEH"))
        report = import_registrations(session, vault, SYSTEM, write_csv(tmp_path / "r.csv", household_rows("h1")))
        assert report.households == 1
        assert len(household_plaintexts(session, vault, created.household_uid)) > 5  # the data is really there
    engine.dispose()
    assert found_in(raw_bytes(database)) == []


def household_plaintexts(session: Session, vault: Vault, uid: str) -> str:
    from awda.access.readers import household_for

    return str(household_for(session, vault, SYSTEM, uid))


def test_erased_key_does_not_linger_in_the_file(runtime: Runtime, session: Session) -> None:
    url = make_url(runtime.settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        return  # the raw-file property is about the embedded file; PostgreSQL relies on VACUUM (docs)
    load_demo_gazetteer(session, SYSTEM)
    created = services.register_household(session, runtime.vault, SYSTEM, factories.household())
    wrapped = session.scalar(select(Household.wrapped_key).where(Household.uid == created.household_uid))
    assert wrapped and wrapped in raw_bytes(Path(str(url.database)))
    erasure.erase_household(session, SYSTEM, created.household_uid)
    session.close()
    runtime.engine.dispose()
    assert wrapped not in raw_bytes(Path(str(url.database)))
