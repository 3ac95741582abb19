"""Tables of agreements and their terms (public facts, no personal data)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime, utcnow


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"), nullable=True, index=True)
    guarantor: Mapped[str] = mapped_column(String(200))
    parties: Mapped[str] = mapped_column(String(400), default="")
    signed_on: Mapped[date] = mapped_column(Date)
    # days after arrival at which returned households are contacted, for example "7,30,90,180,365"
    followup_days: Mapped[str] = mapped_column(String(100), default="7,30,90,180,365")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AgreementTerm(Base):
    """One promise: what (`kind`), to whom (`applies_to`), for how long after arrival."""

    __tablename__ = "agreement_terms"
    __table_args__ = (UniqueConstraint("agreement_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    applies_to: Mapped[str] = mapped_column(String(32))
    duration_days: Mapped[int] = mapped_column(Integer)
