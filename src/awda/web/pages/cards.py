"""Protection cards from the pages: issue one to a member (from the household page), a card's page,
its printable PDF, and revoking it after a confirmation page. Calls `cards.services`, as the API does;
the card's text (which may carry the holder's name) is only ever on the printed card.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from awda.access import readers
from awda.access.rules import Actor, Permission, may
from awda.cards import documents, services
from awda.cards.printing import render_pdf
from awda.cards.rules import REVOCATION_REASONS
from awda.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from awda.web.deps import RuntimeDep, SessionDep, StatusListsDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.labels import N_
from awda.web.pages.nav import forbidden, not_found, render_page

router = APIRouter(include_in_schema=False)
REASONS = sorted(REVOCATION_REASONS)
DONE = {"issued": N_("The card is issued. Print it and hand it to its holder."), "revoked": N_("The card is revoked.")}
PROBLEMS = {
    "not_issued": N_("No card was issued: the household has not consented to a card, or the agreement is unknown."),
    "revoked": N_("This card was revoked already."),
}


def cards_of_members(session: SessionDep, actor: Actor, members: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Each member's cards (records only, no card text), for the household page."""
    return {
        member["uid"]: [_dated(card) for card in services.cards_of_person(session, actor, member["uid"])]
        for member in members
    }


def _dated(card: dict[str, Any]) -> dict[str, Any]:
    moments = {
        name: datetime.fromisoformat(card[name]) for name in ("issued_at", "expires_at", "revoked_at") if card[name]
    }
    return card | moments


@router.post("/cards")
def issue(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    person: Annotated[str, Form(max_length=36)] = "",
    agreement: Annotated[str, Form(max_length=64)] = "",
    household: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    """Issue a card to a member under an agreement; then its page, to print it."""
    check_form(request, csrf_token)
    try:
        card = services.issue_card(session, runtime.vault, runtime.settings, actor, person, agreement)
    except PermissionDenied:
        return forbidden(request, actor)
    except (NotFound, Conflict, ValidationFailed):
        back = readers.households_of_persons(session, actor, [person]) or [household]
        return RedirectResponse(f"/households/{back[0]}?problem=not_issued#cards", status_code=303)
    return RedirectResponse(f"/cards/{card.card_id}?done=issued", status_code=303)


@router.get("/cards/{uid}")
def card_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    uid: str,
    done: Annotated[str, Query(max_length=16)] = "",
    problem: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """A card's record: agreement, validity, revocation; print and revoke from here."""
    try:
        card = _dated(services.card_view(session, services.card_by_uid(session, actor, uid)))
    except NotFound:
        return not_found(request, actor)
    household = readers.households_of_persons(session, actor, [card["person"]])
    context = {
        "card": card,
        "household": household[0] if household else None,
        "may_revoke": may(actor, Permission.REVOKE_CARDS) and not card["revoked"],
        "done": DONE.get(done),
        "problem": PROBLEMS.get(problem),
    }
    return render_page(request, actor, "card.html", context)


@router.get("/cards/{uid}/card.pdf")
def card_pdf(request: Request, session: SessionDep, vault: VaultDep, actor: PageActor, uid: str) -> Response:
    """The printable card (A6, Arabic and English), as the API prints it."""
    try:
        pdf = render_pdf(documents.printable_cards(session, vault, actor, [uid]))
    except NotFound:
        return not_found(request, actor)
    headers = {"Content-Disposition": 'inline; filename="card.pdf"', "Cache-Control": "no-store"}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/cards/{uid}/revoke")
def revoke_confirmation(request: Request, session: SessionDep, actor: PageActor, uid: str) -> Response:
    """Revoking asks first, on a page of its own, with the reason."""
    if not may(actor, Permission.REVOKE_CARDS):
        return forbidden(request, actor)
    try:
        card = services.card_view(session, services.card_by_uid(session, actor, uid))
    except NotFound:
        return not_found(request, actor)
    return render_page(request, actor, "card_revoke.html", {"card": card, "reasons": REASONS})


@router.post("/cards/{uid}/revoke")
def revoke(
    request: Request,
    session: SessionDep,
    status_lists: StatusListsDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Revoke the card; the next status list carries it, so offline verifiers refuse it too."""
    check_form(request, csrf_token)
    try:
        services.revoke_card(session, actor, uid, reason)
    except ValidationFailed:
        return _choose_reason(request, session, actor, uid)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except Conflict:
        return RedirectResponse(f"/cards/{uid}?problem=revoked", status_code=303)
    status_lists.invalidate()
    return RedirectResponse(f"/cards/{uid}?done=revoked", status_code=303)


def _choose_reason(request: Request, session: SessionDep, actor: Actor, uid: str) -> Response:
    card = services.card_view(session, services.card_by_uid(session, actor, uid))
    errors = {"reason": N_("Choose a reason from the list.")}
    return render_page(request, actor, "card_revoke.html", {"card": card, "reasons": REASONS, "errors": errors}, 422)
