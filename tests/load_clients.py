"""The processes of the load test (tests/test_load.py): API clients, each with its own token, and a
tree head issuer. Kept apart from the test module so that a spawned process imports little."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

API = "/api/v1"
CONSENT = {"purposes": ["registration", "movement", "follow_up"], "given_on": "2024-03-01"}
MAX_TRIES = 100  # If-Match retries of one update; far more than 4 writers can ever need


@dataclass(frozen=True)
class Job:
    base_url: str
    username: str
    password: str
    bodies: list[dict[str, Any]]  # the households this client registers
    shared_uid: str  # the household every client updates


@dataclass
class Outcome:
    statuses: list[int] = field(default_factory=list)  # of every request sent
    registered: list[tuple[str, str]] = field(default_factory=list)  # (source_ref, uid) of each 201
    updates: int = 0  # successful updates of the shared household
    gave_up: int = 0


def register_and_update(job: Job) -> Outcome:
    """Register every household of the job; after each, update the shared one (If-Match, retried on 412)."""
    outcome = Outcome()
    with httpx.Client(base_url=job.base_url, timeout=60) as client:
        login = client.post(f"{API}/auth/token", json={"username": job.username, "password": job.password})
        outcome.statuses.append(login.status_code)
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for body in job.bodies:
            created = client.post(f"{API}/households", json=body, headers=auth)
            outcome.statuses.append(created.status_code)
            if created.status_code == 201:
                outcome.registered.append((body["source_ref"], created.json()["uid"]))
            if _update_shared(client, auth, job.shared_uid, outcome):
                outcome.updates += 1
            else:
                outcome.gave_up += 1
    return outcome


def _update_shared(client: httpx.Client, auth: dict[str, str], uid: str, outcome: Outcome) -> bool:
    tag = None
    for _ in range(MAX_TRIES):
        if tag is None:
            read = client.get(f"{API}/households/{uid}", headers=auth)
            outcome.statuses.append(read.status_code)
            tag = read.headers.get("etag", "")
        sent = client.post(f"{API}/households/{uid}/consent", json=CONSENT, headers=auth | {"If-Match": tag})
        outcome.statuses.append(sent.status_code)
        if sent.status_code == 201:
            return True
        if sent.status_code != 412:
            return False
        tag = sent.headers.get("etag")  # a 412 carries the current version: retry on it (else read again)
    return False


def issue_heads(database_url: str, master_key: str, data_dir: str, stop_file: str) -> int:
    """Sign tree heads while the clients write, until `stop_file` exists (at most 200); the count."""
    from pydantic import SecretStr

    from awda.access.services import SYSTEM
    from awda.audit.services import issue_tree_head
    from awda.runtime import open_runtime
    from awda.settings import Settings

    settings = Settings(data_dir=Path(data_dir), database_url=database_url, master_key=SecretStr(master_key))
    runtime = open_runtime(settings, upgrade=False)
    issued = 0
    try:
        while not Path(stop_file).exists() and issued < 200:
            with runtime.sessions() as session:
                issue_tree_head(session, runtime.vault, SYSTEM)
            issued += 1
            time.sleep(0.2)
    finally:
        runtime.engine.dispose()
    return issued
