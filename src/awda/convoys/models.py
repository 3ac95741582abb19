"""Tables of scheduled convoys, their destinations, bookings on them, and what happened to each person.

A convoy leaves from a site (which gives it its scope: only users of that site see its manifest);
a booking puts one household's intention on it; a movement is one person's departure, arrival or
disappearance on it, recorded once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime, utcnow


class Convoy(Base):
    __tablename__ = "convoys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    departs_on: Mapped[date] = mapped_column(Date, index=True)
    seats: Mapped[int] = mapped_column(Integer)
    guarantor: Mapped[str] = mapped_column(String(200), default="")
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    departed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    alarm_raised_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it once)


class ConvoyDestination(Base):
    __tablename__ = "convoy_destinations"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  (the key is the row: no rowid table)

    convoy_id: Mapped[int] = mapped_column(ForeignKey("convoys.id"), primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), primary_key=True, index=True)


class Booking(Base):
    """A household's intention on a convoy: booked, then boarded, or released back to the waiting list."""

    __tablename__ = "convoy_bookings"
    __table_args__ = (
        # An intention holds at most one live booking (booked or boarded) at a time.
        Index(
            "uq_convoy_bookings_live_intention",
            "intention_id",
            unique=True,
            sqlite_where=text("status IN ('booked', 'boarded')"),
            postgresql_where=text("status IN ('booked', 'boarded')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    convoy_id: Mapped[int] = mapped_column(ForeignKey("convoys.id"), index=True)
    intention_id: Mapped[int] = mapped_column(ForeignKey("intentions.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    people: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="booked")
    booked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    release_reason: Mapped[str] = mapped_column(String(32), default="")


class Movement(Base):
    """One person's departure, arrival or reported disappearance on a convoy; never updated."""

    __tablename__ = "movements"
    __table_args__ = (UniqueConstraint("person_id", "convoy_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    convoy_id: Mapped[int] = mapped_column(ForeignKey("convoys.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
