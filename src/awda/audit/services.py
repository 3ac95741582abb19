"""Writing events (every action calls `record_event` exactly once, inside its own transaction), and
the transparency log over them: signed tree heads, verification and proofs (docs/audit.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, Permission
from awda.audit import log, logkeys
from awda.audit.encoding import utc_iso
from awda.audit.models import Event, LogKey, TreeHead
from awda.audit.rules import canonical_payload
from awda.audit.verification import walk_log
from awda.db import action, utcnow
from awda.errors import ValidationFailed
from awda.vault import Vault


def event_row(
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: Mapping[str, Any],
    site_id: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one event (for bulk inserts)."""
    return {
        "at": at or utcnow(),
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "site_id": site_id,
        "payload": canonical_payload(payload),
    }


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: Mapping[str, Any],
    site_id: int | None = None,
) -> None:
    """Add one event to the current transaction."""
    session.execute(insert(Event), [event_row(actor, action, subject_type, subject_id, payload, site_id)])


def record_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add many events (rows from `event_row`) to the current transaction."""
    if rows:
        session.execute(insert(Event), list(rows))


def count_events(session: Session, action: str | None = None) -> int:
    query = select(func.count()).select_from(Event)
    if action is not None:
        query = query.where(Event.action == action)
    return int(session.scalar(query) or 0)


def _require(actor: Actor, permission: Permission) -> None:
    # Imported here: access.services imports this module for record_event.
    from awda.access.services import require

    require(actor, permission)


def issue_tree_head(session: Session, vault: Vault, actor: Actor) -> dict[str, Any]:
    """Sign the Merkle root of every event stored now (creating the log key on first use).

    Writes its own `issue_tree_head` event, which is the next leaf: the head it issues does not
    cover it; the next head will.
    """
    _require(actor, Permission.ISSUE_TREE_HEADS)
    with action(session):
        log.lock_log(session)
        key = logkeys.active_log_key(session)
        created = key is None
        if key is None:
            key = logkeys.create_log_key(session, vault)
        private_key = logkeys.private_key_of(vault, key)
        tree = log.extend_leaf_cache(session)
        head = TreeHead(
            tree_size=tree.size, root_hash=tree.root(), issued_at=utcnow(), kid=key.kid, alg=key.alg, signature=b""
        )
        head.signature = logkeys.sign_tree_head(private_key, head)
        session.add(head)
        session.flush()
        payload = {"tree_size": head.tree_size, "root": head.root_hash.hex(), "kid": key.kid.hex(), "new_key": created}
        record_event(session, actor, "issue_tree_head", "tree_head", str(head.id), payload)
    return head_view(head, key.public_key)


def head_view(head: TreeHead, public_key: bytes | None) -> dict[str, Any]:
    """A tree head as published: everything a third party needs to check its signature."""
    return {
        "id": head.id,
        "tree_size": head.tree_size,
        "root": head.root_hash.hex(),
        "issued_at": utc_iso(head.issued_at),
        "kid": head.kid.hex(),
        "alg": head.alg,
        "signature": head.signature.hex(),
        "public_key": public_key.hex() if public_key is not None else None,
    }


def verify_log(session: Session, actor: Actor, vault_or_public_keys: Vault | Iterable[bytes]) -> dict[str, Any]:
    """Recompute the tree from the stored events in one streaming pass and check every tree head.

    Heads are trusted only under keys whose sealed private half opens with `vault`, or under the
    given raw Ed25519 public keys. Returns {"ok", "size", "root", "problems"}; when something was
    changed, deleted or moved, the first problem names the first bad index (docs/audit.md).
    """
    _require(actor, Permission.READ_AUDIT)
    with log.read_snapshot(session):
        if isinstance(vault_or_public_keys, Vault):
            trusted, key_messages = logkeys.trusted_public_keys(session, vault_or_public_keys)
        else:
            trusted, key_messages = {logkeys.kid_for(key): key for key in vault_or_public_keys}, []
        signed, problems = _signed_heads(log.tree_heads(session), trusted)
        walk = walk_log(log.event_leaves(session), log.cached_leaves(session), signed)
    problems = [*walk.problems(), *problems, *({"kind": "log_key", "message": text} for text in key_messages)]
    root = walk.recomputed.root().hex()
    return {"ok": not problems, "size": walk.recomputed.size, "root": root, "problems": problems}


def _signed_heads(heads: list[TreeHead], trusted: Mapping[bytes, bytes]) -> tuple[list[TreeHead], list[dict[str, Any]]]:
    """The heads with a valid signature by a trusted key, and a problem for each other head."""
    signed, problems = [], []
    for head in heads:
        public_key = trusted.get(head.kid)
        if public_key is not None and logkeys.signature_valid(public_key, head):
            signed.append(head)
            continue
        reason = "an untrusted or unknown key" if public_key is None else "an invalid signature"
        problems.append(
            {
                "kind": "bad_signature",
                "head_id": head.id,
                "tree_size": head.tree_size,
                "message": f"tree head {head.id} (size {head.tree_size}) has {reason}",
            }
        )
    return signed, problems


def _public_key(session: Session, head: TreeHead | None) -> dict[str, Any] | None:
    if head is None:
        return None
    return head_view(head, session.scalar(select(LogKey.public_key).where(LogKey.kid == head.kid)))


def prove_inclusion(session: Session, actor: Actor, index: int, size: int | None = None) -> dict[str, Any]:
    """The inclusion proof of leaf `index` in the tree of `size` events (default: the latest head's
    size), with the signed head at that size if there is one."""
    _require(actor, Permission.READ_AUDIT)
    with log.read_snapshot(session):
        if size is None:
            size = _default_size(session, index)
        evidence = log.inclusion_evidence(session, index, size)
        evidence["tree_head"] = _public_key(session, log.head_at(session, size))
    return evidence


def _default_size(session: Session, index: int) -> int:
    latest = log.latest_head(session)
    if latest is None:
        return log.event_count(session)
    if index >= latest.tree_size:
        raise ValidationFailed(
            "index",
            f"leaf {index} is not covered by the latest tree head (size {latest.tree_size}); "
            "issue one with `awda audit head` or give --size",
        )
    return latest.tree_size


def prove_consistency(session: Session, actor: Actor, size1: int, size2: int) -> dict[str, Any]:
    """The consistency proof from the tree of `size1` events to the tree of `size2`, with the
    signed heads at those sizes if there are any."""
    _require(actor, Permission.READ_AUDIT)
    with log.read_snapshot(session):
        evidence = log.consistency_evidence(session, size1, size2)
        evidence["tree_head1"] = _public_key(session, log.head_at(session, size1))
        evidence["tree_head2"] = _public_key(session, log.head_at(session, size2))
    return evidence
