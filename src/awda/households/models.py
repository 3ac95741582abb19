"""Tables of households, registrations, persons, consent and intentions.

Personal fields live only in `Person.sealed` (AES-GCM under the household's data key); the clear
columns are the categorical attributes that planning and statistics group by.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime, utcnow


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    source_ref: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    travel_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The household's own status lookup: a public reference code and a keyed digest of its PIN.
    reference: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    pin_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    registered_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it once)


class Registration(Base):
    """One registration event of a household at a site (a household may register again)."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    registrar: Mapped[str] = mapped_column(String(64), default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    member_index: Mapped[int] = mapped_column(Integer)
    relationship: Mapped[str] = mapped_column(String(20))
    sex: Mapped[str] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vulnerabilities: Mapped[str] = mapped_column(String(200), default="")
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it once)


class PersonIdentifier(Base):
    """Blind index of a person's Arabic name, phone or document number, for exact lookup.

    The key (digest, kind, person) is the lookup itself; on SQLite the table is stored as that
    one b-tree (WITHOUT ROWID), so an imported person costs no extra rowid table insert.
    """

    __tablename__ = "person_identifiers"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  (SQLAlchemy reads it once)

    digest: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True, index=True)


class Consent(Base):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    purposes: Mapped[str] = mapped_column(String(200))
    given_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Intention(Base):
    __tablename__ = "intentions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    origin_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    window_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    window_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    declared_on: Mapped[date] = mapped_column(Date)
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reconfirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it once)


class IntentionMember(Base):
    __tablename__ = "intention_members"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  (the key is the row: no rowid table)

    intention_id: Mapped[int] = mapped_column(ForeignKey("intentions.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True, index=True)


class IntentionTransition(Base):
    """Every status change of an intention, with who and when; never updated or deleted."""

    __tablename__ = "intention_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    intention_id: Mapped[int] = mapped_column(ForeignKey("intentions.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64))
