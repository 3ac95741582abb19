"""The claims an `AW1:` card carries (docs/cards.md, "Claim map"), to and from CBOR."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2

from awda.cards.cose import CBOR_MAP, CardFormatError, SigningKey, kid_for, loads_exactly, sign1
from awda.cards.qrtext import encode_qr_text

CARD_PREFIX = "AW1:"
CLAIMS_VERSION = 1

CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_NBF = 5
CLAIM_IAT = 6
CLAIM_CTI = 7
CLAIM_STATUS = 65535
CLAIM_AWDA = -65537


CborMap = dict[Any, Any] | cbor2.frozendict[Any, Any]
Kind = type | tuple[type, ...]
_KIND_NAMES: dict[Kind, str] = {
    CBOR_MAP: "a map",
    str: "text",
    int: "an integer",
    bytes: "a byte string",
}
_ABSENT = object()


class ClaimsError(CardFormatError):
    """A claims map that lacks a claim or holds one of the wrong type."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Holder data, on the card only if the holder consented; each part optional."""

    name_ar: str | None = None
    name_lat: str | None = None
    birth_year: int | None = None


@dataclass(frozen=True, slots=True)
class CardClaims:
    issuer: str
    card_id: uuid.UUID
    agreement_code: str
    issued_at: datetime
    expires_at: datetime
    status_index: int
    status_uri: str
    holder: Holder | None = None


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime (naive ones are refused: no guessing)."""
    if moment.tzinfo is None:
        raise ClaimsError(f"{moment.isoformat()} has no time zone")
    return int(moment.timestamp())


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z, as in the trust list: 2026-11-22T10:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode_claims(claims: CardClaims) -> bytes:
    """The CBOR claims map of docs/cards.md (nbf equal to iat)."""
    awda: dict[str, Any] = {"v": CLAIMS_VERSION, "agr": claims.agreement_code}
    if claims.holder is not None:
        holder = {"ar": claims.holder.name_ar, "lat": claims.holder.name_lat, "by": claims.holder.birth_year}
        awda["h"] = {key: value for key, value in holder.items() if value is not None}
    issued_at = epoch_seconds(claims.issued_at)
    claim_map: dict[int, Any] = {
        CLAIM_ISS: claims.issuer,
        CLAIM_EXP: epoch_seconds(claims.expires_at),
        CLAIM_NBF: issued_at,
        CLAIM_IAT: issued_at,
        CLAIM_CTI: claims.card_id.bytes,
        CLAIM_STATUS: {"status_list": {"idx": claims.status_index, "uri": claims.status_uri}},
        CLAIM_AWDA: awda,
    }
    return cbor2.dumps(claim_map, canonical=True)


def encode_card(claims: CardClaims, private_key: SigningKey) -> str:
    """The QR text of a card: "AW1:" + Base45(zlib(COSE_Sign1(claims))), signed with `private_key`."""
    message = sign1(encode_claims(claims), private_key, kid_for(private_key.public_key()))
    return encode_qr_text(CARD_PREFIX, message)


def typed_claim(
    container: CborMap, key: Any, kind: type | tuple[type, ...], name: str, *, required: bool = True
) -> Any:
    """`container[key]` if it has type `kind` (a bool is not an integer here); a ClaimsError otherwise."""
    value = container.get(key, _ABSENT)
    if value is _ABSENT:
        if required:
            raise ClaimsError(f"claim {name} is missing")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ClaimsError(
            f"claim {name} must be {_KIND_NAMES.get(kind, 'of another type')}, not {type(value).__name__}"
        )
    return value


def time_claim(claim_map: CborMap, key: int, name: str) -> datetime:
    seconds = typed_claim(claim_map, key, int, name)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        raise ClaimsError(f"claim {name} ({seconds}) is not a representable time") from None


def _holder(awda: CborMap) -> Holder | None:
    holder = typed_claim(awda, "h", CBOR_MAP, "h", required=False)
    if holder is None:
        return None
    return Holder(
        name_ar=typed_claim(holder, "ar", str, "h.ar", required=False),
        name_lat=typed_claim(holder, "lat", str, "h.lat", required=False),
        birth_year=typed_claim(holder, "by", int, "h.by", required=False),
    )


def decode_claims(payload: bytes) -> CardClaims:
    """The card claims in a COSE payload; raises ClaimsError naming a missing or mistyped claim."""
    return checked_claims(loads_exactly(payload, what="the claims payload"))


def checked_claims(claim_map: Any) -> CardClaims:
    """The card claims in a decoded claims map, each checked; raises ClaimsError naming the first problem."""
    if not isinstance(claim_map, CBOR_MAP):
        raise ClaimsError("the claims must be a CBOR map")
    issued_at = time_claim(claim_map, CLAIM_IAT, "iat (6)")
    if CLAIM_NBF in claim_map and typed_claim(claim_map, CLAIM_NBF, int, "nbf (5)") != claim_map[CLAIM_IAT]:
        raise ClaimsError("claim nbf (5) must equal iat (6)")
    status = typed_claim(claim_map, CLAIM_STATUS, CBOR_MAP, "status (65535)")
    status_list = typed_claim(status, "status_list", CBOR_MAP, "status.status_list")
    index = typed_claim(status_list, "idx", int, "status.status_list.idx")
    if index < 0:
        raise ClaimsError("claim status.status_list.idx must not be negative")
    card_id = typed_claim(claim_map, CLAIM_CTI, bytes, "cti (7)")
    if len(card_id) != 16:
        raise ClaimsError(f"claim cti (7) must be 16 bytes, not {len(card_id)}")
    awda = typed_claim(claim_map, CLAIM_AWDA, CBOR_MAP, "awda claims (-65537)")
    version = typed_claim(awda, "v", int, "v")
    if version != CLAIMS_VERSION:
        raise ClaimsError(f"awda claims version {version} is not supported (only {CLAIMS_VERSION})")
    return CardClaims(
        issuer=typed_claim(claim_map, CLAIM_ISS, str, "iss (1)"),
        card_id=uuid.UUID(bytes=card_id),
        agreement_code=typed_claim(awda, "agr", str, "agr"),
        issued_at=issued_at,
        expires_at=time_claim(claim_map, CLAIM_EXP, "exp (4)"),
        status_index=index,
        status_uri=typed_claim(status_list, "uri", str, "status.status_list.uri"),
        holder=_holder(awda),
    )


def claims_as_json(claims: CardClaims) -> dict[str, Any]:
    """The claims as JSON values: ISO-8601 UTC times, the card id as text, holder only if present."""
    rendered: dict[str, Any] = {
        "issuer": claims.issuer,
        "card_id": str(claims.card_id),
        "agreement_code": claims.agreement_code,
        "issued_at": iso_utc(claims.issued_at),
        "expires_at": iso_utc(claims.expires_at),
        "status_index": claims.status_index,
        "status_uri": claims.status_uri,
    }
    if claims.holder is not None:
        holder = claims.holder
        rendered["holder"] = {"name_ar": holder.name_ar, "name_lat": holder.name_lat, "birth_year": holder.birth_year}
    return rendered
