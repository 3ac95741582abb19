"""Verify a card's text offline: every step of the pipeline reported, never an exception.

Steps: unprefix, b45decode, decompress, cose_decode (COSE_Sign1 and its claims), verify (the
signature, with the key the trust list holds for the kid), expiry, status (the status list).
A step that could not run because an earlier one failed is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from awda.cards.claims import CARD_PREFIX, CardClaims, claims_as_json, decode_claims, iso_utc
from awda.cards.cose import EDDSA, ES256, HEADER_ALG, HEADER_KID, CardFormatError, Sign1, decode_sign1
from awda.cards.cose import signature_problem as cose_signature_problem
from awda.cards.qrtext import MAX_QR_TEXT_CHARS, b45decode, inflate, unprefix
from awda.cards.statuslist import StatusListView, read_status_list
from awda.cards.trust import TrustList

CHECKS = ("unprefix", "b45decode", "decompress", "cose_decode", "verify", "expiry", "status")
STATUS_VALID = "valid"
STATUS_REVOKED = "revoked"
STATUS_UNKNOWN = "unknown"

CheckValue = bool | str | None
_ALL_UNRUN: dict[str, CheckValue] = dict.fromkeys(CHECKS)


@dataclass(frozen=True, slots=True)
class StatusListReport:
    """The status list a verification used, and how old it was at the verification time."""

    view: StatusListView
    age_seconds: int
    stale: bool

    def as_dict(self) -> dict[str, Any]:
        issued_at = iso_utc(self.view.issued_at)
        return {"uri": self.view.uri, "issued_at": issued_at, "age_seconds": self.age_seconds, "stale": self.stale}


@dataclass(slots=True)
class Verification:
    """What verification found; `as_dict()` is the JSON the CLI and the API return."""

    checks: dict[str, CheckValue]
    errors: list[str] = field(default_factory=list)
    kid: bytes | None = None
    claims: CardClaims | Mapping[str, Any] | None = None  # shown only once the signature verified
    status_list: StatusListReport | None = None

    @classmethod
    def start(cls, extra_checks: tuple[str, ...] = ()) -> Verification:
        return cls(
            checks=dict.fromkeys(CHECKS[:-1] + extra_checks + CHECKS[-1:]) if extra_checks else _ALL_UNRUN.copy()
        )

    def passed(self, check: str) -> None:
        self.checks[check] = True

    def failed(self, check: str, reason: str) -> None:
        self.checks[check] = False
        self.errors.append(reason)

    @property
    def valid(self) -> bool:
        """Every yes/no check passed and the card is not revoked (an unknown status does not fail it)."""
        for name, value in self.checks.items():
            if name == "status":
                if value == STATUS_REVOKED:
                    return False
            elif value is not True:
                return False
        return True

    def as_dict(self) -> dict[str, Any]:
        claims = self.claims
        return {
            "valid": self.valid,
            "checks": dict(self.checks),
            "kid": self.kid.hex() if self.kid is not None else None,
            "claims": claims_as_json(claims) if isinstance(claims, CardClaims) else claims,
            "errors": list(self.errors),
            "status_list": self.status_list.as_dict() if self.status_list is not None else None,
        }


def decode_qr_text(text: str, prefix: str, result: Verification) -> bytes | None:
    """Run unprefix, b45decode and decompress, recording each; the COSE bytes, or None on failure."""
    if not isinstance(text, str):
        result.failed("unprefix", f"unprefix: the card text must be a string, not {type(text).__name__}")
        return None
    if len(text) > 2 * MAX_QR_TEXT_CHARS or len(text := text.strip()) > MAX_QR_TEXT_CHARS:
        result.failed("unprefix", f"unprefix: the text is longer than a QR code holds ({MAX_QR_TEXT_CHARS} characters)")
        return None
    # Stripping is safe: a Base45 text never ends in a space (its last digit is at most 32).
    try:
        body = unprefix(text, prefix)
    except CardFormatError as error:
        result.failed("unprefix", f"unprefix: {error}")
        return None
    result.passed("unprefix")
    try:
        compressed = b45decode(body)
    except CardFormatError as error:
        result.failed("b45decode", f"b45decode: {error}")
        return None
    result.passed("b45decode")
    try:
        message = inflate(compressed)
    except CardFormatError as error:
        result.failed("decompress", f"decompress: {error}")
        return None
    result.passed("decompress")
    return message


def _decode_card(message_bytes: bytes, result: Verification) -> tuple[Sign1, CardClaims] | None:
    try:
        message = decode_sign1(message_bytes)
        kid, alg = message.protected.get(HEADER_KID), message.protected.get(HEADER_ALG)
        if not isinstance(kid, bytes):
            raise CardFormatError("the protected header has no kid (4) byte string")
        result.kid = kid
        if isinstance(alg, bool) or alg not in (ES256, EDDSA):
            raise CardFormatError(f"the protected header's alg (1) is {alg!r}, not ES256 (-7) or EdDSA (-8)")
        claims = decode_claims(message.payload)
    except CardFormatError as error:
        result.failed("cose_decode", f"cose_decode: {error}")
        return None
    result.passed("cose_decode")
    return message, claims


def _check_signature(message: Sign1, claims: CardClaims, trust: TrustList, result: Verification) -> bool:
    key = trust.key_for(result.kid)
    if key is None:
        result.failed("verify", f"verify: key {_hex(result.kid)} is not in the trust list of {trust.issuer}")
        return False
    problem = cose_signature_problem(message, key.public_key)
    if problem is not None:
        result.failed("verify", f"verify: {problem}")
        return False
    if key.retired_at is not None and claims.issued_at > key.retired_at:
        result.failed("verify", f"verify: key {_hex(key.kid)} signed this card after it was retired")
        return False
    result.passed("verify")
    return True


def _hex(kid: bytes | None) -> str:
    return kid.hex() if kid is not None else "(none)"


def _check_expiry(claims: CardClaims, at: datetime, result: Verification) -> None:
    if at < claims.issued_at:
        result.failed("expiry", f"expiry: not valid before {iso_utc(claims.issued_at)}")
    elif at > claims.expires_at:
        result.failed("expiry", f"expiry: expired at {iso_utc(claims.expires_at)}")
    else:
        result.passed("expiry")


def _status_view(status_list: bytes | StatusListView | None, trust: TrustList) -> StatusListView | str:
    """The verified list, or why there is none."""
    if status_list is None:
        return "no status list was given"
    if isinstance(status_list, StatusListView):
        return status_list
    try:
        return read_status_list(status_list, trust)
    except CardFormatError as error:
        return str(error)


def _check_status(
    claims: CardClaims, trust: TrustList, status_list: bytes | StatusListView | None, at: datetime, result: Verification
) -> None:
    view = _status_view(status_list, trust)
    if isinstance(view, str):
        result.checks["status"] = STATUS_UNKNOWN
        result.errors.append(f"status unknown: {view}")
        return
    age, stale = view.age_seconds(at), view.is_stale(at)
    result.status_list = StatusListReport(view, age, stale)
    if view.uri != claims.status_uri or not view.bits.covers(claims.status_index):
        result.checks["status"] = STATUS_UNKNOWN
        result.errors.append(f"status unknown: the status list {view.uri} does not cover this card")
    elif view.bits.is_set(claims.status_index):
        result.checks["status"] = STATUS_REVOKED
        result.errors.append("status: the card is revoked")
    elif stale:
        result.checks["status"] = STATUS_UNKNOWN
        limits = f"ttl {view.ttl_seconds} s, exp {iso_utc(view.expires_at)}"
        result.errors.append(f"status unknown: the status list is stale (age {age} s; {limits})")
    else:
        result.checks["status"] = STATUS_VALID


def verify_card(text: str, trust: TrustList, status_list: bytes | StatusListView | None, at: datetime) -> Verification:
    """Verify an `AW1:` card at time `at` (naive means UTC); `status_list` as bytes or pre-read once."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    result = Verification.start()
    message_bytes = decode_qr_text(text, CARD_PREFIX, result)
    if message_bytes is None:
        return result
    decoded = _decode_card(message_bytes, result)
    if decoded is None:
        return result
    message, claims = decoded
    verified = _check_signature(message, claims, trust, result)
    _check_expiry(claims, at, result)
    if verified:
        result.claims = claims
        _check_status(claims, trust, status_list, at, result)
    return result
