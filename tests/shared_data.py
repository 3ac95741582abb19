"""Where the reference data lives: `../shared/data/` beside the project, else the copies in tests/data/."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared" / "data"
COPIES = PROJECT / "tests" / "data"


def reference_data(relative: str) -> Path:
    """The shared folder when it is there (it may hold more cases), the project's own copy otherwise."""
    shared = SHARED / relative
    return shared if shared.exists() else COPIES / relative
