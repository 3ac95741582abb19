"""Tables of post-return monitoring: arrivals, follow-ups, incidents and whom they affect."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime, utcnow


class Arrival(Base):
    """A person arrived at a destination, under an agreement (or none): the start of follow-up."""

    __tablename__ = "arrivals"
    __table_args__ = (UniqueConstraint("person_id", "arrived_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True, index=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    intention: Mapped[str] = mapped_column(String(16))  # return, relocate, evacuate
    arrived_on: Mapped[date] = mapped_column(Date)
    convoy_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class FollowUp(Base):
    """One scheduled contact with a returned household and, once made, its outcome."""

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("household_id", "arrived_on", "days_after_arrival"),
        Index("ix_followups_open_due", "outcome", "due_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True)
    arrived_on: Mapped[date] = mapped_column(Date)
    days_after_arrival: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    monitor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    contacted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it once)


class Incident(Base):
    """A protection incident. The reporter's identity is sealed like personal data."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    source_ref: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(8), default="day")
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"), nullable=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True, index=True)
    perpetrator_category: Mapped[str] = mapped_column(String(64), default="unknown")
    source: Mapped[str] = mapped_column(String(24), default="other")
    verification: Mapped[str] = mapped_column(String(12), default="reported")
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True, index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    sealed_reporter: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it once)


class IncidentPerson(Base):
    __tablename__ = "incident_persons"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True, index=True)


class IncidentBreach(Base):
    """A term of the agreement that the incident breaks."""

    __tablename__ = "incident_breaches"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("agreement_terms.id"), primary_key=True)
