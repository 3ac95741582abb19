"""Tables of issuer signing keys and issued cards.

A card row holds no personal data in clear: the QR text (which may carry the holder's name, with
consent) is sealed under the household's data key, so erasing the household shreds it too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime, utcnow


class IssuerKey(Base):
    """One signing key of the issuing organisation; the private half is sealed by the vault."""

    __tablename__ = "issuer_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kid: Mapped[bytes] = mapped_column(LargeBinary(8), unique=True)
    issuer: Mapped[str] = mapped_column(String(200))
    alg: Mapped[str] = mapped_column(String(8))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(64))
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Card(Base):
    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("issuer_keys.id"), index=True)
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    holder_data: Mapped[bool] = mapped_column(Boolean, default=False)
    sealed_text: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
