"""`make fuzz`: schemathesis against a live awda on 127.0.0.1, seeded with demo data (docs/fuzz.md).

    FUZZ_MAX_EXAMPLES=50 FUZZ_SECONDS=900 FUZZ_ENGINE=sqlite .venv/bin/python -m tests.fuzz.run

Creates a temporary data folder and database (SQLite, or a private schema in the PostgreSQL at
AWDA_TEST_POSTGRES_URL with FUZZ_ENGINE=postgresql), seeds it with `awda demo --no-serve` and one
user of each role, starts `awda serve` on a free loopback port, and runs schemathesis against the
app's own OpenAPI schema twice: without a token, then with an admin's. Checks: no 5xx
(`not_a_server_error`, and no 5xx in the server's log), and every 4xx/5xx is problem+json
(`problem_json`, tests/fuzz/checks.py). Bounded by FUZZ_MAX_EXAMPLES per operation and by a
wall-clock cap of FUZZ_SECONDS for the whole run; the server is always stopped, the folder and
schema always removed. Exit 0 when clean, 1 when anything failed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BIN = Path(sys.executable).parent
HOOKS = Path(__file__).with_name("checks.py")
API = "/api/v1"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROLES = ("registrar", "coordinator", "monitor", "analyst", "auditor")
CHECKS = "not_a_server_error,problem_json"
# The admin run must not sign itself out half way; the anonymous run covers DELETE /auth/token.
SIGN_OUT = "revoke_token_api_v1_auth_token_delete"
INTERRUPTED = 130  # schemathesis stopped by SIGINT
SERVER_ERROR = re.compile(r'HTTP/1\.[01]" (5\d\d) ')
CHAINED = ("The above exception was the direct cause", "During handling of the above exception")
OWN_FRAME = re.compile(r'File ".*/(awda/[^"]+", line \d+, in \w+)')


@dataclass(frozen=True)
class Budget:
    max_examples: int
    seconds: float
    households: int
    engine: str
    started: float

    @classmethod
    def from_env(cls) -> Budget:
        return cls(
            max_examples=int(os.environ.get("FUZZ_MAX_EXAMPLES", "50")),
            seconds=float(os.environ.get("FUZZ_SECONDS", "900")),
            households=int(os.environ.get("FUZZ_HOUSEHOLDS", "60")),
            engine=os.environ.get("FUZZ_ENGINE", "sqlite"),
            started=time.monotonic(),
        )

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)


@contextmanager
def database(engine: str, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in the folder, or a private PostgreSQL schema dropped afterwards."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'awda.db'}"
        return
    if engine != "postgresql":
        raise SystemExit(f"FUZZ_ENGINE must be sqlite or postgresql, not {engine!r}")
    url = os.environ.get("AWDA_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    schema = f"awda_fuzz_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def awda_env(folder: Path, url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWDA_")}
    return env | {
        "AWDA_DATA_DIR": str(folder / "data"),
        "AWDA_DATABASE_URL": url,
        "AWDA_MESSAGE_SENDER": "none",
        # Every request comes from 127.0.0.1: keep the address lock from hiding the code behind it.
        "AWDA_LOGIN_ADDRESS_MAX_FAILURES": "1000000",
    }


def awda(env: dict[str, str], *arguments: str) -> Any:
    command = [BIN / "awda", *arguments, "--json"]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"awda {' '.join(arguments)} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def seed(env: dict[str, str], households: int) -> dict[str, Any]:
    """Gazetteer, households, cards, monitoring, convoys (the demo), one user per role, an admin token."""
    demo = awda(env, "demo", "--no-serve", "--households", str(households))
    for role in ROLES:
        awda(env, "users", "create", f"fuzz-{role}", "--role", role, "--site", "RUKBAN")
    token = awda(env, "users", "token", "admin")["token"]
    return {"token": token, "card": demo["cards"].get("example")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`awda serve` on a free loopback port; stopped when the block ends, whatever happens."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        command = [BIN / "awda", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(base, server)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_up(base: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"awda serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base}{API}/openapi.json", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"awda serve did not answer within {seconds:.0f} s")


def known_values(base: str, token: str, card: str | None) -> dict[str, list[str]]:
    """Real ids and codes from the seeded data, so generated requests also reach past the 404s."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{base}{API}", headers=headers, timeout=60, trust_env=False) as api:
        households = [item["uid"] for item in api.get("/households", params={"limit": 10}).json()["items"]]
        views = [api.get(f"/households/{uid}").json() for uid in households[:5]]
        persons = [member["uid"] for view in views for member in view.get("members", []) if "uid" in member]
        intentions = [item["uid"] for view in views for item in view.get("intentions", []) if "uid" in item]
        incidents = [item["incident_id"] for item in api.get("/monitoring/incidents").json()["items"][:10]]
        followups = [item["followup_id"] for item in api.get("/monitoring/followups/overdue").json()["items"][:10]]
        lists = api.get("/convoys/waitlists").json()
        agreements = [item["code"] for item in api.get("/agreements").json()]
        values = {
            "uid": households + persons + intentions + incidents + followups,
            "person": persons,
            "code": agreements + [item["code"] for item in api.get("/convoys").json()["items"]],
            "agreement": agreements,
            "pcode": [item["pcode"] for item in api.get("/places").json()][:20],
            "site": [item["code"] for item in api.get("/sites").json()],
            "origin": sorted({item["origin"] for item in lists}),
            "destination": sorted({item["destination"] for item in lists}),
            "monitor": ["fuzz-monitor", "admin"],
            "etag": ['"v1"', '"v2"', '"v3"'],
        }
        if card:
            claims = api.post("/cards/verify", json={"text": card}).json().get("claims") or {}
            values["card_id"] = [claims["card_id"]] if claims.get("card_id") else []
    return {name: found for name, found in values.items() if found}


# Where each list of known values is drawn from (half of the time; the other half is generated).
BINDINGS = {
    "path.uid": "uid",
    "path.code": "code",
    "path.pcode": "pcode",
    "path.card_id": "card_id",
    "path.origin": "origin",
    "path.destination": "destination",
    "query.site": "site",
    "header.If-Match": "etag",
    "body.site": "site",
    "body.person": "person",
    "body.persons[*]": "person",
    "body.agreement": "agreement",
    "body.monitor": "monitor",
}


def write_config(path: Path, values: dict[str, list[str]]) -> None:
    """A schemathesis.toml with the known values as dictionaries bound to the parameters they fit."""
    lines: list[str] = []
    for name, found in values.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(found)}", ""]
    lines.append("[parameters]")
    for key, name in BINDINGS.items():
        if name in values:
            lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Outcome:
    name: str
    code: int
    capped: bool  # the wall-clock cap stopped it: only what it reached was checked
    cases: int  # operations it tested (its JUnit report's test cases, less the skipped ones)
    problems: int | None  # those that failed or erred (None: it wrote no report)

    @property
    def failed(self) -> bool:
        if self.problems is None:
            return not self.capped or self.code not in {0, INTERRUPTED}
        return self.problems > 0 or (self.code != 0 and not self.capped)

    def line(self) -> str:
        verdict = "FAILED" if self.failed else "clean"
        capped = ", stopped at the FUZZ_SECONDS cap" if self.capped else ""
        return f"fuzz {self.name}: {verdict} (exit {self.code}, {self.problems} of {self.cases} failing{capped})"


def schemathesis(name: str, base: str, config: Path, budget: Budget, share: float, extra: list[str]) -> Outcome:
    """One schemathesis run, stopped (SIGINT: it reports what it found so far) when its share of time is spent."""
    junit = config.parent / f"{name}.junit.xml"
    command = [str(BIN / "schemathesis"), "--config-file", str(config), "run", f"{base}{API}/openapi.json"]
    command += ["--checks", CHECKS, "--max-examples", str(budget.max_examples), "--workers", "1"]
    command += ["--request-timeout", "60", "--no-color", "--report", "junit", "--report-junit-path", str(junit)]
    env = os.environ | {"SCHEMATHESIS_HOOKS": str(HOOKS), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    print(f"fuzz {name}: schemathesis, {budget.max_examples} examples per operation", flush=True)
    # Its own report goes to a file: its pytest-like "=== N warnings in Ns ===" line would otherwise
    # close CI's output as if a test runner had run nothing. The report is shown when the run fails.
    output_path = config.parent / f"{name}.out"
    with output_path.open("wb") as output:
        code, capped = run_schemathesis([*command, *extra], env, config.parent, output, budget.remaining() * share)
    outcome = Outcome(name, code, capped, *junit_counts(junit))
    if outcome.failed:
        print(output_path.read_text(encoding="utf-8", errors="replace")[-20_000:], flush=True)
    return outcome


def run_schemathesis(
    command: list[str], env: dict[str, str], cwd: Path, output: IO[bytes], seconds: float
) -> tuple[int, bool]:
    """(exit code, stopped at the cap): SIGINT when the time is spent, so it reports what it found so far."""
    run = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
    try:
        code, capped = run.wait(timeout=max(seconds, 1)), False
    except subprocess.TimeoutExpired:
        run.send_signal(signal.SIGINT)
        try:
            code, capped = run.wait(timeout=60), True
        except subprocess.TimeoutExpired:
            run.kill()
            code, capped = run.wait(), True
    finally:
        if run.poll() is None:  # interrupted ourselves: take schemathesis down too
            run.kill()
            run.wait()
    return code, capped


def junit_counts(path: Path) -> tuple[int, int | None]:
    """(test cases, failing ones) from a JUnit report; (0, None) when there is none."""
    if not path.exists():
        return 0, None
    cases = [case for case in ElementTree.parse(path).getroot().iter("testcase") if case.find("skipped") is None]
    failing = sum(1 for case in cases if case.find("failure") is not None or case.find("error") is not None)
    return len(cases), failing


def server_errors(log_path: Path) -> list[str]:
    """The 5xx answers in the server's access log and the last line of each traceback, counted."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    found = Counter(f"HTTP {match.group(1)}" for line in lines if (match := SERVER_ERROR.search(line)))
    frame: str | None = None  # inside a traceback: its last frame in awda's own code
    last = ""
    for line in lines:
        if line.startswith("Traceback"):
            frame = ""
        elif line.startswith(CHAINED) and last:
            found[last] -= 1  # the cause of the exception that follows: count that one only
        elif frame is not None and (own := OWN_FRAME.search(line)):
            frame = own.group(1)
        elif frame is not None and line and not line.startswith((" ", "\t")):
            last = f"  {line[:300]} (at {frame or '?'})"
            found[last] += 1
            frame = None
    return [f"{count:>6} x {text_}" for text_, count in found.items() if count > 0]


def main() -> int:
    budget = Budget.from_env()
    # A TERM (CI's timeout, `kill`) unwinds like Ctrl-C: the server is stopped, the folder and schema removed.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    print(f"fuzz: {budget.engine}, seeding, then at most {budget.seconds:.0f} s in all", flush=True)
    with tempfile.TemporaryDirectory(prefix="awda-fuzz-") as temporary, database(budget.engine, Path(temporary)) as url:
        folder = Path(temporary)
        env = awda_env(folder, url)
        seeded = seed(env, budget.households)
        log_path = folder / "server.log"
        with serving(env, log_path) as base:
            config = folder / "schemathesis.toml"
            write_config(config, known_values(base, seeded["token"], seeded["card"]))
            outcomes = [schemathesis("anonymous", base, config, budget, 0.3, [])]
            admin_header = ["--header", f"Authorization: Bearer {seeded['token']}", "--exclude-operation-id", SIGN_OUT]
            outcomes.append(schemathesis("admin", base, config, budget, 1.0, admin_header))
        return report(outcomes, server_errors(log_path))


def report(outcomes: list[Outcome], errors: list[str]) -> int:
    print(*(outcome.line() for outcome in outcomes), sep="\n")
    if errors:
        print("5xx answers and tracebacks in the server's log:", *errors, sep="\n")
    failed = sum(outcome.problems or int(outcome.failed) for outcome in outcomes) or int(bool(errors))
    passed = sum(outcome.cases for outcome in outcomes) - sum(outcome.problems or 0 for outcome in outcomes)
    print(f"fuzz: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
