"""Tables of registry linkage: runs, candidate pairs (the review queue) and reversible merges.

No personal value is stored here: a pair names two persons by id, with the model's probability
and which comparisons agreed; a reviewer opens the two records through `access.readers`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime, utcnow


class LinkageRun(Base):
    """One run of the engine over the persons in an actor's scope."""

    __tablename__ = "linkage_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    run_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    backend: Mapped[str] = mapped_column(String(16))
    persons: Mapped[int] = mapped_column(Integer, default=0)
    pairs: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    review_threshold: Mapped[float] = mapped_column(Float)
    merge_threshold: Mapped[float] = mapped_column(Float)
    parameters: Mapped[str] = mapped_column(Text, default="{}")  # the trained model: m/u values, no records


class LinkCandidate(Base):
    """Two persons the engine thinks may be one; `status` is the review decision.

    `person_a_id < person_b_id` always, so a pair has one row whatever the order it was found in.
    """

    __tablename__ = "link_candidates"
    __table_args__ = (
        UniqueConstraint("person_a_id", "person_b_id"),
        Index("ix_link_candidates_queue", "status", "probability"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_runs.id"), index=True)
    person_a_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    person_b_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    household_a_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    household_b_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    probability: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(String(400), default="")  # comparison levels that agreed
    status: Mapped[str] = mapped_column(String(16))  # pending, merged, rejected
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it once)


class PersonMerge(Base):
    """`merged` is the same person as `kept`; both registrations stay; undone when `undone_at` is set.

    One active merge per merged person (a partial unique index), so the merges form a forest
    whose roots are the persons everyone else resolves to.
    """

    __tablename__ = "person_merges"
    __table_args__ = (
        Index(
            "uq_person_merges_active",
            "merged_person_id",
            unique=True,
            sqlite_where=text("undone_at IS NULL"),
            postgresql_where=text("undone_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    group_uid: Mapped[str] = mapped_column(String(36), index=True)  # merges decided together (a household)
    kept_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("link_candidates.id"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(16))  # automatic, reviewed
    merged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
