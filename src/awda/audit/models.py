"""The event table (who did what to which subject, when; payloads never hold personal fields) and
the transparency log over it: signed tree heads, the log's signing keys and the leaf cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    payload: Mapped[str] = mapped_column(Text)


class LogKey(Base):
    """An Ed25519 key that signs tree heads; the private half is sealed by the vault."""

    __tablename__ = "log_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kid: Mapped[bytes] = mapped_column(LargeBinary(8), unique=True)
    alg: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(64))
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TreeHead(Base):
    """A signed statement: the first `tree_size` events have the Merkle root `root_hash`."""

    __tablename__ = "tree_heads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kid: Mapped[bytes] = mapped_column(LargeBinary(8))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    alg: Mapped[str] = mapped_column(String(16))


class TreeLeaf(Base):
    """The leaf hash of each event a tree head has committed, kept to name the first bad index.

    Derived data: trusted only as far as it reproduces a signed root (docs/audit.md). No foreign
    key to events, so it never stands in the way of the evidence (a deleted event).
    """

    __tablename__ = "tree_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
