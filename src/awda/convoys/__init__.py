"""Convoys: planning who rides which scheduled convoy (docs/convoys.md)."""
