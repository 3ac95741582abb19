"""`make fuzz`: schemathesis against a live awda on 127.0.0.1 (docs/fuzz.md); not collected by pytest."""
