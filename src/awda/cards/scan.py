"""Reading a card's QR code from a photo or a scan, with a real decoder (zxing-cpp)."""

from __future__ import annotations

from pathlib import Path

from awda.errors import ValidationFailed


def qr_texts(path: Path) -> list[str]:
    """The texts of every QR code found in an image file."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            results = zxingcpp.read_barcodes(image.convert("L"))
    except (UnidentifiedImageError, OSError) as error:
        raise ValidationFailed("image", f"cannot read {path.name} as an image") from error
    return [result.text for result in results if result.valid and result.format == zxingcpp.BarcodeFormat.QRCode]


def card_text_from_image(path: Path) -> str:
    """The one card text in a picture; a clear error if there is none or several."""
    texts = qr_texts(path)
    if not texts:
        raise ValidationFailed("image", f"no readable QR code in {path.name}")
    if len(set(texts)) > 1:
        raise ValidationFailed("image", f"{len(texts)} different QR codes in {path.name}; crop to one card")
    return texts[0]
