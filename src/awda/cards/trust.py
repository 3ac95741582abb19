"""The trust list offline verifiers load: the issuer's public keys by kid (docs/cards.md, "Trust list")."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from awda.cards.claims import iso_utc
from awda.cards.cose import ALGORITHM_NAMES, CardFormatError, VerifyingKey, alg_for, kid_for

TRUST_LIST_FORMAT = "awda-trust-list/1"


class TrustListError(CardFormatError):
    """A trust list that cannot be read or does not follow its format."""


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """An issuer public key; a retired key no longer signs but verifies the cards it signed before."""

    kid: bytes
    alg: str
    public_key: VerifyingKey
    created_at: datetime
    retired_at: datetime | None = None

    @classmethod
    def for_public_key(
        cls, public_key: VerifyingKey, created_at: datetime, retired_at: datetime | None = None
    ) -> TrustedKey:
        """The entry for `public_key`, with its kid and algorithm name derived from the key."""
        return cls(kid_for(public_key), ALGORITHM_NAMES[alg_for(public_key)], public_key, created_at, retired_at)

    def to_json(self) -> dict[str, Any]:
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return {
            "kid": self.kid.hex(),
            "alg": self.alg,
            "public_key": base64.b64encode(der).decode("ascii"),
            "created_at": iso_utc(self.created_at),
            "retired_at": iso_utc(self.retired_at) if self.retired_at else None,
        }


@dataclass(frozen=True)
class TrustList:
    """The keys of one issuer, looked up by kid; public keys are parsed once, on load."""

    issuer: str
    generated_at: datetime
    keys: tuple[TrustedKey, ...]
    _by_kid: dict[bytes, TrustedKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "_by_kid", {key.kid: key for key in self.keys})

    def key_for(self, kid: Any) -> TrustedKey | None:
        """The key with this kid, or None (also for a kid that is not bytes, as a forged header may hold)."""
        return self._by_kid.get(kid) if isinstance(kid, bytes) else None

    def to_json(self) -> dict[str, Any]:
        """The `awda-trust-list/1` JSON document."""
        return {
            "format": TRUST_LIST_FORMAT,
            "issuer": self.issuer,
            "generated_at": iso_utc(self.generated_at),
            "keys": [key.to_json() for key in self.keys],
        }

    @classmethod
    def from_json(cls, document: Any) -> TrustList:
        """Parse and check an `awda-trust-list/1` document; raises TrustListError naming the field."""
        if not isinstance(document, Mapping):
            raise TrustListError("a trust list must be a JSON object")
        if document.get("format") != TRUST_LIST_FORMAT:
            raise TrustListError(f"format is {document.get('format')!r}, expected {TRUST_LIST_FORMAT!r}")
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise TrustListError("issuer must be a non-empty string")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise TrustListError("keys must be a list")
        keys = [_key_from_json(entry, position) for position, entry in enumerate(entries)]
        return cls(issuer, _parse_time(document.get("generated_at"), "generated_at"), tuple(keys))


def _parse_time(text: Any, name: str) -> datetime:
    if not isinstance(text, str):
        raise TrustListError(f"{name} must be an ISO-8601 time")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TrustListError(f"{name} ({text!r}) is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise TrustListError(f"{name} ({text!r}) has no time zone")
    return moment.astimezone(UTC)


def _public_key(text: Any, name: str) -> VerifyingKey:
    if not isinstance(text, str):
        raise TrustListError(f"{name}.public_key must be base64 DER text")
    try:
        key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise TrustListError(f"{name}.public_key is not a base64 DER SubjectPublicKeyInfo") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise TrustListError(f"{name}.public_key is a {type(key).__name__}, not an EC or Ed25519 key")
    return key


def _key_from_json(entry: Any, position: int) -> TrustedKey:
    name = f"keys[{position}]"
    if not isinstance(entry, Mapping):
        raise TrustListError(f"{name} must be an object")
    public_key = _public_key(entry.get("public_key"), name)
    try:
        derived = TrustedKey.for_public_key(public_key, _parse_time(entry.get("created_at"), f"{name}.created_at"))
    except CardFormatError as error:
        if isinstance(error, TrustListError):
            raise
        raise TrustListError(f"{name}: {error}") from None
    if entry.get("kid") != derived.kid.hex():
        raise TrustListError(f"{name}.kid {entry.get('kid')!r} is not the kid of its key ({derived.kid.hex()})")
    if entry.get("alg") != derived.alg:
        raise TrustListError(f"{name}.alg {entry.get('alg')!r} does not fit its key ({derived.alg})")
    retired = entry.get("retired_at")
    retired_at = None if retired is None else _parse_time(retired, f"{name}.retired_at")
    return TrustedKey(derived.kid, derived.alg, public_key, derived.created_at, retired_at)


def load_trust_list(path: Path | str) -> TrustList:
    """Read a trust list file; raises TrustListError (naming the file) when it cannot be used."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise TrustListError(f"{path}: cannot be read ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TrustListError(f"{path}: not a JSON file ({error})") from None
    try:
        return TrustList.from_json(document)
    except TrustListError as error:
        raise TrustListError(f"{path}: {error}") from None
