"""Sites, registration windows and movement flows of the scenario, checked against the gazetteer."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from awda.simulate.dates import ordinal

# Read by path, not by importing awda.places: the simulator stays free of other packages.
DATA_DIR = Path(__file__).resolve().parent.parent / "places" / "data"

SCENARIO_END = "2022-06-30"

# site: (share of registrations, registration window, convoy weekday Mon=0, registrar count)
SITE_PLANS: dict[str, tuple[int, str, str, int, int]] = {
    "RUKBAN": (28, "2018-10-01", "2021-06-30", 1, 6),
    "ALWAER": (10, "2017-03-13", "2017-05-10", 5, 8),
    "ATMEH": (18, "2018-06-01", "2021-06-30", 2, 6),
    "JARABLUS": (12, "2018-06-01", "2021-06-30", 3, 4),
    "IDLEB-SHELTER": (14, "2018-06-01", "2021-06-30", 2, 4),
    "RASTAN-SHELTER": (18, "2019-03-15", "2021-06-30", 4, 4),
}

NORTHERN_HOMS = (("C4301", 18), ("C4311", 14), ("C4021", 10), ("C4022", 10))
FlowSpec = tuple[str, str, int, str, str, str, int, int]
# (kind, destination, weight, agreement, first convoy, last convoy, mean wait days, travel days)
_FROM_NORTH: tuple[FlowSpec, ...] = (
    *tuple(("return", dest, w, "AG-2018-NHOMS", "2018-06-05", SCENARIO_END, 90, 1) for dest, w in NORTHERN_HOMS),
    ("return", "C4001", 25, "AG-2017-WAER", "2018-03-01", SCENARIO_END, 120, 1),
    ("return", "C4201", 15, "AG-2019-QUSAYR", "2019-07-15", SCENARIO_END, 150, 1),
)
FLOW_SPECS: dict[str, tuple[FlowSpec, ...]] = {
    "RUKBAN": (
        ("return", "C4401", 30, "AG-2019-RUKBAN", "2019-03-05", SCENARIO_END, 75, 1),
        ("return", "C4301", 14, "AG-2019-RUKBAN", "2019-03-05", SCENARIO_END, 75, 1),
        ("return", "C4311", 12, "AG-2019-RUKBAN", "2019-03-05", SCENARIO_END, 75, 1),
        ("return", "C4021", 7, "AG-2019-RUKBAN", "2019-03-05", SCENARIO_END, 75, 1),
        ("return", "C4022", 7, "AG-2019-RUKBAN", "2019-03-05", SCENARIO_END, 75, 1),
        ("return", "C4002", 22, "AG-2019-RUKBAN", "2019-03-05", SCENARIO_END, 75, 1),
    ),
    "ALWAER": (
        ("evacuate", "C1001", 55, "AG-2017-WAER", "2017-03-18", "2017-05-21", 12, 1),
        ("evacuate", "C6001", 45, "AG-2017-WAER", "2017-03-18", "2017-05-21", 12, 1),
    ),
    "ATMEH": (*_FROM_NORTH, ("relocate", "C1001", 6, "", "2018-06-01", SCENARIO_END, 30, 0)),
    "JARABLUS": _FROM_NORTH,
    "IDLEB-SHELTER": (*_FROM_NORTH, ("relocate", "C6101", 8, "", "2018-06-01", SCENARIO_END, 30, 0)),
    "RASTAN-SHELTER": (
        ("return", "C4401", 30, "AG-2019-RUKBAN", "2019-03-20", SCENARIO_END, 60, 0),
        ("return", "C4201", 15, "AG-2019-QUSAYR", "2019-07-15", SCENARIO_END, 90, 0),
        ("return", "C4311", 15, "AG-2018-NHOMS", "2019-03-20", SCENARIO_END, 60, 0),
        ("return", "C4021", 15, "AG-2018-NHOMS", "2019-03-20", SCENARIO_END, 60, 0),
        ("return", "C4022", 15, "AG-2018-NHOMS", "2019-03-20", SCENARIO_END, 60, 0),
        ("relocate", "C4002", 10, "", "2019-03-20", SCENARIO_END, 45, 0),
    ),
}


@dataclass(frozen=True, slots=True, eq=False)
class Flow:
    """A movement a household at ``origin_site`` may ask for, and how convoys serve it."""

    kind: str
    origin_site: str
    origin_pcode: str
    destination_pcode: str
    agreement_id: str
    first_convoy: int
    last_convoy: int
    mean_wait_days: int
    travel_days: int
    weight: int


@dataclass(frozen=True, slots=True, eq=False)
class Site:
    """A registration site with its flows expanded by weight for fast sampling."""

    code: str
    place_pcode: str
    weight: int
    registration_start: int
    registration_end: int
    convoy_weekday: int
    registrars: tuple[str, ...]
    flows: tuple[Flow, ...]
    flow_table: tuple[Flow, ...]


def _read_hxl_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row for row in rows if not next(iter(row.values()), "").startswith("#")]


@lru_cache(maxsize=1)
def gazetteer_pcodes() -> frozenset[str]:
    """Every P-code (any admin level) of the demo gazetteer."""
    codes: set[str] = set()
    for row in _read_hxl_csv(DATA_DIR / "demo_gazetteer.csv"):
        codes.update(v for k, v in row.items() if k.endswith("Pcode") and v)
    return frozenset(codes)


def site_places() -> dict[str, str]:
    """Site code -> P-code of its place, from the demo sites file."""
    return {row["code"]: row["place_pcode"] for row in _read_hxl_csv(DATA_DIR / "demo_sites.csv")}


def _flow(site: str, origin_pcode: str, spec: FlowSpec) -> Flow:
    kind, dest, weight, agreement, first, last, wait, travel = spec
    return Flow(kind, site, origin_pcode, dest, agreement, ordinal(first), ordinal(last), wait, travel, weight)


def _site(code: str, place: str) -> Site:
    weight, start, end, weekday, registrar_count = SITE_PLANS[code]
    flows = tuple(_flow(code, place, spec) for spec in FLOW_SPECS[code])
    table = tuple(flow for flow in flows for _ in range(flow.weight))
    prefix = code.lower().replace("-", "_")
    registrars = tuple(f"{prefix}.reg{n:02d}" for n in range(1, registrar_count + 1))
    return Site(code, place, weight, ordinal(start), ordinal(end), weekday, registrars, flows, table)


@lru_cache(maxsize=1)
def scenario_sites() -> tuple[Site, ...]:
    """The sites with their flows; fails loudly if the demo data lacks a code we use."""
    places = site_places()
    pcodes = gazetteer_pcodes()
    missing = [code for code in SITE_PLANS if code not in places]
    used = {spec[1] for specs in FLOW_SPECS.values() for spec in specs} | set(places.values())
    missing += sorted(used - pcodes)
    if missing:
        raise RuntimeError(f"demo places data lacks codes used by the simulator: {missing}")
    return tuple(_site(code, places[code]) for code in SITE_PLANS)
