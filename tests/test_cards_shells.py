"""Cards through the shells users touch: the `awda cards` commands and `/api/v1/cards`."""

from __future__ import annotations

import base64
import csv
import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from awda.access.services import SYSTEM
from awda.cards.keys import create_issuer_key
from awda.cards.scan import card_text_from_image
from awda.runtime import Runtime
from awda.web.app import create_app
from tests.cards_support import AGREEMENT, agreement, consenting_household
from tests.conftest import Done
from tests.shared_data import reference_data
from tests.test_api import API, login, problem
from tests.test_import import household_rows, write_csv

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

Awda = Callable[..., Done]
DGC = reference_data("dgc") / "cases"


def _one(done: Done) -> Any:
    return json.loads(done.stdout)


def _registered_person(awda: Awda, tmp_path: Path) -> str:
    rows = household_rows("card-h1")
    for row in rows:
        row["consent_purposes"] = "registration movement card card_name"
    awda("import", "registrations", str(write_csv(tmp_path / "r.csv", rows)))
    household = _one(awda("households", "list", "--json"))["items"][0]["uid"]
    return str(_one(awda("households", "show", household, "--json"))["members"][0]["uid"])


def _agreements_file(tmp_path: Path) -> Path:
    terms = json.dumps([{"term_id": "NHOMS-T1", "kind": "no_arrest", "duration_days": 180, "applies_to": "all"}])
    path = tmp_path / "agreements.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["agreement_id", "name_en", "name_ar", "area_pcode", "guarantor", "signed_on", "terms"])
        writer.writerow([AGREEMENT, "Northern Homs", "اتفاق ريف حمص", "SY0403", "Guarantor", "2018-05-02", terms])
    return path


def test_cli_issue_print_verify_revoke(awda: Awda, tmp_path: Path) -> None:
    awda("init", "--demo-gazetteer")
    person = _registered_person(awda, tmp_path)
    assert _one(awda("agreements", "import", str(_agreements_file(tmp_path)), "--json"))["created"] == 1
    awda("cards", "verify", "AW1:XYZ", expect=1)  # no key yet: one clear line
    kid = _one(awda("cards", "keys", "create", "--json"))["kid"]
    png = tmp_path / "card.png"
    card = _one(awda("cards", "issue", "--person", person, "--agreement", AGREEMENT, "--png", str(png), "--json"))
    assert card["kid"] == kid and card["qr_text"].startswith("AW1:")
    trust, status = tmp_path / "trust.json", tmp_path / "status.cwt"
    awda("cards", "keys", "export", "--out", str(trust))
    awda("cards", "status-list", "--out", str(status))
    offline = ["--trust", str(trust), "--status-list", str(status), "--json"]
    verified = _one(awda("cards", "verify", card["qr_text"], *offline))
    assert verified["valid"] and verified["checks"]["status"] == "valid"
    assert _one(awda("cards", "verify", "--image", str(png), *offline))["claims"]["card_id"] == card["card_id"]
    assert "VALID" in awda("cards", "verify", card["qr_text"]).stdout  # this installation's keys and list
    tampered = card["qr_text"][:-3] + ("A" if card["qr_text"][-3] != "A" else "B") + card["qr_text"][-2:]
    refused = _one(awda("cards", "verify", tampered, *offline, expect=1))
    assert not refused["valid"] and refused["errors"]
    awda("cards", "revoke", card["card_id"], "--reason", "lost")
    awda("cards", "status-list", "--out", str(status))
    revoked = _one(awda("cards", "verify", card["qr_text"], *offline, expect=1))
    assert revoked["checks"]["status"] == "revoked"
    listed = _one(awda("cards", "list", "--person", person, "--json"))
    assert [row["revoked_reason"] for row in listed] == ["lost"]


def test_cli_refuses_bad_input_in_one_line(awda: Awda, tmp_path: Path) -> None:
    awda("init", "--demo-gazetteer")
    awda("cards", "keys", "create")
    for arguments in (
        ("cards", "verify"),
        ("cards", "verify", "AW1:X", "--at", "yesterday"),
        ("cards", "verify", "AW1:X", "--profile", "vc"),
        ("cards", "revoke", "0190aaaa-0000-7000-8000-000000000000", "--reason", "because"),
        ("cards", "keys", "create", "--alg", "RS256"),
    ):
        done = awda(*arguments, expect=2)
        assert done.stderr.startswith("error:") and len(done.stderr.strip().splitlines()) == 1
    not_an_image = tmp_path / "card.png"
    not_an_image.write_text("no picture", encoding="utf-8")
    assert "cannot read" in awda("cards", "verify", "--image", str(not_an_image), expect=2).stderr


def test_cli_hcert_profile_checks_an_eu_dcc_case(awda: Awda, tmp_path: Path) -> None:
    case_file = DGC / "DE_1.json"
    case = json.loads(case_file.read_text(encoding="utf-8"))
    certificate = tmp_path / "signer.b64"
    certificate.write_text(case["TESTCTX"]["CERTIFICATE"], encoding="ascii")
    clock = case["TESTCTX"]["VALIDATIONCLOCK"]
    expected = case["EXPECTEDRESULTS"]
    arguments = ("cards", "verify", case["PREFIX"], "--profile", "hcert", "--trust", str(certificate), "--at", clock)
    result = _one(awda(*arguments, "--json", expect=0 if all(expected.values()) else 1))
    if "EXPECTEDVERIFY" in expected:
        assert result["checks"]["verify"] is expected["EXPECTEDVERIFY"]


@pytest.fixture
def client(runtime: Runtime, session: Session, gazetteer: None) -> Iterator[TestClient]:
    agreement(session)
    create_issuer_key(session, runtime.vault, SYSTEM, runtime.settings.card_issuer)
    app: FastAPI = create_app(runtime.settings, runtime)
    with TestClient(app) as opened:
        yield opened


def test_api_issue_print_verify_revoke(client: TestClient, runtime: Runtime, session: Session, tmp_path: Path) -> None:
    person = consenting_household(runtime, session, ("card",)).person_uids[0]
    coordinator = login(client, session, "coord", "coordinator")
    issued = client.post(f"{API}/cards", json={"person": person, "agreement": AGREEMENT}, headers=coordinator)
    assert issued.status_code == 201, issued.text
    card = issued.json()
    assert client.get(f"{API}/cards/{card['card_id']}", headers=coordinator).json()["revoked"] is False
    png = client.get(f"{API}/cards/{card['card_id']}/card.png", headers=coordinator)
    assert png.headers["content-type"] == "image/png"
    (tmp_path / "card.png").write_bytes(png.content)
    assert card_text_from_image(tmp_path / "card.png") == card["qr_text"]
    assert client.get(f"{API}/cards/{card['card_id']}/card.pdf", headers=coordinator).content.startswith(b"%PDF")
    # Verification and its lists are public: no token.
    verified = client.post(f"{API}/cards/verify", json={"text": card["qr_text"]}).json()
    assert verified["valid"] and verified["checks"]["status"] == "valid"
    trust = client.get(f"{API}/cards/trust-list.json").json()
    assert [key["kid"] for key in trust["keys"]] == [card["kid"]]
    assert base64.b64decode(trust["keys"][0]["public_key"])
    status = client.get(f"{API}/cards/status-list.cwt")
    assert status.headers["content-type"] == "application/statuslist+cwt" and status.content[:1] == b"\xd2"
    revoked = client.post(f"{API}/cards/{card['card_id']}/revoke", json={"reason": "stolen"}, headers=coordinator)
    assert revoked.json()["revoked_reason"] == "stolen"
    assert client.post(f"{API}/cards/verify", json={"text": card["qr_text"]}).json()["checks"]["status"] == "revoked"
    problem(client.post(f"{API}/cards/{card['card_id']}/revoke", json={"reason": "stolen"}, headers=coordinator), 409)


def test_api_refuses_bad_cards_and_bad_requests(client: TestClient, session: Session) -> None:
    garbage = client.post(f"{API}/cards/verify", json={"text": "AW1:%%%"}).json()
    assert garbage["valid"] is False and garbage["checks"]["b45decode"] is False and garbage["errors"]
    problem(client.post(f"{API}/cards/verify", json={"text": "A" * 9000}), 422)
    registrar = login(client, session, "reg", "registrar")
    refused = client.post(f"{API}/cards", json={"person": "x", "agreement": AGREEMENT}, headers=registrar)
    problem(refused, 403)
