"""Signed tree heads issued periodically while the web app runs (and on demand with `awda audit head`).

A head only helps if it exists before someone tampers: the app signs one every
`AWDA_TREE_HEAD_MINUTES` whenever events were added since the last, so the window in which the
log could be rewritten unnoticed stays short without anyone having to remember a cron job.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from awda.access.services import SYSTEM
from awda.audit import log
from awda.audit.services import issue_tree_head
from awda.runtime import Runtime

logger = logging.getLogger("awda.audit")


def head_if_new(runtime: Runtime) -> dict[str, Any] | None:
    """Issue a head when events were added since the latest one (its own event does not count)."""
    with runtime.sessions() as session:
        latest = log.latest_head(session)
        if latest is not None and log.event_count(session) <= latest.tree_size + 1:
            return None
        head = issue_tree_head(session, runtime.vault, SYSTEM)
    logger.info("signed tree head %s: size %s, root %s", head["id"], head["tree_size"], head["root"])
    return head


class HeadSchedule:
    """A daemon thread issuing heads every `interval` seconds until `stop()`; a failure is logged, not fatal."""

    def __init__(self, runtime: Runtime, interval: float) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="awda-tree-heads", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                head_if_new(self.runtime)
            except Exception as error:  # the app keeps serving; the next round tries again
                logger.error("could not issue a tree head: %s", type(error).__name__)
