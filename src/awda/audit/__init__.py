"""The event log: one event per action, and one per read of personal fields."""
