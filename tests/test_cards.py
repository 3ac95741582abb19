"""Cards through awda's own services, on SQLite and PostgreSQL: issue, print, scan, verify, revoke."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.holders import card_text_for
from awda.access.services import SYSTEM
from awda.audit.models import Event
from awda.cards import documents, keys, services
from awda.cards.models import Card
from awda.cards.printing import pdf_text, render_pdf, render_png
from awda.cards.scan import card_text_from_image
from awda.cards.trust import TrustList
from awda.cards.verify import verify_card
from awda.db import utcnow
from awda.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from awda.households.erasure import erase_household
from awda.runtime import Runtime
from tests import factories
from tests.cards_support import AGREEMENT, AGREEMENT_AR, card_world, consenting_household
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("gazetteer")


def _trust(session: Session) -> TrustList:
    return TrustList.from_json(keys.trust_list_document(session))


def _status(runtime: Runtime, session: Session) -> bytes:
    return services.status_list_document(session, runtime.vault, runtime.settings)


def test_issue_print_scan_verify_round_trip(runtime: Runtime, session: Session, tmp_path: Path) -> None:
    world = card_world(runtime, session)
    card = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    assert card.qr_text.startswith("AW1:")
    assert card.holder_data
    pdf = render_pdf(documents.printable_cards(session, runtime.vault, SYSTEM, [card.card_id]))
    image = tmp_path / "card.png"
    image.write_bytes(render_png(pdf))
    scanned = card_text_from_image(image)
    assert scanned == card.qr_text
    result = verify_card(scanned, _trust(session), _status(runtime, session), utcnow()).as_dict()
    assert result["valid"], result["errors"]
    assert result["checks"]["status"] == "valid", result
    holder = result["claims"]["holder"]
    assert holder["name_ar"] == f"{factories.HEAD_NAME_AR} {factories.FAMILY_AR}"
    assert holder["name_lat"] == f"{factories.HEAD_NAME_LAT} {factories.FAMILY_LAT}"
    # Arabic goes onto paper shaped by HarfBuzz but stays logical-order text (search, screen readers).
    printed = pdf_text(pdf)
    assert factories.HEAD_NAME_AR in printed
    assert AGREEMENT_AR in printed
    assert "يجب عدم التعرض له" in printed


def test_holder_data_only_with_card_name_consent(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session, purposes=("card",))
    card = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    result = verify_card(card.qr_text, _trust(session), None, utcnow()).as_dict()
    assert not card.holder_data
    assert result["claims"].get("holder") is None
    assert result["checks"]["status"] == "unknown"


def test_no_card_without_card_consent(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session, purposes=())
    with pytest.raises(Conflict, match="not consented to a protection card"):
        services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    assert session.scalar(select(Card.id)) is None


def test_unknown_agreement_and_person(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    with pytest.raises(NotFound, match="agreement"):
        services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, "AG-NONE")
    with pytest.raises(NotFound, match="person"):
        services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, "0" * 36, AGREEMENT)


def test_revocation_reaches_the_status_list(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    first = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    second = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    assert (first.status_index, second.status_index) == (0, 1)
    with pytest.raises(ValidationFailed, match="reason"):
        services.revoke_card(session, SYSTEM, first.card_id, "because")
    services.revoke_card(session, SYSTEM, first.card_id, "lost")
    with pytest.raises(Conflict, match="revoked already"):
        services.revoke_card(session, SYSTEM, first.card_id, "lost")
    status = _status(runtime, session)
    revoked = verify_card(first.qr_text, _trust(session), status, utcnow()).as_dict()
    assert revoked["checks"]["status"] == "revoked"
    assert not revoked["valid"]
    assert verify_card(second.qr_text, _trust(session), status, utcnow()).as_dict()["valid"]
    actions = list(session.scalars(select(Event.action).where(Event.subject_type == "card")))
    assert actions.count("issue_card") == 2
    assert actions.count("revoke_card") == 1


def test_rotated_key_keeps_verifying_its_cards(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    old = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    keys.create_issuer_key(session, runtime.vault, SYSTEM, runtime.settings.card_issuer, "EdDSA")
    new = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    assert old.kid != new.kid
    listed = keys.list_keys(session)
    assert [key["active"] for key in listed] == [False, True]
    assert listed[0]["retired_at"] is not None
    trust, status = _trust(session), _status(runtime, session)
    for card in (old, new):
        result = verify_card(card.qr_text, trust, status, utcnow()).as_dict()
        assert result["valid"], result["errors"]
        assert result["kid"] == card.kid


def test_retired_key_leaves_the_trust_list_when_its_cards_expire(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    card = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    keys.create_issuer_key(session, runtime.vault, SYSTEM, runtime.settings.card_issuer)
    assert len(keys.trust_list_document(session)["keys"]) == 2
    row = session.scalar(select(Card).where(Card.uid == card.card_id))
    assert row is not None
    row.expires_at = utcnow() - timedelta(days=1)
    session.commit()
    assert len(keys.trust_list_document(session)["keys"]) == 1


def test_expired_card(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    card = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    later = utcnow() + timedelta(days=runtime.settings.card_validity_days + 1)
    result = verify_card(card.qr_text, _trust(session), None, later).as_dict()
    assert result["checks"]["verify"] is True
    assert result["checks"]["expiry"] is False
    assert not result["valid"]


def test_scope_and_roles(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    elsewhere = make_user(session, "coord_atmeh", "coordinator", ("ATMEH",))
    coordinator = make_user(session, "coord_rukban", "coordinator", ("RUKBAN",))
    monitor = make_user(session, "monitor_rukban", "monitor", ("RUKBAN",))
    with pytest.raises(NotFound):
        services.issue_card(session, runtime.vault, runtime.settings, elsewhere, world.head, AGREEMENT)
    with pytest.raises(PermissionDenied):
        services.issue_card(session, runtime.vault, runtime.settings, monitor, world.head, AGREEMENT)
    with pytest.raises(PermissionDenied):
        keys.create_issuer_key(session, runtime.vault, coordinator, "x")
    card = services.issue_card(session, runtime.vault, runtime.settings, coordinator, world.head, AGREEMENT)
    with pytest.raises(NotFound):
        services.revoke_card(session, elsewhere, card.card_id, "lost")
    assert services.revoke_card(session, monitor, card.card_id, "misuse")["revoked"]


def test_batch_is_checked_before_any_card_is_issued(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    refusing = consenting_household(runtime, session, ())
    members = services.household_person_uids(session, SYSTEM, world.household.household_uid)
    with pytest.raises(Conflict, match="not consented"):
        services.issue_cards(
            session, runtime.vault, runtime.settings, SYSTEM, [*members, refusing.person_uids[0]], AGREEMENT
        )
    assert session.scalar(select(Card.id)) is None
    issued = services.issue_cards(session, runtime.vault, runtime.settings, SYSTEM, members, AGREEMENT)
    assert [card.person for card in issued] == members
    assert len({card.status_index for card in issued}) == len(members)
    pdf = render_pdf(documents.printable_cards(session, runtime.vault, SYSTEM, [c.card_id for c in issued]))
    assert pdf_text(pdf).count("Protection card") == len(members)


def test_erasure_shreds_the_card_text_but_not_the_card(runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    card = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    erase_household(session, SYSTEM, world.household.household_uid)
    row = session.scalar(select(Card).where(Card.uid == card.card_id))
    assert row is not None
    with pytest.raises(Conflict, match="erased"):
        card_text_for(session, runtime.vault, SYSTEM, row)
    # The holder still carries the card and still needs its protection.
    assert verify_card(card.qr_text, _trust(session), _status(runtime, session), utcnow()).as_dict()["valid"]


def test_no_name_in_the_database_file(runtime: Runtime, session: Session, settings: object) -> None:
    world = card_world(runtime, session)
    services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, world.head, AGREEMENT)
    url = runtime.settings.effective_database_url
    if not url.startswith("sqlite"):
        pytest.skip("raw file check on the embedded database only")
    runtime.engine.dispose()
    path = Path(url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for secret in (factories.HEAD_NAME_AR, factories.HEAD_NAME_LAT, factories.FAMILY_AR):
        assert secret.encode() not in raw


def test_verify_locally_without_keys_is_a_clear_error(runtime: Runtime, session: Session) -> None:
    with pytest.raises(Conflict, match="no card signing key"):
        documents.verify_locally(session, runtime.vault, runtime.settings, "AW1:XYZ")
