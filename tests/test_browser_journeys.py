"""Two whole journeys in Debian's Chromium, in Arabic and in English: a coordinator issues a card, prints
it, and anyone verifies the printed card's QR code on /verify (then again once it is revoked); an analyst
reads a scorecard, its tables and its plots.

The card's text is read back from the PDF the page serves (pdfium draws it, zxing-cpp reads the QR
code), so the printed card, not the database, is what gets verified. SQLite only, as in
tests/test_browser_pages.py, whose page checks (direction, translation, axe-core) run on every page here.
"""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp
from playwright.sync_api import BrowserContext, Page
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.households import services
from awda.runtime import Runtime
from tests import factories
from tests.cards_support import card_world
from tests.test_browser_pages import check_page, context, issue_card, signed_in_page  # noqa: F401 - fixtures shared
from tests.test_pages_scorecards import returned_and_followed
from tests.test_verify_page import TEXTS as VERDICTS
from tests.test_verify_page import browser, check, server  # noqa: F401 - fixtures shared with /verify

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("gazetteer"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
PDF_SCALE = 4  # 288 dots per inch: the card's QR modules are several pixels wide


def printed_card_text(page: Page, url: str) -> str:
    """Download the card's PDF with the signed-in browser's session and read the QR code printed on it."""
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.body())
    image = document[0].render(scale=PDF_SCALE).to_pil().convert("L")
    document.close()
    found = [code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, found
    return found[0]


def verify_on_a_fresh_page(context: BrowserContext, server: str, locale: str, text: str) -> str:  # noqa: F811
    """The verdict /verify gives for `text`, on a page opened now (so it loads today's lists)."""
    page = context.new_page()
    page.goto(f"{server}/verify?lang={locale}")
    page.wait_for_selector("#verify-form[data-ready]")
    verdict = check(page, text)
    check_page(page, locale, f"verify-{verdict}")
    assert page.inner_text("#outcome h2") == VERDICTS[locale][verdict]
    page.close()
    return verdict


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_issue_print_and_verify_a_card(
    context: BrowserContext,  # noqa: F811
    server: str,  # noqa: F811
    runtime: Runtime,
    session: Session,
    locale: str,
) -> None:
    world = card_world(runtime, session)
    page = signed_in_page(context, server, session, f"coordinator-{locale}", "coordinator")
    issue_card(page, server, world)
    pdf = page.get_attribute("a[href$='/card.pdf']", "href")
    assert pdf is not None
    text = printed_card_text(page, f"{server}{pdf}")
    assert verify_on_a_fresh_page(context, server, locale, text) == "valid"

    page.click("a[href$='/revoke']")
    page.select_option("#reason", "lost")
    page.click("button.danger")
    page.wait_for_url("**/cards/*?done=revoked")
    assert page.locator("a[href$='/card.pdf']").count() == 0  # a revoked card is not printed again
    assert verify_on_a_fresh_page(context, server, locale, text) == "revoked"
    forged = text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]
    assert verify_on_a_fresh_page(context, server, locale, forged) == "invalid"


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_read_a_scorecard_with_its_plots(
    context: BrowserContext,  # noqa: F811
    server: str,  # noqa: F811
    runtime: Runtime,
    session: Session,
    locale: str,
) -> None:
    returned_and_followed(runtime, session, count=5)  # fifteen people: above the installation's k of 10
    services.register_household(session, runtime.vault, SYSTEM, factories.household())  # not returned: not counted
    page = signed_in_page(context, server, session, f"analyst-{locale}", "analyst", ())
    page.click("nav a[href='/scorecards']")
    check_page(page, locale, "scorecards")
    page.click("main a[href^='/scorecards/agreement-']")
    page.wait_for_url("**/scorecards/*")
    check_page(page, locale, "scorecard")
    assert page.locator("table.list").count() == 3  # survival, incidence, incidents by type
    assert page.locator("table.list").first.locator("tbody tr").count() >= 4  # days 30, 90, 180, 365
    plots = page.locator("figure.plot img")
    assert plots.count() == 2
    for index in range(2):  # both SVGs were served and drawn: an image that failed has no natural width
        assert plots.nth(index).evaluate("image => image.complete && image.naturalWidth") > 300
    assert page.locator("figure.plot .legend li").count() == 1  # one cause met: arrest or detention
