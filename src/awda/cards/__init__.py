"""Protection cards: signed `AW1:` QR credentials that anyone can verify offline (docs/cards.md)."""
