"""The text layer of a QR credential: prefix, Base45 (RFC 9285) and zlib (RFC 1950).

Base45 decoding is on every verification's path, so it works on whole integers instead of a
Python loop over characters (about ten times faster than a per-character decoder).
"""

from __future__ import annotations

import functools
import zlib

from awda.cards.cose import CardFormatError

BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
MAX_QR_TEXT_CHARS = 4296  # the alphanumeric capacity of the largest QR code (version 40-L)
MAX_INFLATED_BYTES = 64 * 1024  # a card's COSE message is a few hundred bytes; refuse zlib bombs
ZLIB_LEVEL = 9  # QR size matters more than issuing time

_INVALID = 0xFF
_DIGIT_OF_BYTE = bytes(BASE45_ALPHABET.find(chr(code)) & _INVALID for code in range(256))


class Base45Error(CardFormatError):
    """Text that is not valid Base45."""


class CompressionError(CardFormatError):
    """Bytes that are not one complete zlib stream, or inflate to more than the limit."""


def b45encode(data: bytes) -> str:
    """Base45 text of `data`: two bytes become three characters, least significant first."""
    characters: list[str] = []
    for index in range(0, len(data) - 1, 2):
        value = data[index] << 8 | data[index + 1]
        high, value = divmod(value, 45 * 45)
        middle, low = divmod(value, 45)
        characters += (BASE45_ALPHABET[low], BASE45_ALPHABET[middle], BASE45_ALPHABET[high])
    if len(data) % 2:
        middle, low = divmod(data[-1], 45)
        characters += (BASE45_ALPHABET[low], BASE45_ALPHABET[middle])
    return "".join(characters)


def b45decode(text: str) -> bytes:
    """Bytes of Base45 `text`; raises Base45Error on a foreign character, length or value."""
    try:
        digits = text.encode("ascii").translate(_DIGIT_OF_BYTE)
    except UnicodeEncodeError as error:
        raise Base45Error(f"character {error.start + 1} is not a Base45 character") from None
    if _INVALID in digits:
        position = digits.index(_INVALID)
        raise Base45Error(f"character {position + 1} ({text[position]!r}) is not a Base45 character")
    remainder = len(digits) % 3
    if remainder == 1:
        raise Base45Error(f"{len(digits)} characters is not a Base45 length (3n or 3n+2)")
    whole = len(digits) - remainder
    decoded = _decode_triplets(digits[:whole])
    if remainder == 2:
        value = digits[-2] + 45 * digits[-1]
        if value > 0xFF:
            raise Base45Error("the last two characters encode a value above 255")
        decoded += bytes((value,))
    return decoded


@functools.lru_cache(maxsize=64)
def _lane_mask(count: int) -> int:
    """The low byte of each of `count` 24-bit lanes (cards of one issuer have a few lengths)."""
    return int.from_bytes(b"\xff\x00\x00" * count, "little")


def _decode_triplets(digits: bytes) -> bytes:
    """Each 3 digits (c, d, e) become the 16-bit value c + 45d + 2025e, big-endian.

    All triplets are computed at once: read as one little-endian integer, the digits sit in
    24-bit lanes, and the weighted sum of a lane (at most 91124) never carries into the next.
    """
    count = len(digits) // 3
    lanes = int.from_bytes(digits, "little")
    lane_mask = _lane_mask(count)
    values = (lanes & lane_mask) + 45 * ((lanes >> 8) & lane_mask) + 2025 * ((lanes >> 16) & lane_mask)
    if values & (lane_mask << 16):
        raise Base45Error("a group of three characters encodes a value above 65535")
    lane_bytes = values.to_bytes(len(digits), "little")
    decoded = bytearray(2 * count)
    decoded[0::2] = lane_bytes[1::3]
    decoded[1::2] = lane_bytes[0::3]
    return bytes(decoded)


def deflate(data: bytes) -> bytes:
    """zlib (RFC 1950) at the highest level."""
    return zlib.compress(data, ZLIB_LEVEL)


def inflate(data: bytes, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """The content of one complete zlib stream of at most `limit` bytes, with nothing after it."""
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(data, limit)
    except zlib.error as error:
        raise CompressionError(f"not valid zlib data ({error})") from None
    if inflater.unconsumed_tail or (not inflater.eof and len(inflated) >= limit):
        raise CompressionError(f"the data inflates to more than {limit} bytes")
    if not inflater.eof:
        raise CompressionError("the zlib stream is truncated")
    if inflater.unused_data:
        raise CompressionError(f"{len(inflater.unused_data)} unexpected bytes after the zlib stream")
    return inflated


def encode_qr_text(prefix: str, message: bytes) -> str:
    """`prefix` + Base45(zlib(message)): the text a QR code carries."""
    return prefix + b45encode(deflate(message))


class PrefixError(CardFormatError):
    """Text that does not start with the expected prefix."""


def unprefix(text: str, prefix: str) -> str:
    """`text` without `prefix`; raises PrefixError naming the prefix that was found instead."""
    if not text.startswith(prefix):
        found = text[: len(prefix)]
        raise PrefixError(f"the text starts with {found!r}, not {prefix!r}")
    return text[len(prefix) :]
