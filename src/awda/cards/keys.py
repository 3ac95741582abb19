"""The issuer's signing keys: create, rotate, load for signing, and the public trust list.

Private keys are stored only sealed by the vault (a data key of their own, wrapped by the master
key), so a copy of the database alone cannot forge cards.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.access.services import require
from awda.audit.services import record_event
from awda.cards.cose import kid_for
from awda.cards.models import Card, IssuerKey
from awda.cards.rules import check_algorithm
from awda.db import action, serialise, utcnow
from awda.errors import Conflict
from awda.vault import Vault

SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
TRUST_LIST_FORMAT = "awda-trust-list/1"


# The lock that card issuance and key rotation take turns on (`db.serialise`).
CARD_ISSUANCE = "card-issuance"


def _owner(kid: bytes) -> str:
    return f"issuer-key:{kid.hex()}"


def _generate(alg: str) -> SigningKey:
    return ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else ed25519.Ed25519PrivateKey.generate()


def _public_der(private_key: SigningKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def create_issuer_key(session: Session, vault: Vault, actor: Actor, issuer: str, alg: str = "ES256") -> IssuerKey:
    """Create a signing key and make it the active one; the previous key retires but keeps verifying."""
    require(actor, Permission.MANAGE_CARD_KEYS)
    check_algorithm(alg)
    private_key = _generate(alg)
    public_der = _public_der(private_key)
    kid = kid_for(private_key.public_key())
    wrapped, sealed = vault.seal_private_key(_owner(kid), private_key)
    now = utcnow()
    with action(session):
        serialise(session, CARD_ISSUANCE)  # two rotations at once must not leave two active keys
        previous = list(session.scalars(select(IssuerKey).where(IssuerKey.active)))
        for old in previous:
            old.active, old.retired_at = False, now
        retired = [old.kid.hex() for old in previous]
        key = IssuerKey(
            kid=kid,
            issuer=issuer,
            alg=alg,
            public_key=public_der,
            wrapped_key=wrapped,
            sealed_private_key=sealed,
            active=True,
            created_at=now,
        )
        session.add(key)
        record_event(session, actor, "create_issuer_key", "issuer_key", kid.hex(), {"alg": alg, "retired": retired})
    return key


def active_key(session: Session, lock: bool = False) -> IssuerKey:
    """The key that signs new cards; `lock` serialises issuance on PostgreSQL (status indexes)."""
    query = select(IssuerKey).where(IssuerKey.active)
    key = session.scalar(query.with_for_update() if lock else query)
    if key is None:
        raise Conflict("no active card signing key: create one with `awda cards keys create`")
    return key


def signing_key(vault: Vault, key: IssuerKey) -> SigningKey:
    """Open the sealed private half of `key`."""
    private_key = vault.open_private_key(_owner(key.kid), key.wrapped_key, key.sealed_private_key)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise Conflict("the stored signing key has an unsupported type")
    return private_key


def list_keys(session: Session) -> list[dict[str, Any]]:
    keys = session.scalars(select(IssuerKey).order_by(IssuerKey.created_at, IssuerKey.id))
    return [_key_view(key) | {"active": key.active} for key in keys]


def _key_view(key: IssuerKey) -> dict[str, Any]:
    return {
        "kid": key.kid.hex(),
        "alg": key.alg,
        "public_key": base64.b64encode(key.public_key).decode("ascii"),
        "created_at": _iso(key.created_at),
        "retired_at": _iso(key.retired_at) if key.retired_at else None,
    }


def _still_verifying(session: Session, now: datetime) -> list[IssuerKey]:
    """The active key, and retired keys while any card they signed is unexpired."""
    live_card = exists().where(Card.key_id == IssuerKey.id, Card.expires_at > now)
    query = select(IssuerKey).where(IssuerKey.active | live_card).order_by(IssuerKey.created_at, IssuerKey.id)
    return list(session.scalars(query))


def trust_list_document(session: Session) -> dict[str, Any]:
    """The public trust list that offline verifiers load (docs/cards.md)."""
    now = utcnow()
    keys = _still_verifying(session, now)
    issuer = next((key.issuer for key in keys if key.active), keys[-1].issuer if keys else "")
    return {
        "format": TRUST_LIST_FORMAT,
        "issuer": issuer,
        "generated_at": _iso(now),
        "keys": [_key_view(key) for key in keys],
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
