"""A bounded load test on loopback, on a file SQLite database and on PostgreSQL: the real app under
uvicorn (`awda serve` in a subprocess on a free port, always stopped), four client processes each
with its own token registering households and updating one shared household with If-Match
retries, and a process signing tree heads meanwhile. Nothing is lost or stored twice, nothing
answers 5xx ("database is locked" included), the shared household's version counts every
successful update, and `awda audit verify` accepts the log and every head signed during the load.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.households.models import Consent, Household
from awda.households.services import register_household
from awda.runtime import Runtime
from awda.settings import Settings
from tests.conftest import PASSWORD, Done, make_user
from tests.factories import household
from tests.load_clients import Job, Outcome, issue_heads, register_and_update

pytestmark = pytest.mark.usefixtures("gazetteer")
CLIENTS = 4
HOUSEHOLDS = 20  # per client: the whole test stays well under a minute per engine on two cores


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(settings: Settings, log: Path) -> Iterator[str]:
    """`awda serve` on 127.0.0.1 and a free port; yields its base URL; always stopped."""
    assert settings.master_key is not None
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWDA_")}
    env |= {"AWDA_DATA_DIR": str(settings.data_dir), "AWDA_DATABASE_URL": settings.effective_database_url}
    env["AWDA_MASTER_KEY"] = settings.master_key.get_secret_value()
    command = [str(Path(sys.executable).with_name("awda")), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(server, base_url)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def _wait_until_up(server: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"awda serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base_url}/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("awda serve did not answer within a minute")


def _jobs(base_url: str, shared_uid: str) -> list[Job]:
    jobs = []
    for client in range(CLIENTS):
        bodies = [household(source_ref=f"load-{client}-{n}").model_dump(mode="json") for n in range(HOUSEHOLDS)]
        jobs.append(Job(base_url, f"load-{client}", PASSWORD, bodies, shared_uid))
    return jobs


def _run_load(settings: Settings, base_url: str, shared_uid: str, stop_file: Path) -> tuple[list[Outcome], int]:
    """The client processes and the head issuer, together; their outcomes and the number of heads."""
    assert settings.master_key is not None
    key = settings.master_key.get_secret_value()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=CLIENTS + 1, mp_context=spawn) as pool:
        heads = pool.submit(issue_heads, settings.effective_database_url, key, str(settings.data_dir), str(stop_file))
        try:
            outcomes = list(pool.map(register_and_update, _jobs(base_url, shared_uid)))
        finally:
            stop_file.touch()
        return outcomes, heads.result(timeout=120)


def test_concurrent_clients_lose_nothing(
    runtime: Runtime, session: Session, settings: Settings, tmp_path: Path, awda: Callable[..., Done]
) -> None:
    for client in range(CLIENTS):
        make_user(session, f"load-{client}", "registrar", ("RUKBAN",))
    shared = register_household(session, runtime.vault, SYSTEM, household(source_ref="shared")).household_uid
    with served(settings, tmp_path / "server.log") as base_url:
        outcomes, heads = _run_load(settings, base_url, shared, tmp_path / "stop")

    statuses = [status for outcome in outcomes for status in outcome.statuses]
    assert not [status for status in statuses if status >= 500], (tmp_path / "server.log").read_text()[-3000:]
    registered = dict(pair for outcome in outcomes for pair in outcome.registered)
    assert len(registered) == CLIENTS * HOUSEHOLDS  # every registration answered 201, each its own household
    stored = dict(session.execute(select(Household.source_ref, Household.uid)).tuples().all())
    assert stored == registered | {"shared": shared}  # each 201 stored exactly once, nothing else
    updates = sum(outcome.updates for outcome in outcomes)
    assert updates == CLIENTS * HOUSEHOLDS and not any(outcome.gave_up for outcome in outcomes)
    shared_row = session.scalars(select(Household).where(Household.uid == shared)).one()
    assert shared_row.version == 1 + updates
    assert session.scalar(select(func.count()).select_from(Consent).where(Consent.household_id == shared_row.id)) == (
        1 + updates
    )
    registrations = select(func.count()).select_from(Event).where(Event.action == "register_household")
    assert session.scalar(registrations) == 1 + len(registered)

    assert heads >= 1
    assert settings.master_key is not None  # `awda` below reads it from the keyfile, as an installation does
    settings.effective_keyfile.parent.mkdir(parents=True, exist_ok=True)
    settings.effective_keyfile.write_text(settings.master_key.get_secret_value(), encoding="ascii")
    report = json.loads(awda("audit", "verify", "--json").stdout)
    assert report["ok"], report["problems"]
    assert report["size"] == session.scalar(select(func.count()).select_from(Event))
