"""Opt-in shares that make a scenario harder for linkage; unset, the default scenario is unchanged byte for byte."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SWITCHED_SCRIPT_SHARE = 0.25  # of duplicates, with a mix: a one-script registration re-registered in the other script


@dataclass(frozen=True)
class LinkageMix:
    """``duplicates``: share of registrations that re-register people; ``year_only``: share of people
    known by birth year only. ``None`` keeps the default scenario's own rates and draws."""

    duplicates: float | None = None
    year_only: float | None = None

    def __post_init__(self) -> None:
        if self.duplicates is not None and not 0.0 <= self.duplicates <= 0.5:
            raise ValueError(f"duplicates must be a share between 0 and 0.5, got {self.duplicates}")
        if self.year_only is not None and not 0.0 <= self.year_only <= 1.0:
            raise ValueError(f"year_only must be a share between 0 and 1, got {self.year_only}")

    def duplicate_per_household(self, default: float) -> float:
        """Chance that a household is re-registered: each one adds at most one duplicate registration."""
        if self.duplicates is None:
            return default
        return self.duplicates / (1.0 - self.duplicates)

    def full_date_share(self, default: float) -> float:
        """Share of people whose full birth date is known."""
        return default if self.year_only is None else 1.0 - self.year_only

    @property
    def is_set(self) -> bool:
        """Whether any share was given: a linkage scenario also gives brothers and sisters distinct names."""
        return self.duplicates is not None or self.year_only is not None

    @property
    def switched_scripts(self) -> float:
        """Share of duplicates written in the other script of a one-script registration (0 by default)."""
        return 0.0 if self.duplicates is None else SWITCHED_SCRIPT_SHARE

    def manifest(self) -> dict[str, Any]:
        """The parameters that differ from the default scenario (nothing when unset)."""
        out: dict[str, Any] = {}
        if self.duplicates is not None:
            out["duplicate_registration_share"] = self.duplicates
            out["duplicate_per_household"] = self.duplicate_per_household(0.0)
            out["duplicate_switched_script"] = self.switched_scripts
        if self.year_only is not None:
            out["full_birth_date_share"] = self.full_date_share(0.0)
        if self.is_set:
            out["distinct_sibling_names"] = True
        return out
