"""An import killed with SIGKILL at a random point, then run again, ends with the records of one clean run.

The real CLI (`awda import registrations`) runs in a subprocess with one transaction per chunk of
households (`AWDA_IMPORT_COMMIT_ROWS=1`); the test watches the committed households and kills the
process (and its worker processes) at a seeded random moment after the first commit. A second run
completes the import. Households, persons, blind indexes, consents, intentions and registration
events are then compared, by content, with a clean run of the same file into a fresh database, and
the audit log (with a tree head signed between the crash and the second run) still verifies.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.audit.services import issue_tree_head, verify_log
from awda.db import make_engine, session_factory
from awda.households.models import (
    Consent,
    Household,
    Intention,
    IntentionMember,
    Person,
    PersonIdentifier,
    Registration,
)
from awda.households.pipeline import CHUNK_HOUSEHOLDS
from awda.households.rules import unpack_personal
from awda.places.models import Place, Site
from awda.places.services import load_demo_gazetteer
from awda.simulate.scenario import write_scenario
from awda.vault import Vault, new_master_key_text, parse_master_key
from tests.conftest import _truncate_all

SEED = 20261122
HOUSEHOLDS = 1500  # about 8,000 rows: four transactions of 500 households (the last one small)
RUN_SECONDS = 120  # a bound on each run, far above what one takes
MAX_DELAY = 0.1  # seconds between seeing a commit and the kill: short, so the import is still running


@pytest.fixture(scope="module")
def registrations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash-scenario")
    write_scenario(folder, HOUSEHOLDS, SEED, workers=1)
    return folder / "registrations.csv"


def fresh_database(database_url: str, sqlite_template: Path, path: Path) -> str:
    """An empty migrated database with the demo gazetteer: a copied SQLite file, or the test schema emptied."""
    if database_url.startswith("sqlite"):
        for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)  # a killed run's log must not replay onto the fresh copy
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        _truncate_all(database_url)
        url = database_url
    engine = make_engine(url)
    with session_factory(engine)() as session:
        load_demo_gazetteer(session, SYSTEM)
    engine.dispose()
    return url


def start_import(url: str, key: str, file: Path, data_dir: Path) -> subprocess.Popen[bytes]:
    """`awda import registrations FILE` in its own process group (so its workers can be killed too)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWDA_")}
    environment |= {
        "AWDA_DATABASE_URL": url,
        "AWDA_DATA_DIR": str(data_dir),
        "AWDA_MASTER_KEY": key,
        "AWDA_IMPORT_COMMIT_ROWS": "1",
    }
    entry = Path(sys.executable).with_name("awda")
    command = [str(entry)] if entry.exists() else [sys.executable, "-c", "from awda.cli.main import main; main()"]
    return subprocess.Popen(
        [*command, "import", "registrations", str(file), "--json"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def run_import(url: str, key: str, file: Path, data_dir: Path) -> dict[str, Any]:
    """Run the import to its end; its JSON report."""
    process = start_import(url, key, file, data_dir)
    try:
        out, err = process.communicate(timeout=RUN_SECONDS)
    finally:  # a run that overstays its bound is stopped, with its workers
        if process.returncode is None:
            _kill_group(process)
    assert process.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out)
    return report


def households_committed(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Household)) or 0)
    finally:
        engine.dispose()


def kill_after_a_commit(url: str, key: str, file: Path, data_dir: Path, chance: random.Random, total: int) -> int:
    """Start the import, SIGKILL it a random moment after one of its first commits; the households it left.

    The target leaves at least one whole chunk to write after the commit it waits for, so the kill
    lands while the import still runs; the caller tries again should a busy machine let it finish.
    """
    target = chance.randint(1, max(total - 2 * CHUNK_HOUSEHOLDS, 1))
    engine = make_engine(url)
    process = start_import(url, key, file, data_dir)
    try:
        with engine.connect() as connection:
            deadline = time.monotonic() + RUN_SECONDS
            while process.poll() is None and time.monotonic() < deadline:
                connection.rollback()  # a fresh snapshot each time (PostgreSQL, SQLite WAL)
                if (connection.scalar(select(func.count()).select_from(Household)) or 0) >= target:
                    time.sleep(chance.uniform(0, MAX_DELAY))
                    break
                time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        _kill_group(process)
        engine.dispose()
    return households_committed(url) if process.returncode == -signal.SIGKILL else total


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL what is left of the process group the import started (its worker processes)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=RUN_SECONDS)


def audit_log(url: str, call: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return call(session)
    finally:
        engine.dispose()


def snapshot(url: str, vault: Vault) -> dict[str, Any]:
    """The registry's content as values independent of ids: one entry per row, so a duplicate shows."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return {
                "households": Counter(_households(session)),
                "persons": Counter(_persons(session, vault)),
                "identifiers": Counter(_rows(session, PersonIdentifier.kind, PersonIdentifier.digest, person=True)),
                "consents": Counter(_rows(session, Consent.purposes, Consent.given_on)),
                "registrations": Counter(_rows(session, Registration.registered_on, Registration.registrar)),
                "intentions": Counter(_intentions(session)),
                "intention_members": Counter(_intention_members(session)),
                "events": Counter(_registration_events(session)),
            }
    finally:
        engine.dispose()


def _households(session: Session) -> Iterator[tuple[Any, ...]]:
    query = select(
        Household.source_ref, Household.fingerprint, Site.code, Household.registered_on, Household.travel_group
    ).join(Site, Site.id == Household.site_id)
    yield from session.execute(query).tuples()


def _persons(session: Session, vault: Vault) -> Iterator[tuple[Any, ...]]:
    query = select(Household.uid, Household.wrapped_key, Household.source_ref, Person).join(
        Person, Person.household_id == Household.id
    )
    keys: dict[str, bytes] = {}
    for uid, wrapped, ref, person in session.execute(query).tuples():
        key = keys.setdefault(uid, vault.unwrap(wrapped, uid))
        personal = unpack_personal(vault.open(key, person.sealed or b"", f"person:{person.uid}"))
        fields = (person.member_index, person.relationship, person.sex, person.birth_year, person.vulnerabilities)
        yield (ref, *fields, tuple(sorted(personal.items())))


def _rows(session: Session, *columns: Any, person: bool = False) -> Iterator[tuple[Any, ...]]:
    """`columns` of a table keyed by household (and member, for `person=True`), with the household's ref."""
    table = columns[0].class_
    if person:
        query = select(Household.source_ref, Person.member_index, *columns).join(Person, Person.id == table.person_id)
        query = query.join(Household, Household.id == Person.household_id)
    else:
        query = select(Household.source_ref, *columns).join(Household, Household.id == table.household_id)
    yield from session.execute(query).tuples()


def _intentions(session: Session) -> Iterator[tuple[Any, ...]]:
    origin, destination = aliased(Place), aliased(Place)
    query = (
        select(Household.source_ref, Intention.kind, origin.pcode, destination.pcode, Intention.status)
        .add_columns(Intention.window_start, Intention.window_end, Intention.declared_on)
        .join(Household, Household.id == Intention.household_id)
        .join(origin, origin.id == Intention.origin_id)
        .join(destination, destination.id == Intention.destination_id)
    )
    yield from session.execute(query).tuples()


def _intention_members(session: Session) -> Iterator[tuple[Any, ...]]:
    query = (
        select(Household.source_ref, Person.member_index)
        .select_from(IntentionMember)
        .join(Person, Person.id == IntentionMember.person_id)
        .join(Household, Household.id == Person.household_id)
    )
    yield from session.execute(query).tuples()


def _registration_events(session: Session) -> Iterator[tuple[Any, ...]]:
    query = select(Household.source_ref, Event.action).join(Household, Household.uid == Event.subject_id)
    yield from session.execute(query.where(Event.subject_type == "household")).tuples()


@pytest.mark.slow
def test_a_killed_import_run_again_matches_one_clean_run(
    database_url: str, sqlite_template: Path, registrations: Path, tmp_path: Path
) -> None:
    key = new_master_key_text()
    vault = Vault(parse_master_key(key))
    clean_url = fresh_database(database_url, sqlite_template, tmp_path / "clean.db")
    first = run_import(clean_url, key, registrations, tmp_path / "clean")
    clean = snapshot(clean_url, vault)
    total = sum(clean["households"].values())
    assert total == first["households"] > 3 * CHUNK_HOUSEHOLDS and max(clean["households"].values()) == 1

    chance = random.Random(f"{SEED}-{database_url.split(':', maxsplit=1)[0]}")
    for _attempt in range(3):  # a kill that lands only after the last commit proves nothing: again
        url = fresh_database(database_url, sqlite_template, tmp_path / "crashed.db")
        left = kill_after_a_commit(url, key, registrations, tmp_path / "crashed", chance, total)
        if left < total:
            break
    assert 0 < left < total
    partial = snapshot(url, vault)
    committed = {ref for ref, *_ in partial["households"]}
    for table, rows in clean.items():  # the killed run left whole households, exactly as the clean run wrote them
        assert partial[table] == Counter({row: count for row, count in rows.items() if row[0] in committed}), table

    audit_log(url, lambda session: issue_tree_head(session, vault, SYSTEM))  # a head over what the crash left

    again = run_import(url, key, registrations, tmp_path / "crashed")
    assert (again["households"], again["skipped"], again["error_count"]) == (total - left, left, first["error_count"])
    assert snapshot(url, vault) == clean
    verified = audit_log(url, lambda session: verify_log(session, SYSTEM, vault))
    assert verified["ok"] and not verified["problems"], verified
