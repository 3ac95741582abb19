"""Convoys through the shells users touch: `awda convoys ...` and `/api/v1/convoys`, `/api/v1/status`."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from awda.runtime import Runtime
from awda.web.app import create_app
from tests.conftest import Done
from tests.test_api import API, TestClient, if_match, login, problem
from tests.test_import import household_rows, write_csv

pytestmark = pytest.mark.usefixtures("gazetteer")
Awda = Callable[..., Done]
DEPARTS = date.today() + timedelta(days=3)
WEEK = "{}-W{:02d}".format(*DEPARTS.isocalendar()[:2])


def _json(done: Done) -> Any:
    return json.loads(done.stdout)


def test_the_convoy_commands_from_list_to_arrival(awda: Awda, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = tmp_path / "outbox.jsonl"
    monkeypatch.setenv("AWDA_MESSAGE_SENDER", f"file:{outbox}")
    awda("init", "--demo-gazetteer")
    rows = household_rows("conv-h1") + household_rows("conv-h2", **{f"{i}__today": "2024-03-01" for i in range(3)})
    awda("import", "registrations", str(write_csv(tmp_path / "r.csv", rows)))
    lists = _json(awda("convoys", "waitlist", "--json"))
    assert lists == [{"origin": "RUKBAN", "destination": "C4401", "households": 2, "people": 6}]
    ordered = _json(awda("convoys", "waitlist", "--origin", "RUKBAN", "--destination", "C4401", "--json"))
    first = ordered["items"][0]["household"]
    awda("convoys", "schedule", "--code", "CV-T1", "--site", "RUKBAN", "--date", DEPARTS.isoformat(),
         "--destinations", "C4401;C4301", "--seats", "4")  # fmt: skip
    planned = _json(awda("convoys", "plan", "--week", WEEK, "--json"))
    assert planned["assigned_households"] == 1 and planned["messages"] == {"sent": 1, "unreachable": 0}
    assert DEPARTS.isoformat() in json.loads(outbox.read_text(encoding="utf-8"))["text"]
    issued = _json(awda("convoys", "pin", first, "--json"))
    status = _json(awda("convoys", "status", "--reference", issued["reference"], "--pin", issued["pin"], "--json"))
    assert status["status"] == "assigned" and status["convoy"]["reconfirmed"] is False
    awda("convoys", "status", "--reference", issued["reference"], "--pin", issued["pin"], "--reconfirm")
    members = [m["uid"] for m in _json(awda("households", "show", first, "--json"))["members"]]
    boarded = _json(awda("convoys", "checkin", "CV-T1", *[f"--person={m}" for m in members], "--json"))
    assert boarded["checked_in"] == 3
    made = _json(awda("convoys", "manifest", "CV-T1", "--out", str(tmp_path / "m"), "--json"))
    assert Path(made["pdf"]).read_bytes().startswith(b"%PDF")
    with Path(made["csv"]).open(encoding="utf-8", newline="") as handle:
        cells = list(csv.DictReader(handle))[1:]  # the second row holds the HXL hashtags
    assert len(cells) == 3 and {row["departed"] for row in cells} == {"true"} and "أحمد" in cells[0]["name_ar"]
    assert _json(awda("convoys", "depart", "CV-T1", "--json"))["boarded_households"] == 1
    arrived = awda("convoys", "checkin", "CV-T1", "--arrival", *[f"--person={m}" for m in members[:2]], "--json")
    assert _json(arrived)["checked_in"] == 2
    assert _json(awda("convoys", "missing", "--hours", "1", "--json"))["total"] == 0  # left less than an hour ago
    shown = _json(awda("convoys", "show", "CV-T1", "--json"))
    assert shown["safe_arrival"]["departed"] == 3 and shown["safe_arrival"]["arrived"] == 2
    assert [c["code"] for c in _json(awda("convoys", "list", "--week", WEEK, "--json"))["items"]] == ["CV-T1"]
    bad = awda("convoys", "plan", "--week", "2026-49", expect=2)
    assert "ISO week" in bad.stderr
    wrong = awda("convoys", "status", "--reference", issued["reference"], "--pin", "000000", expect=1)
    assert "not right" in wrong.stderr
    late = awda("convoys", "checkin", "CV-T1", f"--person={members[2]}", expect=1)
    assert "boarding is closed" in late.stderr


def test_the_api_plans_prints_checks_in_and_answers_households(runtime: Runtime, session: Session) -> None:
    with TestClient(create_app(runtime.settings, runtime)) as client:
        registrar = login(client, session, "registrar1", "registrar")
        coordinator = login(client, session, "coordinator1", "coordinator")
        analyst = login(client, session, "analyst1", "analyst")
        from tests.test_api import household_json

        created = client.post(f"{API}/households", json=household_json(), headers=registrar).json()
        body = {
            "code": "cv-a1",
            "site": "rukban",
            "departs_on": DEPARTS.isoformat(),
            "destinations": ["C4301"],
            "seats": 8,
        }
        convoy = client.post(f"{API}/convoys", json=body, headers=coordinator)
        assert convoy.status_code == 201 and convoy.json()["code"] == "CV-A1", convoy.text
        problem(client.post(f"{API}/convoys", json=body, headers=coordinator), 409)
        problem(client.post(f"{API}/convoys", json=body | {"seats": 0}, headers=coordinator), 422)
        problem(client.post(f"{API}/convoys", json=body | {"code": "X"}, headers=registrar), 403)
        listed = client.get(f"{API}/convoys/waitlists/RUKBAN/C4301", headers=coordinator).json()
        assert listed["items"][0]["expected_convoy"] == "CV-A1"
        plan = client.post(f"{API}/convoys/plan", json={"week": WEEK, "notify": False}, headers=coordinator)
        assert plan.json()["assigned_households"] == 1, plan.text
        pdf = client.get(f"{API}/convoys/CV-A1/manifest.pdf", headers=coordinator)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["cache-control"] == "no-store"
        table = client.get(f"{API}/convoys/CV-A1/manifest.csv", headers=coordinator)
        assert "عبد الستار" in table.text
        problem(client.get(f"{API}/convoys/CV-A1/manifest.csv", headers=analyst), 403)
        pin = client.post(f"{API}/households/{created['uid']}/pin", headers=if_match(registrar, '"v1"'))
        assert pin.status_code == 201 and pin.headers["cache-control"] == "no-store", pin.text
        secret = {"reference": pin.json()["reference"], "pin": pin.json()["pin"]}
        own = client.post(f"{API}/status", json=secret)
        assert own.status_code == 200 and own.json()["convoy"]["departs_on"] == DEPARTS.isoformat(), own.text
        assert "عبد الستار" not in own.text and created["uid"] not in own.text
        wrong = problem(client.post(f"{API}/status", json=secret | {"pin": "999999"}), 401)
        unknown = problem(client.post(f"{API}/status", json={"reference": "ABCD-EFGH-JK", "pin": "1"}), 401)
        assert wrong["detail"] == unknown["detail"]
        departures = f"{API}/convoys/CV-A1/departures"
        problem(client.post(departures, json={"persons": created["persons"]}, headers=coordinator), 409)
        assert client.post(f"{API}/status/reconfirm", json=secret).json()["convoy"]["reconfirmed"] is True
        boarded = client.post(departures, json={"persons": created["persons"]}, headers=coordinator)
        assert boarded.json()["checked_in"] == 3, boarded.text
        arrivals = f"{API}/convoys/CV-A1/arrivals"
        landed = client.post(arrivals, json={"persons": created["persons"][:1]}, headers=coordinator)
        assert landed.json()["checked_in"] == 1, landed.text
        assert client.get(f"{API}/convoys/missing?hours=1", headers=coordinator).json()["total"] == 0
        view = client.get(f"{API}/convoys/CV-A1", headers=coordinator).json()
        assert view["safe_arrival"]["arrived"] == 1 and view["safe_arrival"]["departed"] == 3


def test_a_schedule_file_is_imported_whole_or_not_at_all(awda: Awda, tmp_path: Path) -> None:
    awda("init", "--demo-gazetteer")
    header = "convoy_id,date,origin,destinations,seats,agreement,guarantor\n"
    good = f"CV-F1,{DEPARTS},RUKBAN,C4301;C4401,40,,Guarantor A\nCV-F2,{DEPARTS},ALWAER,C4301,20,,\n"
    path = tmp_path / "convoys.csv"
    path.write_text(header + good + f"CV-F3,{DEPARTS},RUKBAN,NOWHERE,10,,\n", encoding="utf-8")
    failed = awda("import", "convoys", str(path), expect=2)
    assert "row 4" in failed.stderr and "NOWHERE" in failed.stderr
    assert _json(awda("convoys", "list", "--json"))["total"] == 0
    path.write_text(header + good, encoding="utf-8")
    assert _json(awda("import", "convoys", str(path), "--json")) == {"rows": 2, "scheduled": 2, "skipped": 0}
    assert _json(awda("import", "convoys", str(path), "--json")) == {"rows": 2, "scheduled": 0, "skipped": 2}
    shown = _json(awda("convoys", "show", "CV-F1", "--json"))
    assert shown["destinations"] == ["C4301", "C4401"] and shown["guarantor"] == "Guarantor A"
