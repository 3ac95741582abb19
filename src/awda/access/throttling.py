"""Pure rules of sign-in throttling: each attempt is counted before the password is checked, at most
`max_failures` get through in a window, and the next one locks the key for a while.

Counting first (and giving the count back on success) bounds parallel guessing too: attempts sent
at the same moment cannot all pass a check made before any of them failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    """At most `max_failures` failures within `window`; the next attempt locks the key for `lock`."""

    max_failures: int
    window: timedelta
    lock: timedelta


@dataclass(frozen=True)
class Count:
    failures: int
    window_start: datetime
    locked_until: datetime | None


@dataclass(frozen=True)
class Decision:
    count: Count
    allowed: bool
    locks: bool  # this attempt started the lock (logged once per lock)


def retry_after(count: Count | None, now: datetime) -> int | None:
    """Seconds until a locked key may try again, or None when it is not locked."""
    if count is None or count.locked_until is None or count.locked_until <= now:
        return None
    return max(1, int((count.locked_until - now).total_seconds() + 0.999))


def reserve(count: Count | None, now: datetime, limit: Limit) -> Decision:
    """Count one attempt as failed until it proves otherwise, or refuse it (locking the key if due)."""
    if count is not None and retry_after(count, now) is not None:
        return Decision(count, allowed=False, locks=False)
    if count is None or now - count.window_start >= limit.window or count.locked_until is not None:
        count = Count(0, now, None)  # a first attempt, a window gone by, or a lock served: afresh
    if count.failures >= limit.max_failures:
        return Decision(Count(count.failures, count.window_start, now + limit.lock), allowed=False, locks=True)
    return Decision(Count(count.failures + 1, count.window_start, None), allowed=True, locks=False)


def release(count: Count) -> Count:
    """The count once a reserved attempt succeeded: it was no failure after all."""
    return Count(max(0, count.failures - 1), count.window_start, count.locked_until)
