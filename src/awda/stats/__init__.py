"""Aggregate statistics; nothing here reads personal fields."""
