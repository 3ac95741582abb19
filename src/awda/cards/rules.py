"""Pure rules of cards: validity, holder data, revocation reasons, the status list's identity."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from awda.errors import ValidationFailed

# Why a card is revoked: codes only, so that no free text (which could name people) is stored.
REVOCATION_REASONS = frozenset({"lost", "stolen", "misuse", "issued_in_error", "replaced", "holder_request"})
ALGORITHMS = ("ES256", "EdDSA")
STATUS_LIST_NUMBER = 1  # one list per issuer for now; the number leaves room to shard later


def check_reason(reason: str) -> str:
    if reason not in REVOCATION_REASONS:
        raise ValidationFailed("reason", f"use one of {', '.join(sorted(REVOCATION_REASONS))}")
    return reason


def check_algorithm(alg: str) -> str:
    if alg not in ALGORITHMS:
        raise ValidationFailed("alg", f"use one of {', '.join(ALGORITHMS)}")
    return alg


def expiry(issued_at: datetime, validity_days: int) -> datetime:
    if validity_days < 1:
        raise ValidationFailed("card_validity_days", "a card must be valid for at least one day")
    return issued_at + timedelta(days=validity_days)


def status_list_uri(issuer: str) -> str:
    """A stable URI naming the issuer's status list (cards carry it; verifiers match it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", issuer.lower()).strip("-") or "issuer"
    return f"urn:awda:{slug}:status-list:{STATUS_LIST_NUMBER}"


def full_name(personal: Mapping[str, str], script: str) -> str | None:
    """Given, father's, grandfather's and family name in one script, as printed on a card."""
    parts = [personal.get(f"{part}_name_{script}", "") for part in ("given", "father", "grandfather", "family")]
    joined = " ".join(part for part in parts if part)
    return joined or None


def holder_fields(personal: Mapping[str, str], birth_year: int | None) -> dict[str, str | int | None]:
    """The holder data a card may carry (only with the household's 'card_name' consent)."""
    return {"name_ar": full_name(personal, "ar"), "name_lat": full_name(personal, "lat"), "birth_year": birth_year}
