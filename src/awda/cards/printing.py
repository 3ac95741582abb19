"""Printable cards: PDF (WeasyPrint: Pango and HarfBuzz shape Arabic right to left) and PNG.

The QR code is an SVG drawn by segno in the alphanumeric mode (Base45 uses exactly that alphabet);
the PNG is the PDF page rasterised by PDFium, so paper and screen show the same card.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import segno
from jinja2 import Environment, PackageLoader, select_autoescape

PNG_DPI = 300


@dataclass(frozen=True)
class PrintableCard:
    qr_text: str
    card_id: str
    issuer: str
    agreement_code: str
    agreement_en: str
    agreement_ar: str
    guarantor: str
    issued_on: str
    expires_on: str
    name_ar: str | None = None
    name_lat: str | None = None
    birth_year: int | None = None

    @property
    def qr_svg(self) -> str:
        """The QR code as inline SVG, error correction M (survives a crease or a smudge)."""
        code = segno.make_qr(self.qr_text, error="m", boost_error=False)
        return str(code.svg_inline(scale=4, border=2, omitsize=True))


def printable(claims: Mapping[str, Any], qr_text: str, agreement: Mapping[str, Any]) -> PrintableCard:
    """A card to print from its verified claims (JSON form) and its agreement's record."""
    holder = claims.get("holder") or {}
    return PrintableCard(
        qr_text=qr_text,
        card_id=str(claims["card_id"]),
        issuer=str(claims["issuer"]),
        agreement_code=str(agreement["code"]),
        agreement_en=str(agreement["name_en"]),
        agreement_ar=str(agreement["name_ar"]),
        guarantor=str(agreement["guarantor"]),
        issued_on=str(claims["issued_at"])[:10],
        expires_on=str(claims["expires_at"])[:10],
        name_ar=holder.get("name_ar"),
        name_lat=holder.get("name_lat"),
        birth_year=holder.get("birth_year"),
    )


def _environment() -> Environment:
    return Environment(loader=PackageLoader("awda.cards", "templates"), autoescape=select_autoescape(["html"]))


def render_pdf(cards: Sequence[PrintableCard]) -> bytes:
    """One A6 landscape page per card."""
    from weasyprint import HTML  # a heavy import (Pango), only when printing

    html = _environment().get_template("card.html").render(cards=cards)
    pdf = HTML(string=html).write_pdf()
    if pdf is None:
        raise RuntimeError("WeasyPrint produced no PDF")
    return bytes(pdf)


def render_png(pdf: bytes, page: int = 0, dpi: int = PNG_DPI) -> bytes:
    """One page of a card PDF as a PNG image."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def pdf_text(pdf: bytes) -> str:
    """The text of every page, in logical order (as a screen reader or a search would read it)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(document[index].get_textpage().get_text_range() for index in range(len(document)))
    finally:
        document.close()
