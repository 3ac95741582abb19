"""The `awda` command as a user runs it (a real subprocess), on both engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Done
from tests.test_import import household_rows, write_csv

Awda = Callable[..., Done]
AWDA = [sys.executable, "-c", "from awda.cli.main import main; main()"]


def test_a_real_process_reports_errors_in_one_line(tmp_path: Path) -> None:
    env = os.environ | {"AWDA_DATA_DIR": str(tmp_path / "data")}
    env.pop("AWDA_MASTER_KEY", None)
    done = subprocess.run(
        [*AWDA, "stats", "summary"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: no master key")
    assert len(done.stderr.strip().splitlines()) == 1


def test_init_import_and_summary(awda: Awda, tmp_path: Path) -> None:
    init = json.loads(awda("init", "--demo-gazetteer", "--json").stdout)
    assert init["keyfile_created"] is True and init["admin"]["username"] == "admin"
    assert (tmp_path / "data" / "master.key").stat().st_mode & 0o077 == 0
    path = write_csv(tmp_path / "reg.csv", household_rows("h1") + household_rows("h2", 2))
    first = json.loads(awda("import", "registrations", str(path), "--json").stdout)
    assert (first["rows"], first["households"], first["persons"], first["skipped"]) == (5, 2, 5, 0)
    again = json.loads(awda("import", "registrations", str(path), "--json").stdout)
    assert (again["households"], again["persons"], again["skipped"]) == (0, 0, 2)
    summary = json.loads(awda("stats", "summary", "--json").stdout)
    assert (summary["households"], summary["persons"], summary["sites"]) == (2, 5, 6)
    again_init = json.loads(awda("init", "--json").stdout)
    assert again_init["keyfile_created"] is False and again_init["admin"] is None


def test_bad_input_is_one_line_and_nonzero(awda: Awda, tmp_path: Path) -> None:
    awda("init", "--demo-gazetteer")
    bad = write_csv(tmp_path / "bad.csv", household_rows("h1", **{"1__sex": "x"}))
    done = awda("import", "registrations", str(bad), "--json", expect=1)
    assert json.loads(done.stdout)["errors"][0]["row"] == 3
    missing = awda("households", "show", "no-such-household", expect=1)
    assert missing.stderr.strip() == "error: no household no-such-household"
    awda("import", "registrations", str(tmp_path / "absent.csv"), expect=2)


def test_users_tokens_and_scoped_listing(awda: Awda, tmp_path: Path) -> None:
    awda("init", "--demo-gazetteer")
    awda("import", "registrations", str(write_csv(tmp_path / "r.csv", household_rows("h1"))))
    created = json.loads(
        awda("users", "create", "reg-atmeh", "--role", "registrar", "--site", "ATMEH", "--json").stdout
    )
    assert len(created["password"]) >= 16
    listing = json.loads(awda("--user", "reg-atmeh", "households", "list", "--json").stdout)
    assert listing["total"] == 0
    token = json.loads(awda("users", "token", "reg-atmeh", "--json").stdout)["token"]
    assert token.startswith("awda_")
    awda("--user", "reg-atmeh", "places", "load-demo", expect=1)


def test_simulate_writes_files(awda: Awda, tmp_path: Path) -> None:
    summary = json.loads(
        awda("simulate", "--households", "30", "--seed", "4", "--out", str(tmp_path / "s"), "--json").stdout
    )
    assert summary["households"] == 30
    assert (tmp_path / "s" / "registrations.csv").exists()
    assert (tmp_path / "s" / "truth" / "manifest.json").exists()


def test_demo_without_serving(awda: Awda) -> None:
    result = json.loads(awda("demo", "--households", "60", "--no-serve", "--json").stdout)
    assert result["summary"]["households"] >= 60
    assert result["import"]["error_count"] == 0
    assert result["admin"]["password"]
    cards = result["cards"]
    assert cards["issued"] >= 1
    folder = Path(cards["folder"])
    assert (folder / "cards.pdf").read_bytes().startswith(b"%PDF")
    offline = ["--trust", str(folder / "trust-list.json"), "--status-list", str(folder / "status-list.cwt")]
    assert json.loads(awda("cards", "verify", cards["example"], *offline, "--json").stdout)["valid"]
    monitoring = result["monitoring"]
    assert monitoring["arrivals"]["arrivals"] > 0 and monitoring["arrivals"]["skipped"] == 0
    assert Path(monitoring["scorecard"]).read_text(encoding="utf-8").count('dir="rtl"') >= 1
    convoys = result["convoys"]
    assert convoys["booked"] >= 1 and Path(convoys["manifest"]).read_bytes().startswith(b"%PDF")
    status = convoys["status"]
    own = json.loads(
        awda("convoys", "status", "--reference", status["reference"], "--pin", status["pin"], "--json").stdout
    )
    assert own["status"] == "assigned" and "convoy" in own
    assert Path(convoys["flows"]["file"]).exists() and convoys["flows"]["latest"] is not None
    linkage = result["linkage"]
    assert linkage["persons"] == result["summary"]["persons"] and linkage["pairs"] >= linkage["merged"] >= 0
