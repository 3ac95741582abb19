"""The canonical bytes of an event (a leaf of the log) and of a tree head (what its signature covers).

Pure and storage-independent, so a third party can rebuild them (docs/audit.md). Every value is a
typed field: 0x00 = null; 0x01 + 8-byte big-endian signed integer; 0x02 + 4-byte big-endian
length + UTF-8 text; 0x03 + 4-byte big-endian length + raw bytes. A record is a format name (a
text field) followed by its fields in a fixed order, with nothing between them.
"""

from __future__ import annotations

from datetime import UTC, datetime

EVENT_FORMAT = "awda-event/1"
TREE_HEAD_FORMAT = "awda-tree-head/1"


def _null() -> bytes:
    return b"\x00"


def _integer(value: int | None) -> bytes:
    return _null() if value is None else b"\x01" + value.to_bytes(8, "big", signed=True)


def _text(value: str) -> bytes:
    encoded = value.encode("utf-8")
    return b"\x02" + len(encoded).to_bytes(4, "big") + encoded


def _raw(value: bytes) -> bytes:
    return b"\x03" + len(value).to_bytes(4, "big") + value


def utc_iso(moment: datetime) -> str:
    """`2024-02-01T09:30:00.000000Z`: UTC, always six fraction digits, whatever the engine returned."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in the log")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def event_leaf_data(
    event_id: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    site_id: int | None,
    payload: str,
) -> bytes:
    """The leaf data of one stored event: its columns in table order; the payload as stored."""
    return b"".join(
        [
            _text(EVENT_FORMAT),
            _integer(event_id),
            _text(utc_iso(at)),
            _integer(actor_id),
            _text(actor_name),
            _text(action),
            _text(subject_type),
            _text(subject_id),
            _integer(site_id),
            _text(payload),
        ]
    )


def tree_head_message(tree_size: int, root_hash: bytes, issued_at: datetime) -> bytes:
    """The bytes a tree head's Ed25519 signature covers."""
    return b"".join([_text(TREE_HEAD_FORMAT), _integer(tree_size), _raw(root_hash), _text(utc_iso(issued_at))])
