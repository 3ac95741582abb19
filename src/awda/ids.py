"""Public record ids: UUID version 7 (RFC 9562), time-ordered so that index inserts append.

Random (v4) uids scatter every insert across the unique index and double its cost at registry
scale. Python 3.11's uuid module has no v7 yet, so the 16 bytes are laid out here.
"""

from __future__ import annotations

import os
import time


def new_uid() -> str:
    """A UUIDv7: 48-bit Unix milliseconds, version and variant bits, 74 random bits."""
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
