"""`/verify`: the offline card verifier page, its two public lists, and the server check for no-JS browsers.

The page's JavaScript (static/verify.js) checks cards on the device; the form posts here only when
JavaScript is off or the lists could not be loaded, and the server then runs awda's Python verifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import Response

from awda.cards import documents, keys
from awda.cards.statuslist import STATUS_LIST_TYP
from awda.db import utcnow
from awda.errors import Conflict
from awda.runtime import Runtime
from awda.web.deps import RuntimeDep, SessionDep, StatusListsDep
from awda.web.pages.rendering import render

router = APIRouter(include_in_schema=False)

# Isolated left-to-right, so that the prefix reads correctly inside an Arabic sentence.
CARD_PREFIX = "\u2066AW1:\u2069"
# The same prefix where the page writes HTML: an element, which the browser isolates and tests can see.
CARD_PREFIX_HTML = Markup('<code dir="ltr">AW1:</code>')
DECODING_STEPS = (("unprefix", "prefix"), ("b45decode", "base45"), ("decompress", "zlib"), ("cose_decode", "cose"))
LISTS_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True)
class Outcome:
    """What the page shows: a verdict (valid, invalid, revoked, unknown), its reason, and the card's data."""

    verdict: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def holderless(self) -> bool:
        return not {"holder_ar", "holder_lat", "birth_year"} & self.details.keys()


def card_details(claims: Mapping[str, Any], status_list: Mapping[str, Any] | None) -> dict[str, Any]:
    """The card's data in the order the page lists it (verify.js uses the same names)."""
    holder = claims.get("holder") or {}
    details = {
        "agreement": claims.get("agreement_code"),
        "holder_ar": holder.get("name_ar"),
        "holder_lat": holder.get("name_lat"),
        "birth_year": holder.get("birth_year"),
        "card_id": claims.get("card_id"),
        "issuer": claims.get("issuer"),
        "issued_at": datetime.fromisoformat(claims["issued_at"]),
        "expires_at": datetime.fromisoformat(claims["expires_at"]),
    }
    shown = {name: value for name, value in details.items() if value is not None}
    shown["list_issued"] = timedelta(seconds=status_list["age_seconds"]) if status_list else None
    return shown


def outcome_of(report: Mapping[str, Any], known_kids: set[str], at: datetime) -> Outcome:
    """The page's verdict from a `Verification.as_dict()` report (order: decoding, signature, revocation, time)."""
    checks = report["checks"]
    for step, reason in DECODING_STEPS:
        if checks[step] is False:
            return Outcome("invalid", reason)
    if checks["verify"] is not True:
        return Outcome("invalid", "signature" if report["kid"] in known_kids else "kid")
    details = card_details(report["claims"], report["status_list"])
    if checks["status"] == "revoked":
        return Outcome("revoked", "revoked", details)
    if checks["expiry"] is not True:
        return Outcome("invalid", "not_yet_valid" if at < details["issued_at"] else "expired", details)
    if checks["status"] != "valid":
        return Outcome("unknown", "status_unknown", details)
    return Outcome("valid", "valid", details)


def check_on_server(
    session: Session, runtime: Runtime, text: str, status_lists: documents.StatusListCache | None = None
) -> Outcome:
    """The Python verifier's answer for a posted text, against this installation's lists."""
    if not text.strip():
        return Outcome("invalid", "empty")
    at = utcnow()
    try:
        verification = documents.verify_locally(session, runtime.vault, runtime.settings, text, at, status_lists)
    except Conflict:  # no signing key yet: no card can be trusted
        return Outcome("invalid", "kid")
    known_kids = {str(key["kid"]) for key in keys.trust_list_document(session)["keys"]}
    return outcome_of(verification.as_dict(), known_kids, at)


def page(request: Request, outcome: Outcome | None = None, card_text: str = "", status_code: int = 200) -> Response:
    context = {"outcome": outcome, "card_text": card_text, "prefix": CARD_PREFIX, "prefix_html": CARD_PREFIX_HTML}
    return render(request, "verify.html", context, status_code)


@router.get("/verify")
def verify_page(request: Request) -> Response:
    return page(request)


@router.post("/verify")
def verify_on_server(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    status_lists: StatusListsDep,
    card: Annotated[str, Form()] = "",
) -> Response:
    """The same check without JavaScript: the form posts the text, the server verifies it."""
    return page(request, check_on_server(session, runtime, card, status_lists), card)


@router.get("/verify/trust-list.json")
def trust_list(session: SessionDep) -> Response:
    """Public keys only: safe to publish."""
    return JSONResponse(keys.trust_list_document(session), headers=LISTS_HEADERS)


@router.get("/verify/status-list.cwt")
def status_list(session: SessionDep, runtime: RuntimeDep, status_lists: StatusListsDep) -> Response:
    """One bit per card, signed: safe to publish (re-signed at most once a minute)."""
    document = status_lists.document(session, runtime.vault, runtime.settings)
    return Response(document, media_type=STATUS_LIST_TYP, headers=LISTS_HEADERS)
