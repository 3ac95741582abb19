"""Tree heads signed periodically while the app runs, only when the log grew, on both engines."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.audit.models import TreeHead
from awda.audit.schedule import HeadSchedule, head_if_new
from awda.audit.services import record_event, verify_log
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.test_api import TestClient


def add_event(session: Session, name: str) -> None:
    record_event(session, SYSTEM, "test_event", "test", name, {})
    session.commit()


def heads(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(TreeHead)) or 0)


def test_a_head_is_issued_only_when_events_were_added(runtime: Runtime, session: Session) -> None:
    add_event(session, "one")
    first = head_if_new(runtime)
    assert first is not None and first["tree_size"] >= 1
    # Its own issue_tree_head event is not news: nothing to sign again.
    assert head_if_new(runtime) is None
    add_event(session, "two")
    second = head_if_new(runtime)
    assert second is not None and second["tree_size"] == first["tree_size"] + 2
    assert heads(session) == 2
    assert verify_log(session, SYSTEM, runtime.vault)["ok"] is True


def test_the_schedule_signs_new_events_and_stops(runtime: Runtime, session: Session) -> None:
    schedule = HeadSchedule(runtime, 0.05)
    schedule.start()
    try:
        add_event(session, "scheduled")
        deadline = time.monotonic() + 20
        while heads(session) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        schedule.stop()
    assert heads(session) >= 1
    assert not schedule._thread.is_alive()


def test_the_app_runs_the_schedule_for_its_lifetime(runtime: Runtime) -> None:
    app = create_app(runtime.settings, runtime)
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        assert any(thread.name == "awda-tree-heads" for thread in threading.enumerate())
    assert not any(thread.name == "awda-tree-heads" for thread in threading.enumerate())
