"""Users, roles, site scopes and tokens; the only code that opens protected records."""
