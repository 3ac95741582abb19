"""`/api/v1/cards`: issue, read, revoke and print cards; public verification and its lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from awda.cards import documents, keys, services
from awda.cards.printing import render_pdf, render_png
from awda.days import Moment
from awda.web.deps import CurrentActor, RuntimeDep, SessionDep, StatusListsDep, VaultDep

router = APIRouter(tags=["cards"])


class IssueIn(BaseModel):
    person: str = Field(description="The holder's person uid.")
    agreement: str = Field(description="The agreement's code.")


class RevokeIn(BaseModel):
    reason: str = Field(description="lost, stolen, misuse, issued_in_error, replaced or holder_request")


class VerifyIn(BaseModel):
    text: str = Field(max_length=8192, description="The card's QR text, AW1:...")
    at: Moment | None = Field(None, description="Verify as of this time (default: now).")


@router.post("/cards", status_code=status.HTTP_201_CREATED)
def issue_card(command: IssueIn, runtime: RuntimeDep, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Issue a protection card; the answer carries its QR text."""
    card = services.issue_card(session, runtime.vault, runtime.settings, actor, command.person, command.agreement)
    return card.as_dict()


@router.get("/cards/trust-list.json")
def trust_list(session: SessionDep) -> dict[str, Any]:
    """The public trust list (keys and kids) for offline verifiers."""
    return keys.trust_list_document(session)


@router.get("/cards/status-list.cwt", response_class=Response)
def status_list(runtime: RuntimeDep, session: SessionDep, status_lists: StatusListsDep) -> Response:
    """The signed revocation list (CWT) for offline verifiers (re-signed at most once a minute)."""
    document = status_lists.document(session, runtime.vault, runtime.settings)
    return Response(document, media_type="application/statuslist+cwt")


@router.get("/cards/{card_id}")
def get_card(card_id: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """A card's record (without its text)."""
    return services.card_view(session, services.card_by_uid(session, actor, card_id))


@router.post("/cards/{card_id}/revoke")
def revoke_card(
    card_id: str, command: RevokeIn, session: SessionDep, actor: CurrentActor, status_lists: StatusListsDep
) -> dict[str, Any]:
    revoked = services.revoke_card(session, actor, card_id, command.reason)
    status_lists.invalidate()
    return revoked


@router.get("/cards/{card_id}/card.pdf", response_class=Response)
def card_pdf(card_id: str, session: SessionDep, vault: VaultDep, actor: CurrentActor) -> Response:
    """The printable card (A6, Arabic and English)."""
    pdf = render_pdf(documents.printable_cards(session, vault, actor, [card_id]))
    return Response(pdf, media_type="application/pdf")


@router.get("/cards/{card_id}/card.png", response_class=Response)
def card_png(card_id: str, session: SessionDep, vault: VaultDep, actor: CurrentActor) -> Response:
    pdf = render_pdf(documents.printable_cards(session, vault, actor, [card_id]))
    return Response(render_png(pdf), media_type="image/png")


@router.post("/cards/verify")
def verify(command: VerifyIn, runtime: RuntimeDep, session: SessionDep, status_lists: StatusListsDep) -> dict[str, Any]:
    """Verify a card against this installation's keys and status list. Public: no token needed."""
    at = command.at or datetime.now(UTC)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    verification = documents.verify_locally(session, runtime.vault, runtime.settings, command.text, at, status_lists)
    return verification.as_dict()
