"""Scenario simulator: a deterministic, streaming Syrian displacement scenario with ground truth."""

from awda.simulate.scenario import ScenarioSummary, write_scenario

__all__ = ["ScenarioSummary", "write_scenario"]
