"""The transparency log on real engines: heads, verification, tampering by SQL and by file, proofs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from awda.access.readers import household_for
from awda.access.services import SYSTEM
from awda.audit import merkle
from awda.audit.encoding import event_leaf_data, tree_head_message
from awda.audit.models import Event, TreeHead
from awda.audit.services import (
    event_row,
    issue_tree_head,
    prove_consistency,
    prove_inclusion,
    record_events,
    verify_log,
)
from awda.cli.main import main
from awda.db import action, make_engine, migrate, session_factory
from awda.errors import Conflict, PermissionDenied, ValidationFailed
from awda.households.services import register_household
from awda.places.services import load_demo_gazetteer
from awda.runtime import Runtime
from awda.vault import Vault, new_master_key_text, parse_master_key
from tests import factories
from tests.conftest import Done, make_user
from tests.test_import import household_rows, write_csv

Awda = Callable[..., Done]


def event_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Event.id).order_by(Event.id)))


def build_signed_log(session: Session, vault: Vault) -> list[dict[str, Any]]:
    """Gazetteer, three registrations, a read, a head, one more registration, a second head."""
    load_demo_gazetteer(session, SYSTEM)
    first = register_household(session, vault, SYSTEM, factories.household())
    for _ in range(2):
        register_household(session, vault, SYSTEM, factories.household())
    household_for(session, vault, SYSTEM, first.household_uid)
    heads = [issue_tree_head(session, vault, SYSTEM)]
    register_household(session, vault, SYSTEM, factories.household(site="ATMEH"))
    heads.append(issue_tree_head(session, vault, SYSTEM))
    return heads


@pytest.fixture
def signed_log(session: Session, runtime: Runtime) -> list[dict[str, Any]]:
    return build_signed_log(session, runtime.vault)


def test_heads_cover_every_event_and_verify(
    session: Session, runtime: Runtime, signed_log: list[dict[str, Any]]
) -> None:
    first, second = signed_log
    assert (first["tree_size"], second["tree_size"]) == (5, 7)
    report = verify_log(session, SYSTEM, runtime.vault)
    assert report == {"ok": True, "size": 8, "root": report["root"], "problems": []}
    # Each head's own event is the leaf right after the tree it signs.
    actions = list(session.scalars(select(Event.action).order_by(Event.id)))
    assert actions[first["tree_size"]] == actions[second["tree_size"]] == "issue_tree_head"
    assert actions[4] == "read_household"
    assert first["kid"] == second["kid"]


def test_a_head_is_signed_over_the_documented_bytes(session: Session, signed_log: list[dict[str, Any]]) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    head = signed_log[0]
    issued_at = datetime.fromisoformat(head["issued_at"].replace("Z", "+00:00"))
    message = tree_head_message(head["tree_size"], bytes.fromhex(head["root"]), issued_at)
    public_key = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(head["public_key"]))
    public_key.verify(bytes.fromhex(head["signature"]), message)  # raises if not


def test_verify_with_published_public_keys(session: Session, signed_log: list[dict[str, Any]]) -> None:
    published = bytes.fromhex(signed_log[0]["public_key"])
    assert verify_log(session, SYSTEM, [published])["ok"]
    stranger = verify_log(session, SYSTEM, [bytes(32)])
    assert not stranger["ok"]
    assert [problem["kind"] for problem in stranger["problems"]] == ["bad_signature", "bad_signature"]


def sql(engine: Engine, statement: str, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), values)


def swap_contents(engine: Engine, first_id: int, second_id: int) -> None:
    columns = "at, actor_id, actor_name, action, subject_type, subject_id, site_id, payload"
    with engine.begin() as connection:
        rows = {
            row[0]: row[1:]
            for row in connection.execute(
                text(f"SELECT id, {columns} FROM events WHERE id IN (:a, :b)"), {"a": first_id, "b": second_id}
            )
        }
        assignments = ", ".join(f"{name} = :{name}" for name in columns.split(", "))
        for target, source in [(first_id, second_id), (second_id, first_id)]:
            values = dict(zip(columns.split(", "), rows[source], strict=True))
            connection.execute(
                text(f"UPDATE events SET {assignments} WHERE id = :target"), {**values, "target": target}
            )


def tamper(engine: Engine, ids: list[int], how: str) -> int:
    """Alter the stored events; returns the first bad leaf index."""
    if how == "update_payload":
        sql(engine, "UPDATE events SET payload = :payload WHERE id = :id", payload='{"members":99}', id=ids[2])
        return 2
    if how == "delete":
        sql(engine, "DELETE FROM events WHERE id = :id", id=ids[3])
        return 3
    if how == "swap":
        swap_contents(engine, ids[1], ids[3])
        return 1
    if how == "update_time":
        sql(engine, "UPDATE events SET at = :at WHERE id = :id", at=datetime(2020, 1, 1, tzinfo=UTC), id=ids[6])
        return 6
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["update_payload", "delete", "swap", "update_time"])
def test_tampering_names_the_first_bad_index(
    session: Session, runtime: Runtime, signed_log: list[dict[str, Any]], how: str
) -> None:
    first_bad = tamper(runtime.engine, event_ids(session), how)
    report = verify_log(session, SYSTEM, runtime.vault)
    assert not report["ok"]
    assert report["problems"][0]["kind"] == "first_bad_index"
    assert report["problems"][0]["index"] == first_bad
    assert {problem["kind"] for problem in report["problems"][1:]} == {"root_mismatch"}


def test_altering_events_and_leaf_cache_together_still_fails(
    session: Session, runtime: Runtime, signed_log: list[dict[str, Any]]
) -> None:
    target = event_ids(session)[3]
    sql(runtime.engine, "UPDATE events SET payload = :payload WHERE id = :id", payload='{"members":99}', id=target)
    row = session.execute(select(*event_columns()).where(Event.id == target)).one()
    forged = merkle.leaf_hash(event_leaf_data(*row))
    session.commit()
    sql(runtime.engine, "UPDATE tree_leaves SET leaf_hash = :hash WHERE event_id = :id", hash=forged, id=target)
    report = verify_log(session, SYSTEM, runtime.vault)
    assert not report["ok"]
    # The cache no longer reproduces any head: only the heads bound the damage (before the first head).
    assert report["problems"][0] == {
        "kind": "first_bad_range",
        "first": 0,
        "last": 4,
        "message": "the first bad leaf is between 0 and 4 (the leaf cache was altered too)",
    }
    with pytest.raises(Conflict, match="latest tree head"):
        issue_tree_head(session, runtime.vault, SYSTEM)


def event_columns() -> list[Any]:
    from awda.audit.log import EVENT_COLUMNS

    return list(EVENT_COLUMNS)


def test_forged_heads_and_keys_are_reported(
    session: Session, runtime: Runtime, signed_log: list[dict[str, Any]]
) -> None:
    sql(runtime.engine, "UPDATE tree_heads SET tree_size = 4 WHERE id = :id", id=signed_log[0]["id"])
    report = verify_log(session, SYSTEM, runtime.vault)
    assert [problem["kind"] for problem in report["problems"]] == ["bad_signature"]
    sql(runtime.engine, "UPDATE log_keys SET public_key = :key", key=bytes(32))
    kinds = [problem["kind"] for problem in verify_log(session, SYSTEM, runtime.vault)["problems"]]
    assert kinds == ["bad_signature", "bad_signature", "log_key"]


def test_tampering_after_a_new_head_is_still_named(
    session: Session, runtime: Runtime, signed_log: list[dict[str, Any]]
) -> None:
    tamper(runtime.engine, event_ids(session), "update_payload")
    issue_tree_head(session, runtime.vault, SYSTEM)  # signs the committed leaves, not the altered event
    report = verify_log(session, SYSTEM, runtime.vault)
    assert report["problems"][0]["index"] == 2
    assert len([problem for problem in report["problems"] if problem["kind"] == "root_mismatch"]) == 3


def test_proofs_verify_against_signed_heads(session: Session, signed_log: list[dict[str, Any]]) -> None:
    first, second = signed_log
    for index in range(second["tree_size"]):
        evidence = prove_inclusion(session, SYSTEM, index)
        assert evidence["tree_head"]["root"] == evidence["root"] == second["root"]
        proof = merkle.proof_from_hex(",".join(evidence["proof"]))
        leaf = bytes.fromhex(evidence["leaf_hash"])
        assert merkle.verify_inclusion(leaf, index, second["tree_size"], proof, bytes.fromhex(second["root"]))
    consistency = prove_consistency(session, SYSTEM, first["tree_size"], second["tree_size"])
    assert (consistency["root1"], consistency["root2"]) == (first["root"], second["root"])
    assert consistency["tree_head1"]["id"] == first["id"]
    proof = [bytes.fromhex(node) for node in consistency["proof"]]
    roots = bytes.fromhex(first["root"]), bytes.fromhex(second["root"])
    assert merkle.verify_consistency(first["tree_size"], second["tree_size"], proof, *roots)
    with pytest.raises(ValidationFailed, match="not covered"):
        prove_inclusion(session, SYSTEM, 7)
    assert prove_inclusion(session, SYSTEM, 7, 8)["tree_head"] is None


def test_reading_the_log_needs_the_audit_permission(session: Session, runtime: Runtime, gazetteer: None) -> None:
    auditor = make_user(session, "auditor1", "auditor")
    registrar = make_user(session, "registrar1", "registrar", ("RUKBAN",))
    issue_tree_head(session, runtime.vault, SYSTEM)
    assert verify_log(session, auditor, runtime.vault)["ok"]
    assert prove_inclusion(session, auditor, 0)["index"] == 0
    for attempt in [
        lambda: verify_log(session, registrar, runtime.vault),
        lambda: prove_inclusion(session, registrar, 0),
        lambda: prove_consistency(session, registrar, 1, 2),
        lambda: issue_tree_head(session, runtime.vault, auditor),
    ]:
        with pytest.raises(PermissionDenied):
            attempt()


# The same events on any engine give this root (it pins the leaf encoding: docs/audit.md).
PINNED_ROOT = "c4be746e76984e6f1fcbffe794702c5902ea5ac1ce60485d09c9033cf39a3b40"
FIXED_EVENTS = [
    {
        "id": 1,
        "at": datetime(2024, 2, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3))),
        "actor_id": None,
        "actor_name": "system",
        "action": "register_household",
        "subject_type": "household",
        "subject_id": "0190a0b2-7c3e-7a11-8f00-0123456789ab",
        "site_id": None,
        "payload": '{"members":3}',
    },
    {
        "id": 2,
        "at": datetime(2024, 2, 1, 9, 30, tzinfo=UTC),
        "actor_id": None,
        "actor_name": "مسجل",
        "action": "read_household",
        "subject_type": "household",
        "subject_id": "0190a0b2-7c3e-7a11-8f00-0123456789ab",
        "site_id": None,
        "payload": '{"note":"عودة","personal":true}',
    },
    {
        "id": 7,
        "at": datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
        "actor_id": None,
        "actor_name": "system",
        "action": "issue_tree_head",
        "subject_type": "tree_head",
        "subject_id": "1",
        "site_id": None,
        "payload": "{}",
    },
]


def test_same_events_give_the_same_root_on_every_engine(session: Session) -> None:
    rows = []
    for fixed in FIXED_EVENTS:
        row = event_row(SYSTEM, fixed["action"], fixed["subject_type"], fixed["subject_id"], {}, None, fixed["at"])
        rows.append({**row, "id": fixed["id"], "actor_name": fixed["actor_name"], "payload": fixed["payload"]})
    with action(session):
        record_events(session, rows)
    expected = merkle.root_of(merkle.leaf_hash(event_leaf_data(*event.values())) for event in FIXED_EVENTS)
    report = verify_log(session, SYSTEM, [])
    assert report == {"ok": True, "size": 3, "root": expected.hex(), "problems": []}
    assert report["root"] == PINNED_ROOT


def test_editing_the_sqlite_file_bytes_is_detected(tmp_path: Path) -> None:
    database = tmp_path / "awda.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    vault = Vault(parse_master_key(new_master_key_text()))
    with session_factory(engine)() as session:
        heads = build_signed_log(session, vault)
        first_head_event = session.scalars(select(Event).order_by(Event.id)).all()[heads[0]["tree_size"]]
        payload = first_head_event.payload.encode()
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    content = database.read_bytes()
    assert content.count(payload) == 1  # the root in the payload makes it unique
    position = content.index(payload) + payload.index(b'"root":"') + len(b'"root":"')
    altered = bytearray(content)
    altered[position] = ord("0") if altered[position] != ord("0") else ord("1")
    database.write_bytes(bytes(altered))
    engine = make_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        report = verify_log(session, SYSTEM, vault)
    engine.dispose()
    assert not report["ok"]
    assert report["problems"][0]["index"] == heads[0]["tree_size"]
    assert report["problems"][0]["message"] == f"leaf 5: event {first_head_event.id} was changed"


def test_cli_heads_proofs_and_standalone_verifiers(awda: Awda, tmp_path: Path, database_url: str) -> None:
    awda("init", "--demo-gazetteer")
    awda("import", "registrations", str(write_csv(tmp_path / "a.csv", household_rows("h1") + household_rows("h2"))))
    first = json.loads(awda("audit", "head", "--json").stdout)
    awda("import", "registrations", str(write_csv(tmp_path / "b.csv", household_rows("h3"))))
    second = json.loads(awda("audit", "head", "--json").stdout)
    report = json.loads(awda("audit", "verify", "--json").stdout)
    assert list(report) == ["ok", "size", "root", "problems"]
    assert report["ok"]
    assert report["size"] == second["tree_size"] + 1

    index = first["tree_size"] - 1
    evidence = json.loads(awda("audit", "prove", "inclusion", str(index), "--json").stdout)
    assert evidence["size"] == second["tree_size"]
    inclusion = ["--index", str(index), "--size", str(evidence["size"]), "--root", second["root"]]
    proof = ",".join(evidence["proof"])
    good = awda(
        "audit", "verify-inclusion", "--leaf-hash", evidence["leaf_hash"], *inclusion, "--proof", proof, "--json"
    )
    assert json.loads(good.stdout) == {"ok": True}
    flipped = ("0" if evidence["leaf_hash"][0] != "0" else "1") + evidence["leaf_hash"][1:]
    bad = awda("audit", "verify-inclusion", "--leaf-hash", flipped, *inclusion, "--proof", proof, "--json", expect=1)
    assert json.loads(bad.stdout) == {"ok": False}

    sizes = [str(first["tree_size"]), str(second["tree_size"])]
    consistency = json.loads(awda("audit", "prove", "consistency", *sizes, "--json").stdout)
    roots = ["--root1", first["root"], "--root2", second["root"]]
    arguments = ["--size1", sizes[0], "--size2", sizes[1], *roots, "--proof", ",".join(consistency["proof"])]
    assert json.loads(awda("audit", "verify-consistency", *arguments, "--json").stdout) == {"ok": True}
    swapped = ["--size1", sizes[0], "--size2", sizes[1], "--root1", second["root"], "--root2", first["root"]]
    awda("audit", "verify-consistency", *swapped, "--proof", ",".join(consistency["proof"]), expect=1)

    engine = make_engine(database_url)
    sql(engine, "UPDATE events SET payload = :payload WHERE id = (SELECT min(id) FROM events)", payload="{}")
    engine.dispose()
    failed = json.loads(awda("audit", "verify", "--json", expect=1).stdout)
    assert (failed["ok"], failed["problems"][0]["index"]) == (False, 0)


def test_standalone_verifiers_need_no_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ["AWDA_DATABASE_URL", "AWDA_MASTER_KEY", "AWDA_USER", "AWDA_KEYFILE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWDA_DATA_DIR", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)

    def run(*arguments: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["awda", "audit", *arguments])
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    leaf = merkle.leaf_hash(b"only")
    single = ["--index", "0", "--size", "1", "--root", leaf.hex(), "--json"]
    assert run("verify-inclusion", "--leaf-hash", leaf.hex(), *single)[:2] == (0, '{\n  "ok": true\n}\n')
    code, _, err = run("verify-inclusion", "--leaf-hash", "xyz", *single)
    assert (code, err) == (2, "error: --leaf-hash: the value is not hexadecimal\n")
    code, _, err = run(
        "verify-consistency", "--size1", "1", "--size2", "2", "--root1", "00", "--root2", "00", "--proof", "0g"
    )
    assert (code, err) == (2, "error: --proof: proof element 1 is not hexadecimal\n")
    assert run("verify-consistency", "--size1", "1", "--size2", "1", "--root1", "ab", "--root2", "ab")[:2] == (
        0,
        "ok\n",
    )
    assert not (tmp_path / "absent").exists()


def test_head_rows_round_trip_exactly(session: Session, signed_log: list[dict[str, Any]]) -> None:
    stored = session.scalars(select(TreeHead).order_by(TreeHead.id)).all()
    assert [(head.tree_size, head.root_hash.hex()) for head in stored] == [
        (head["tree_size"], head["root"]) for head in signed_log
    ]
