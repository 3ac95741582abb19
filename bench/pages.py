"""Web pages on a registry of 100,000 households against the same pages on 1,000, in the same run.

    .venv/bin/python bench/pages.py [--households 100000] [--small 1000] [--rounds 7] [--json]

Two fresh SQLite registries are built the same way, as `awda import` builds one: a simulated
scenario cut to exactly that many registrations, imported with the bulk importer. Each is opened
through the real app (`create_app`), a coordinator covering every site signs in through the login
form, and every page below is requested over HTTP with the session cookie: the list of households
(first page, deepest page, one site), the waiting lists, the biggest list (first and last page),
the exact search by a member's phone number, and one household's page.

The ratio of a page is its time on the small registry over its time on the large one (1.0: no
slower with 100 times the households). Every round requests each page on both registries in turn,
and each keeps its best time, so that a busy spell on a shared machine distorts neither side.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select
from starlette.exceptions import StarletteDeprecationWarning

from awda.access.services import SYSTEM, create_user
from awda.cli.common import progress_bar, stderr
from awda.convoys.waitlists import list_summaries
from awda.households.importer import import_registrations
from awda.households.models import Household
from awda.places.models import Site
from awda.places.services import load_demo_gazetteer
from awda.runtime import Runtime, open_runtime
from awda.settings import Settings
from awda.simulate.scenario import write_scenario
from awda.vault import new_master_key_text
from awda.web.app import create_app
from awda.web.pages.forms import MAX_PAGE_OFFSET, PAGE_SIZE

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

TARGET_RATIO = 0.5  # the large registry's page at most twice as slow as the small one's
SMALL_HOUSEHOLDS = 1_000
ROUNDS = 7
USERNAME = "bench-coordinator"
PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HOUSEHOLD_LINK = re.compile(r'href="/households/([0-9a-f-]{36})"')
PAGES = {  # name: what is requested (the paths, which differ per registry, are in the results)
    "households": "GET /households (first page)",
    "households_deepest": "GET /households?offset= the deepest page the pager allows",
    "households_site": "GET /households?site= the largest site",
    "waitlists": "GET /waitlists",
    "waitlist": "GET /waitlists/{site}/{destination}, the biggest list",
    "waitlist_last": "the same list, its last page",
    "search_phone": "POST /households/search, a member's phone",
    "household": "GET /households/{uid}",
}


@dataclass(frozen=True)
class PageRequest:
    """One timed request: a page of the app and the answer it must give."""

    method: str
    path: str
    data: dict[str, str] | None = None
    expected: frozenset[int] = frozenset({200})


@dataclass
class Registry:
    """A registry opened through the app, a signed-in client, and its pages to request."""

    client: TestClient
    pages: dict[str, PageRequest] = field(default_factory=dict)

    def fetch(self, name: str) -> httpx.Response:
        page = self.pages[name]
        response: httpx.Response = self.client.request(page.method, page.path, data=page.data)
        if response.status_code not in page.expected:
            raise RuntimeError(f"{page.method} {page.path} answered {response.status_code}, not {set(page.expected)}")
        return response


def registrations(folder: Path, households: int, seed: int, progress: bool) -> Path:
    """A simulated registrations file of exactly `households` registrations (the scenario's first ones)."""
    with progress_bar(f"simulating {households:,} households", households, progress) as advance:
        write_scenario(folder / "scenario", households, seed, on_progress=advance)
    source, target = folder / "scenario" / "registrations.csv", folder / "registrations.csv"
    with source.open(newline="", encoding="utf-8") as reader, target.open("w", newline="", encoding="utf-8") as out:
        records = csv.reader(reader)
        writer = csv.writer(out)
        writer.writerow(next(records))
        groups = itertools.groupby(records, key=lambda row: row[0])
        for _ref, members in itertools.islice(groups, households):
            writer.writerows(members)
    return target


def row_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def build_registry(folder: Path, households: int, seed: int, progress: bool) -> tuple[Runtime, Path]:
    """A fresh, migrated SQLite registry with the demo gazetteer, the simulated households and a coordinator."""
    path = registrations(folder, households, seed, progress)
    settings = Settings(
        data_dir=folder / "data",
        database_url=f"sqlite:///{folder / 'awda.db'}",
        master_key=SecretStr(new_master_key_text()),
    )
    runtime = open_runtime(settings)
    with runtime.sessions() as session:
        load_demo_gazetteer(session, SYSTEM)
        with progress_bar(f"importing {households:,} households", row_count(path), progress) as advance:
            report = import_registrations(
                session, runtime.vault, SYSTEM, path, advance, commit_rows=settings.import_commit_rows
            )
        if report.error_count:
            raise RuntimeError(f"the import refused {report.error_count} rows: {report.errors[:3]}")
        create_user(session, SYSTEM, USERNAME, "coordinator", PASSWORD, all_sites=True)
    return runtime, path


def signed_in(runtime: Runtime, stack: ExitStack) -> TestClient:
    """A client of the real app (its lifespan running until `stack` closes), signed in through the login form."""
    client = stack.enter_context(TestClient(create_app(runtime.settings, runtime), follow_redirects=False))
    token = csrf_token(client.get("/login"))
    answer = client.post("/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 303:
        raise RuntimeError(f"signing in answered {answer.status_code}")
    return client


def csrf_token(response: httpx.Response) -> str:
    found = TOKEN.search(response.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on {response.request.url}")
    return found.group(1)


def last_offset(total: int) -> int:
    """The offset of a list's last page, or the deepest the pager allows when that is nearer."""
    return min(max(total - 1, 0) // PAGE_SIZE * PAGE_SIZE, MAX_PAGE_OFFSET)


def first_phone(path: Path) -> str:
    """The first phone number in the registrations file: a real member's."""
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["phone"]:
                return row["phone"]
    raise RuntimeError(f"no phone number in {path.name}")


def list_pages(runtime: Runtime) -> dict[str, PageRequest]:
    """The list pages: households (first, deepest, largest site) and waiting lists (all, the biggest)."""
    with runtime.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Household)) or 0
        by_site = select(Site.code, func.count()).join(Household, Household.site_id == Site.id).group_by(Site.code)
        site = max(session.execute(by_site).tuples(), key=lambda row: row[1])[0]
        biggest = max(list_summaries(session, SYSTEM), key=lambda row: row["households"])
    waitlist = f"/waitlists/{biggest['origin']}/{biggest['destination']}"
    return {
        "households": PageRequest("GET", "/households"),
        "households_deepest": PageRequest("GET", f"/households?offset={last_offset(total)}"),
        "households_site": PageRequest("GET", f"/households?site={site}"),
        "waitlists": PageRequest("GET", "/waitlists"),
        "waitlist": PageRequest("GET", waitlist),
        "waitlist_last": PageRequest("GET", f"{waitlist}?offset={last_offset(biggest['households'])}"),
    }


def open_registry(runtime: Runtime, path: Path, stack: ExitStack) -> Registry:
    """Sign in, and find the requests to time: the list pages, the search by phone and its household."""
    registry = Registry(signed_in(runtime, stack), list_pages(runtime))
    token = csrf_token(registry.fetch("households"))
    search = {"kind": "phone", "value": first_phone(path), "csrf_token": token}
    registry.pages["search_phone"] = PageRequest("POST", "/households/search", search, frozenset({200, 303}))
    found = registry.fetch("search_phone")
    link = HOUSEHOLD_LINK.search(found.text)
    uid = found.headers["location"].rsplit("/", 1)[1] if found.status_code == 303 else link and link.group(1)
    if not uid:
        raise RuntimeError("the search by phone found no household")
    registry.pages["household"] = PageRequest("GET", f"/households/{uid}")
    return registry


def best_seconds(registries: Sequence[Registry], rounds: int, progress: bool) -> dict[str, list[float]]:
    """Each page's best time on each registry; every round requests each page on every registry in turn."""
    best = {name: [float("inf")] * len(registries) for name in PAGES}
    with progress_bar("timing the pages", rounds * len(PAGES), progress) as advance:
        for _ in range(rounds):
            for name in PAGES:
                for index, registry in enumerate(registries):
                    started = time.perf_counter()
                    registry.fetch(name)
                    best[name][index] = min(best[name][index], time.perf_counter() - started)
                advance(1)
    return best


@contextmanager
def registries(sizes: Sequence[int], seed: int, progress: bool) -> Iterator[list[Registry]]:
    """Fresh registries of these sizes in a temporary folder, each opened through the app; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="awda-bench-pages-") as name, ExitStack() as stack:
        opened = []
        for households in sizes:
            if progress:
                stderr.print(f"building a registry of {households:,} households")
            folder = Path(name) / f"registry-{households}"
            folder.mkdir()
            runtime, path = build_registry(folder, households, seed, progress)
            stack.callback(runtime.engine.dispose)
            opened.append(open_registry(runtime, path, stack))
        yield opened


def page_result(name: str, small: Registry, large: Registry, seconds: Sequence[float]) -> dict[str, Any]:
    ratio = seconds[0] / seconds[1]
    return {
        "page": name,
        "what": PAGES[name],
        "small_request": f"{small.pages[name].method} {small.pages[name].path}",
        "large_request": f"{large.pages[name].method} {large.pages[name].path}",
        "small_ms": round(seconds[0] * 1000, 1),
        "large_ms": round(seconds[1] * 1000, 1),
        "ratio": round(ratio, 3),
        "target_met": ratio >= TARGET_RATIO,
    }


def run(
    households: int, small: int = SMALL_HOUSEHOLDS, rounds: int = ROUNDS, seed: int = 2026, progress: bool = False
) -> dict[str, Any]:
    with registries((small, households), seed, progress) as (small_registry, large_registry):
        seconds = best_seconds((small_registry, large_registry), rounds, progress)
        pages = [page_result(name, small_registry, large_registry, seconds[name]) for name in PAGES]
    return {
        "small_households": small,
        "large_households": households,
        "rounds": rounds,
        "pages": pages,
        "target_ratio": TARGET_RATIO,
        "target_met": all(page["target_met"] for page in pages),
    }


def text_report(result: dict[str, Any]) -> str:
    lines = [
        f"{result['small_households']:,} against {result['large_households']:,} households, "
        f"best of {result['rounds']} rounds (ratio = small / large, target {TARGET_RATIO})"
    ]
    for page in result["pages"]:
        verdict = "met" if page["target_met"] else "NOT MET"
        lines.append(
            f"  {page['page']:<20} {page['small_ms']:>9.1f} ms {page['large_ms']:>9.1f} ms"
            f"  ratio {page['ratio']:<6} {verdict:<8} {page['large_request']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=SMALL_HOUSEHOLDS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.households, arguments.small, arguments.rounds, arguments.seed, progress=True)
    print(json.dumps(result, indent=2) if arguments.json else text_report(result))


if __name__ == "__main__":
    main()
