"""Registration: households, persons, consent, intentions."""
