"""Retention rules per record type and the action that applies them (docs/backup.md)."""
