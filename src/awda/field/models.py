"""Tables of field submissions: what each phone sent (by instanceID) and its sealed attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId, UtcDateTime, utcnow


class FieldSubmission(Base):
    """One form instance received over OpenRosa, known by its `meta/instanceID`.

    Its first post becomes a record (`record_uid`) at once: every post carries the whole instance,
    and only attachments are split across posts (`complete` once the last one came). The instance
    is not kept; its keyed fingerprint is, so a repeat can be told from a conflicting re-use.
    """

    __tablename__ = "field_submissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(64), unique=True)
    form_id: Mapped[str] = mapped_column(String(32))
    form_version: Mapped[str] = mapped_column(String(64), default="")
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    record_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    record_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True, index=True)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class FieldAttachment(Base):
    """A file sent with a submission (a photo), sealed under the submission's data key."""

    __tablename__ = "field_attachments"
    __table_args__ = (UniqueConstraint("submission_id", "filename"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("field_submissions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
