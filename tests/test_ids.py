"""Record uids are RFC 9562 version 7: valid UUIDs that sort by creation time."""

from __future__ import annotations

import time
import uuid

from awda.ids import new_uid


def test_uids_are_version_7_and_time_ordered() -> None:
    first = new_uid()
    time.sleep(0.002)
    second = new_uid()
    parsed = uuid.UUID(first)
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert first < second
    assert abs((parsed.int >> 80) - time.time_ns() // 1_000_000) < 5_000


def test_uids_do_not_repeat() -> None:
    assert len({new_uid() for _ in range(10_000)}) == 10_000
