"""The log's Ed25519 signing keys: created on first use, private halves sealed by the vault.

The private key is sealed exactly like a card signing key (a data key of its own, wrapped by the
master key, bound to `log-key:<kid>`), so a copy of the database alone cannot sign a tree head.
The public half that verification trusts is the one derived from the sealed private key: a public
key swapped in the table does not open and is reported.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.audit.encoding import tree_head_message
from awda.audit.models import LogKey, TreeHead
from awda.db import utcnow
from awda.errors import Conflict
from awda.vault import Vault, VaultError

ALG = "Ed25519"


def kid_for(public_key: bytes) -> bytes:
    """A key id: the first 8 bytes of SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key).digest()[:8]


def _owner(kid: bytes) -> str:
    return f"log-key:{kid.hex()}"


def _raw_public(private_key: ed25519.Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def create_log_key(session: Session, vault: Vault) -> LogKey:
    """A new active signing key, added to the caller's transaction (the caller records the event)."""
    private_key = ed25519.Ed25519PrivateKey.generate()
    public_key = _raw_public(private_key)
    kid = kid_for(public_key)
    wrapped, sealed = vault.seal_private_key(_owner(kid), private_key)
    key = LogKey(
        kid=kid,
        alg=ALG,
        public_key=public_key,
        wrapped_key=wrapped,
        sealed_private_key=sealed,
        active=True,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return key


def active_log_key(session: Session) -> LogKey | None:
    return session.scalar(select(LogKey).where(LogKey.active).order_by(LogKey.id.desc()).limit(1))


def private_key_of(vault: Vault, key: LogKey) -> ed25519.Ed25519PrivateKey:
    """Open the sealed private half of `key`; Conflict if it does not belong to the stored public half."""
    private_key = vault.open_private_key(_owner(key.kid), key.wrapped_key, key.sealed_private_key)
    if not isinstance(private_key, ed25519.Ed25519PrivateKey) or _raw_public(private_key) != key.public_key:
        raise Conflict(f"log key {key.kid.hex()} does not match its sealed private key")
    return private_key


def sign_tree_head(private_key: ed25519.Ed25519PrivateKey, head: TreeHead) -> bytes:
    return private_key.sign(tree_head_message(head.tree_size, head.root_hash, head.issued_at))


def trusted_public_keys(session: Session, vault: Vault) -> tuple[dict[bytes, bytes], list[str]]:
    """kid -> raw public key for every stored key whose sealed private half opens and matches;
    and one message per key that does not (a replaced or damaged key)."""
    trusted: dict[bytes, bytes] = {}
    problems: list[str] = []
    for key in session.scalars(select(LogKey).order_by(LogKey.id)):
        try:
            private_key_of(vault, key)
        except (VaultError, Conflict, ValueError):
            problems.append(f"log key {key.kid.hex()} does not open with the master key: it was replaced or damaged")
            continue
        if kid_for(key.public_key) == key.kid:
            trusted[key.kid] = key.public_key
        else:
            problems.append(f"log key {key.kid.hex()} has a key id that does not match its public key")
    return trusted, problems


def signature_valid(public_key: bytes, head: TreeHead) -> bool:
    """Whether `head` carries a valid Ed25519 signature by `public_key` (raw 32 bytes)."""
    try:
        verifier = ed25519.Ed25519PublicKey.from_public_bytes(public_key)
        verifier.verify(head.signature, tree_head_message(head.tree_size, head.root_hash, head.issued_at))
    except (InvalidSignature, ValueError):
        return False
    return True
