"""Encrypted, engine-neutral backups and their restore; the erasure ledger that outlives them."""
