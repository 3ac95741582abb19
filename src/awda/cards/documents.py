"""What the shells hand out: printable cards, and verification against this installation's keys."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.holders import card_text_for
from awda.access.rules import Actor
from awda.agreements.models import Agreement
from awda.agreements.services import agreement_view
from awda.cards.keys import trust_list_document
from awda.cards.models import Card
from awda.cards.printing import PrintableCard, printable
from awda.cards.services import card_by_uid, status_list_document
from awda.cards.trust import TrustList
from awda.cards.verify import Verification, verify_card
from awda.db import utcnow
from awda.errors import Conflict
from awda.settings import Settings
from awda.vault import Vault


def local_trust(session: Session) -> TrustList:
    document = trust_list_document(session)
    if not document["keys"]:
        raise Conflict("this installation has no card signing key yet: run `awda cards keys create`")
    return TrustList.from_json(document)


class StatusListCache:
    """The signed status list, re-signed at most once per `max_age`.

    Public routes hand it out: without a cache every anonymous request would cost a scan of the
    revoked cards and a signature. A revocation made in this process invalidates it at once.
    """

    def __init__(self, max_age: timedelta = timedelta(seconds=60)) -> None:
        self.max_age = max_age
        self._document: bytes | None = None
        self._made_at: datetime | None = None
        self._lock = threading.Lock()

    def document(self, session: Session, vault: Vault, settings: Settings) -> bytes:
        with self._lock:
            now = utcnow()
            if self._document is None or self._made_at is None or now - self._made_at > self.max_age:
                self._document, self._made_at = status_list_document(session, vault, settings, now), now
            return self._document

    def invalidate(self) -> None:
        with self._lock:
            self._document = None


def verify_locally(
    session: Session,
    vault: Vault,
    settings: Settings,
    text: str,
    at: datetime | None = None,
    status_lists: StatusListCache | None = None,
) -> Verification:
    """Verify a card against this installation's trust list and current status list."""
    trust = local_trust(session)
    status = None
    if _has_cards(session):
        cache = status_lists or StatusListCache(timedelta(0))
        status = cache.document(session, vault, settings)
    return verify_card(text, trust, status, at or utcnow())


def _has_cards(session: Session) -> bool:
    return session.scalar(select(Card.id).limit(1)) is not None


def printable_cards(session: Session, vault: Vault, actor: Actor, card_uids: Sequence[str]) -> list[PrintableCard]:
    """Cards ready to print; each text is checked (signature, expiry) before it goes on paper."""
    records = [card_by_uid(session, actor, uid) for uid in card_uids]  # scope first: 404 before anything else
    trust = local_trust(session)
    cards = []
    for uid, card in zip(card_uids, records, strict=True):
        text = card_text_for(session, vault, actor, card)
        result = verify_card(text, trust, None, utcnow())
        checks = result.as_dict()["checks"]
        if not (checks["verify"] and checks["expiry"]):
            raise Conflict(f"card {uid} does not verify any more ({'; '.join(result.as_dict()['errors'])})")
        agreement = session.get(Agreement, card.agreement_id)
        if agreement is None:
            raise Conflict(f"card {uid} names no agreement")
        cards.append(printable(result.as_dict()["claims"], text, agreement_view(session, agreement)))
    return cards
