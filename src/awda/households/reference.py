"""A household's public reference code and PIN: made to be read over a phone and typed on a keypad.

The reference is 9 random symbols of Crockford's base-32 alphabet (no I, L, O, U, so nothing is
misread) and one check symbol, shown as `XXXX-XXXX-XX`; typos are caught before any lookup. The
PIN is 6 digits. Arabic-Indic digits are accepted wherever digits are typed.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Read-alike letters people type instead of the symbol meant (Crockford's decoding rules).
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Arabic-Indic and Eastern Arabic-Indic digits, as phones in the region type them.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
PAYLOAD_LENGTH = 9
PIN_LENGTH = 6


def _check_symbol(payload: str) -> str:
    """Weighted sum mod 32 with odd weights: every single wrong symbol changes it."""
    total = sum((2 * index + 1) * _VALUE[symbol] for index, symbol in enumerate(payload))
    return ALPHABET[total % 32]


def new_reference() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))
    return payload + _check_symbol(payload)


def normalise_reference(text: str) -> str | None:
    """The stored form of a typed reference, or None when it cannot be one (wrong length or check)."""
    cleaned = "".join(ch for ch in text.translate(_DIGITS).upper() if ch not in " -_.").translate(_ALIASES)
    if len(cleaned) != PAYLOAD_LENGTH + 1 or any(ch not in _VALUE for ch in cleaned):
        return None
    return cleaned if _check_symbol(cleaned[:-1]) == cleaned[-1] else None


def display_reference(reference: str) -> str:
    return f"{reference[:4]}-{reference[4:8]}-{reference[8:]}"


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"


def normalise_pin(text: str) -> str | None:
    cleaned = text.translate(_DIGITS).strip()
    return cleaned if len(cleaned) == PIN_LENGTH and cleaned.isascii() and cleaned.isdigit() else None
