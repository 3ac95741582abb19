"""Protection cards from the pages: issue from the household page, the card's page and PDF, revoking
after a confirmation page; on both engines, through the real app.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.cards import services
from awda.runtime import Runtime
from tests import factories
from tests.cards_support import AGREEMENT, card_world, consenting_household
from tests.test_pages_households import (  # noqa: F401 - fixtures
    ARABIC,
    ENGLISH,
    TestClient,
    app,
    arabic_page_problems,
    client,
    field_errors,
    sign_in,
    token_of,
)

pytestmark = pytest.mark.usefixtures("gazetteer")


def test_issue_print_and_revoke_a_card(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    world = card_world(runtime, session)
    sign_in(client, session, "coord-cards", "coordinator")
    household = client.get(f"/households/{world.household.household_uid}", headers=ARABIC)
    assert arabic_page_problems(household.text) == []
    assert f'<option value="{AGREEMENT}">' in household.text and 'action="/cards"' in household.text
    data = {"csrf_token": token_of(household), "person": world.head, "agreement": AGREEMENT}
    issued = client.post("/cards", data=data)
    assert issued.status_code == 303 and issued.headers["location"].endswith("?done=issued")
    card_path = issued.headers["location"].split("?")[0]
    card = client.get(issued.headers["location"], headers=ARABIC)
    assert arabic_page_problems(card.text) == [] and 'data-card-status="valid"' in card.text
    assert "صدرت البطاقة." in card.text and factories.HEAD_NAME_AR not in card.text  # the page shows no name
    pdf = client.get(f"{card_path}/card.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    listed = client.get(f"/households/{world.household.household_uid}").text
    assert f'href="{card_path}"' in listed

    asked = client.get(f"{card_path}/revoke", headers=ARABIC)
    assert asked.status_code == 200 and arabic_page_problems(asked.text) == []
    assert 'data-card-status="valid"' in client.get(card_path).text  # asking did nothing
    no_reason = client.post(f"{card_path}/revoke", data={"csrf_token": token_of(asked)}, headers=ENGLISH)
    assert no_reason.status_code == 422 and field_errors(no_reason.text) == {"reason": "Choose a reason from the list."}
    revoked = client.post(f"{card_path}/revoke", data={"csrf_token": token_of(asked), "reason": "lost"})
    assert revoked.status_code == 303 and revoked.headers["location"].endswith("?done=revoked")
    shown = client.get(card_path, headers=ENGLISH).text
    assert 'data-card-status="revoked"' in shown and "Lost" in shown and "/revoke" not in shown
    again = client.post(f"{card_path}/revoke", data={"csrf_token": token_of(asked), "reason": "lost"})
    assert again.headers["location"].endswith("?problem=revoked")
    card_id = card_path.rsplit("/", 1)[1]
    assert services.card_view(session, services.card_by_uid(session, SYSTEM, card_id))["revoked_reason"] == "lost"


def test_cards_need_the_role_and_the_households_consent(
    client: TestClient,  # noqa: F811 - the imported fixture
    runtime: Runtime,
    session: Session,
) -> None:
    world = card_world(runtime, session)
    without = consenting_household(runtime, session, ())  # no consent to a card
    sign_in(client, session, "coord-nocard", "coordinator")
    page = client.get(f"/households/{without.household_uid}")
    assert 'action="/cards"' not in page.text
    data = {"csrf_token": token_of(page), "person": without.person_uids[0], "agreement": AGREEMENT}
    refused = client.post("/cards", data=data)
    assert refused.headers["location"] == f"/households/{without.household_uid}?problem=not_issued#cards"
    assert "No card was issued" in client.get(refused.headers["location"], headers=ENGLISH).text
    sign_in(client, session, "reg-nocard", "registrar")
    registrar_page = client.get(f"/households/{world.household.household_uid}")
    assert 'action="/cards"' not in registrar_page.text
    data = {"csrf_token": token_of(registrar_page), "person": world.head, "agreement": AGREEMENT}
    assert client.post("/cards", data=data).status_code == 403
    assert client.get("/cards/no-such-card").status_code == 404
