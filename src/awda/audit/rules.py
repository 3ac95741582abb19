"""Pure rules for events: canonical payloads that never carry personal fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Keys that would carry personal data; an event payload with one of these is a bug.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "given_name_ar",
        "given_name_lat",
        "father_name_ar",
        "father_name_lat",
        "grandfather_name_ar",
        "grandfather_name_lat",
        "family_name_ar",
        "family_name_lat",
        "mother_name_ar",
        "mother_name_lat",
        "birth_date",
        "document_number",
        "phone",
        "password",
        "token",
    }
)


def _walk_keys(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        keys = [str(key) for key in value]
        for item in value.values():
            keys.extend(_walk_keys(item))
        return keys
    if isinstance(value, list | tuple):
        return [key for item in value for key in _walk_keys(item)]
    return []


def canonical_payload(payload: Mapping[str, Any]) -> str:
    """Sorted, compact JSON; refuses personal keys so they can never reach the log."""
    leaked = sorted(PERSONAL_KEYS.intersection(_walk_keys(payload)))
    if leaked:
        raise ValueError(f"event payload carries personal fields: {', '.join(leaked)}")
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
