"""Gazetteer places (P-code, admin level, names, parent, coordinates) and sites."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from awda.db import Base, BigId


class Place(Base):
    __tablename__ = "places"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pcode: Mapped[str] = mapped_column(String(32), unique=True)
    admin_level: Mapped[int]
    name_en: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"), nullable=True, index=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(200), default="")


class Site(Base):
    """Where displaced people live or are registered: a camp, a neighbourhood, a shelter."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
