"""Revocation: a signed Token Status List (IETF OAuth status list draft, CWT form), one bit per card.

Bit `i` is bit `i % 8` (least significant first) of byte `i // 8`; 1 means revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import cbor2

from awda.cards.claims import epoch_seconds, time_claim, typed_claim
from awda.cards.cose import (
    CBOR_MAP,
    HEADER_KID,
    HEADER_TYP,
    CardFormatError,
    SigningKey,
    decode_sign1,
    kid_for,
    loads_exactly,
    sign1,
    signature_problem,
)
from awda.cards.qrtext import deflate, inflate
from awda.cards.trust import TrustList

STATUS_LIST_TYP = "application/statuslist+cwt"
CLAIM_SUB = 2
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_TTL = 65534
CLAIM_STATUS_LIST = 65533
BITS_PER_STATUS = 1
MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024  # 134 million cards; refuse zlib bombs beyond that


class StatusListError(CardFormatError):
    """A status list that cannot be trusted: malformed, signed by an unknown key, or tampered with."""


class StatusBits:
    """A growable bit array, one bit per card index (set = revoked)."""

    __slots__ = ("_bytes", "_size")

    def __init__(self, size: int = 0) -> None:
        self._bytes = bytearray((size + 7) // 8)
        self._size = size

    @classmethod
    def from_bytes(cls, data: bytes) -> StatusBits:
        """The bits of a decompressed list: it covers every bit of its bytes."""
        bits = cls()
        bits._bytes = bytearray(data)
        bits._size = 8 * len(data)
        return bits

    @property
    def size(self) -> int:
        return self._size

    def covers(self, index: int) -> bool:
        return 0 <= index < self._size

    def set(self, index: int, revoked: bool) -> None:
        """Set or clear bit `index`, growing the array to cover it."""
        if index < 0:
            raise IndexError(f"status index {index} is negative")
        if index >= self._size:
            self._bytes.extend(bytes((index + 8) // 8 - len(self._bytes)))
            self._size = index + 1
        if revoked:
            self._bytes[index // 8] |= 1 << (index % 8)
        else:
            self._bytes[index // 8] &= ~(1 << (index % 8)) & 0xFF

    def is_set(self, index: int) -> bool:
        """Whether bit `index` is set; an index the list does not cover is an IndexError, not "valid"."""
        if not self.covers(index):
            raise IndexError(f"status index {index} is outside the list (size {self._size})")
        return bool(self._bytes[index // 8] >> (index % 8) & 1)

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)


@dataclass(frozen=True, slots=True)
class StatusListView:
    """A status list whose signature was checked against a trust list."""

    uri: str
    issued_at: datetime
    expires_at: datetime
    ttl_seconds: int
    bits: StatusBits
    kid: bytes
    verified: bool = True

    def age_seconds(self, at: datetime) -> int:
        return int((at - self.issued_at).total_seconds())

    def is_stale(self, at: datetime) -> bool:
        """Past its `exp`, or older than its `ttl`: its "valid" answers can no longer be relied on."""
        return at > self.expires_at or self.age_seconds(at) > self.ttl_seconds


def sign_status_list(
    bits: StatusBits,
    uri: str,
    issued_at: datetime,
    expires_at: datetime,
    ttl_seconds: int,
    private_key: SigningKey,
) -> bytes:
    """The status list as COSE_Sign1 bytes (docs/cards.md, "Status list")."""
    claims = {
        CLAIM_SUB: uri,
        CLAIM_IAT: epoch_seconds(issued_at),
        CLAIM_EXP: epoch_seconds(expires_at),
        CLAIM_TTL: ttl_seconds,
        CLAIM_STATUS_LIST: {"bits": BITS_PER_STATUS, "lst": deflate(bits.to_bytes())},
    }
    payload = cbor2.dumps(claims, canonical=True)
    return sign1(payload, private_key, kid_for(private_key.public_key()), {HEADER_TYP: STATUS_LIST_TYP})


def read_status_list(data: bytes, trust: TrustList) -> StatusListView:
    """Decode and verify a status list with the key its kid names in `trust`; raises StatusListError."""
    try:
        message = decode_sign1(data)
    except CardFormatError as error:
        raise StatusListError(f"the status list is not a COSE_Sign1 message: {error}") from None
    if message.protected.get(HEADER_TYP) != STATUS_LIST_TYP:
        raise StatusListError(f"the protected header's typ (16) is not {STATUS_LIST_TYP!r}")
    kid = message.protected.get(HEADER_KID)
    key = trust.key_for(kid)
    if key is None:
        shown = kid.hex() if isinstance(kid, bytes) else repr(kid)
        raise StatusListError(f"the status list is signed by key {shown}, which is not in the trust list")
    problem = signature_problem(message, key.public_key)
    if problem is not None:
        raise StatusListError(f"the status list's signature does not verify: {problem}")
    view = _view_of(message.payload, key.kid)
    if key.retired_at is not None and view.issued_at > key.retired_at:
        raise StatusListError(f"the status list is signed by key {key.kid.hex()} after it was retired")
    return view


def _view_of(payload: bytes, kid: bytes) -> StatusListView:
    try:
        claims = loads_exactly(payload, what="the status list claims")
        if not isinstance(claims, CBOR_MAP):
            raise StatusListError("the status list claims must be a CBOR map")
        status_list = typed_claim(claims, CLAIM_STATUS_LIST, CBOR_MAP, "status_list (65533)")
        if typed_claim(status_list, "bits", int, "status_list.bits") != BITS_PER_STATUS:
            raise StatusListError(f"only {BITS_PER_STATUS}-bit status lists are supported")
        compressed = typed_claim(status_list, "lst", bytes, "status_list.lst")
        ttl = typed_claim(claims, CLAIM_TTL, int, "ttl (65534)")
        if ttl < 0:
            raise StatusListError("the status list's ttl (65534) is negative")
        return StatusListView(
            uri=typed_claim(claims, CLAIM_SUB, str, "sub (2)"),
            issued_at=time_claim(claims, CLAIM_IAT, "iat (6)"),
            expires_at=time_claim(claims, CLAIM_EXP, "exp (4)"),
            ttl_seconds=ttl,
            bits=StatusBits.from_bytes(inflate(compressed, MAX_STATUS_LIST_BYTES)),
            kid=kid,
        )
    except StatusListError:
        raise
    except CardFormatError as error:
        raise StatusListError(f"the status list is malformed: {error}") from None
