"""Pure rules of sign-in throttling: failures counted in a window, then a lock, whatever the password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    """At most `max_failures` failures within `window`; the next ones are refused for `lock`."""

    max_failures: int
    window: timedelta
    lock: timedelta


@dataclass(frozen=True)
class Count:
    failures: int
    window_start: datetime
    locked_until: datetime | None


def retry_after(count: Count | None, now: datetime) -> int | None:
    """Seconds until a locked key may try again, or None when it is not locked."""
    if count is None or count.locked_until is None or count.locked_until <= now:
        return None
    return max(1, int((count.locked_until - now).total_seconds() + 0.999))


def after_failure(count: Count | None, now: datetime, limit: Limit) -> Count:
    """The count once one more failure is recorded; a stale window or a served lock starts afresh."""
    stale = count is None or now - count.window_start >= limit.window
    served = count is not None and count.locked_until is not None and count.locked_until <= now
    if count is None or stale or served:
        failures, window_start = 1, now
    else:
        failures, window_start = count.failures + 1, count.window_start
    locked = now + limit.lock if failures >= limit.max_failures else None
    return Count(failures, window_start, locked)


def starts_lock(before: Count | None, after: Count, now: datetime) -> bool:
    """Whether this failure is the one that locks the key (so it is logged once per lock)."""
    return after.locked_until is not None and retry_after(before, now) is None
