"""/verify in Debian's Chromium: the lists load once, then cards are checked with the network cut.

Cards come from awda's own issuance (`awda.cards.services`); the app runs under uvicorn on an
ephemeral port. SQLite only: the page reads the same services the card tests run on both engines.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy.orm import Session

from awda.access.services import SYSTEM
from awda.cards import services
from awda.cards.claims import CARD_PREFIX
from awda.cards.qrtext import b45decode, encode_qr_text, inflate, unprefix
from awda.runtime import Runtime
from awda.web.app import create_app
from tests import factories
from tests.cards_support import AGREEMENT, card_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A synthetic camera, granted without a prompt, for the scanning test.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
TIMEOUT_MS = 15_000
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("gazetteer"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

TEXTS = {
    "ar": {
        "valid": "بطاقة صالحة",
        "invalid": "بطاقة غير صالحة",
        "revoked": "بطاقة ملغاة",
        "expired": "انتهت صلاحية البطاقة.",
        "signature": "التوقيع غير مطابق: البطاقة معدَّلة أو مزوَّرة.",
        "ready": "جاهز: يجري التحقق من البطاقات على هذا الجهاز دون الحاجة إلى الشبكة.",
        "here": "جرى التحقق على هذا الجهاز.",
        "server": "جرى التحقق على الخادم.",
    },
    "en": {
        "valid": "Valid card",
        "invalid": "Invalid card",
        "revoked": "Revoked card",
        "expired": "The card has expired.",
        "signature": "The signature does not match: the card was altered or forged.",
        "ready": "Ready: cards are checked on this device, with no network needed.",
        "here": "Checked on this device.",
        "server": "Checked by the server.",
    },
}


@dataclass(frozen=True)
class Cards:
    valid: str
    revoked: str
    one_character_changed: str
    signature_changed: str


def change_one_character(text: str) -> str:
    """The card with one Base45 character in the middle replaced by the next one in the alphabet."""
    position = len(CARD_PREFIX) + (len(text) - len(CARD_PREFIX)) // 2
    replacement = BASE45[(BASE45.index(text[position]) + 1) % len(BASE45)]
    return text[:position] + replacement + text[position + 1 :]


def change_signature(text: str) -> str:
    """The card re-encoded with one bit of its signature flipped: it still decodes, but must not verify."""
    message = cbor2.loads(inflate(b45decode(unprefix(text, CARD_PREFIX))))
    protected, unprotected, payload, signature = message.value
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    return encode_qr_text(
        CARD_PREFIX, cbor2.dumps(cbor2.CBORTag(message.tag, [protected, unprotected, payload, flipped]))
    )


@pytest.fixture
def cards(runtime: Runtime, session: Session) -> Cards:
    world = card_world(runtime, session)
    head, spouse = world.household.person_uids[:2]
    issue = services.issue_card
    valid = issue(session, runtime.vault, runtime.settings, SYSTEM, head, AGREEMENT).qr_text
    revoked = issue(session, runtime.vault, runtime.settings, SYSTEM, spouse, AGREEMENT)
    services.revoke_card(session, SYSTEM, revoked.card_id, "lost")
    return Cards(valid, revoked.qr_text, change_one_character(valid), change_signature(valid))


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """The real app under uvicorn, in a thread, on an ephemeral port of 127.0.0.1."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(runtime.settings, runtime), log_level="warning", lifespan="off")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 10 s")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)
    listener.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(locale="ar")
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    opened.close()


def open_verifier(context: BrowserContext, url: str) -> Page:
    """The page once its lists are loaded; then the network is cut."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#verify-form[data-ready]")
    context.set_offline(True)
    assert page.evaluate("fetch('/verify/trust-list.json').then(() => 'online', () => 'offline')") == "offline"
    return page


def check(page: Page, text: str) -> str:
    """Paste a card text, press Verify, and return the verdict the page shows."""
    page.fill("#card", text)
    page.click("#verify-form button[type=submit]")
    return shown_verdict(page)


def shown_verdict(page: Page) -> str:
    """The verdict the page shows, once it shows one."""
    shown = page.locator("#outcome[data-verdict]")
    shown.wait_for()
    return shown.get_attribute("data-verdict") or ""


def outcome_text(page: Page) -> tuple[str, str]:
    return page.inner_text("#outcome h2"), page.inner_text("#outcome .reason")


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_offline_verification(context: BrowserContext, server: str, cards: Cards, locale: str) -> None:
    texts = TEXTS[locale]
    page = open_verifier(context, f"{server}/verify?lang={locale}")
    assert page.get_attribute("html", "dir") == ("rtl" if locale == "ar" else "ltr")
    assert page.inner_text("#lists-state") == texts["ready"]
    assert page.inner_text("#lists-keys") == "1"

    assert check(page, cards.valid) == "valid"
    assert outcome_text(page)[0] == texts["valid"]
    shown = page.inner_text("#outcome")
    assert AGREEMENT in shown
    assert page.inner_text("#outcome [data-detail=holder_ar]") == f"{factories.HEAD_NAME_AR} {factories.FAMILY_AR}"
    assert texts["here"] in shown

    assert check(page, cards.one_character_changed) == "invalid"
    assert outcome_text(page)[0] == texts["invalid"]
    assert check(page, cards.signature_changed) == "invalid"
    assert outcome_text(page) == (texts["invalid"], texts["signature"])
    assert check(page, cards.revoked) == "revoked"
    assert outcome_text(page)[0] == texts["revoked"]

    # The device clock a year and a day later: the card has expired (the list's age does not matter).
    page.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=366))
    assert check(page, cards.valid) == "invalid"
    assert outcome_text(page) == (texts["invalid"], texts["expired"])


def test_arabic_by_default_from_accept_language(context: BrowserContext, server: str, cards: Cards) -> None:
    page = open_verifier(context, f"{server}/verify")
    assert page.get_attribute("html", "lang") == "ar"
    assert check(page, cards.valid) == "valid"
    assert outcome_text(page)[0] == TEXTS["ar"]["valid"]


def test_form_works_without_javascript(browser: Browser, server: str, cards: Cards) -> None:
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    expected = {cards.valid: "valid", cards.revoked: "revoked", cards.signature_changed: "invalid"}
    for text, verdict in expected.items():
        page.goto(f"{server}/verify")
        page.fill("#card", text)
        page.click("#verify-form button[type=submit]")
        assert page.get_attribute("#outcome", "data-verdict") == verdict
        assert TEXTS["en"]["server"] in page.inner_text("#outcome")
    context.close()


def test_camera_scan_where_barcode_detector_exists(browser: Browser, server: str, cards: Cards) -> None:
    context = browser.new_context(locale="en")
    context.set_default_timeout(TIMEOUT_MS)
    plain = open_verifier(context, f"{server}/verify")
    assert not plain.is_visible("#scan"), "no BarcodeDetector in desktop Chromium: the scan button stays hidden"
    # The browser's detector stands in for a phone's: it "sees" the card the test puts in front of it.
    context.add_init_script(
        "window.BarcodeDetector = class { static async getSupportedFormats() { return ['qr_code']; }"
        " async detect() { return window.cardInView ? [{ rawValue: window.cardInView }] : []; } };"
    )
    context.set_offline(False)
    page = open_verifier(context, f"{server}/verify")
    page.click("#scan")
    page.wait_for_selector("#camera:not([hidden])")
    page.evaluate("card => { window.cardInView = card; }", cards.valid)
    assert shown_verdict(page) == "valid"
    assert page.input_value("#card") == cards.valid
    assert page.is_hidden("#camera")
    context.close()


def test_page_is_light(context: BrowserContext, server: str) -> None:
    page = open_verifier(context, f"{server}/verify")
    transferred = page.evaluate(
        "performance.getEntries().filter(e => 'transferSize' in e).reduce((sum, e) => sum + e.transferSize, 0)"
    )
    assert 0 < transferred < 100_000


def plain(value: object) -> object:
    """A CBOR value as JSON, the way the page's `asJson` below writes it (maps keep their order)."""
    if isinstance(value, dict):
        return [[plain(key), plain(item)] for key, item in value.items()]
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, cbor2.CBORTag):
        return {"tag": value.tag, "value": plain(value.value)}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        return {"big": str(value)}
    return value


DECODERS = """async ([url, base45, cbor, signed]) => {
  const verifier = await import(url);
  const hex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const fromHex = (text) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  const asJson = (value) => {
    if (value instanceof Map) return Array.from(value, ([key, item]) => [asJson(key), asJson(item)]);
    if (Array.isArray(value)) return value.map(asJson);
    if (value instanceof Uint8Array) return { bytes: hex(value) };
    if (value instanceof verifier.Tagged) return { tag: value.tag, value: asJson(value.value) };
    if (typeof value === "bigint") return { big: value.toString() };
    return value;
  };
  const attempt = (work) => { try { return work(); } catch (error) { return error.reason; } };
  return {
    base45: base45.map((text) => attempt(() => new TextDecoder().decode(verifier.base45Decode(text)))),
    cbor: cbor.map((data) => attempt(() => asJson(verifier.decodeCbor(fromHex(data))))),
    signed: signed.map(([head, body]) => hex(verifier.sigStructure(fromHex(head), fromHex(body)))),
  };
}"""


def test_decoders_agree_with_python(context: BrowserContext, server: str) -> None:
    """verify.js's Base45, CBOR and Sig_structure code against RFC 9285's examples and cbor2."""
    page = open_verifier(context, f"{server}/verify")
    script = page.get_attribute("script[type=module]", "src")
    base45 = {"BB8": "AB", "%69 VD92EX0": "Hello!!", "UJCLQE7W581": "base-45", "QED8WEX0": "ietf!"}
    base45_bad = ["GGW", "A", "ab", "BB8:"]  # too large, a lone character, lower case, a dangling pair
    values = [
        {1: -7, 4: b"\x01\x02", 16: "application/statuslist+cwt"},
        {-65537: {"v": 1, "agr": "AGR-حمص", "h": {"by": 1979}}, 65535: {"status_list": {"idx": 2**32}}},
        [0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**53 - 1, 2**64 - 1, -1, -24, -25, -(2**32) - 1, -(2**64)],
        cbor2.CBORTag(18, [b"", {}, b"x" * 300, None]),
        [True, False, None, "", b""],
    ]
    bad = ["ff", "5f4100ff", "f93c00", "a20101" + "01" + "02", "1a0000", "8301", "6161" + "00", "62c328"]
    sizes = [0, 23, 24, 255, 256, 65535, 65536]
    signed = [(bytes(size % 300), bytes(size)) for size in sizes]
    answer = page.evaluate(
        DECODERS,
        [
            script,
            [*base45, *base45_bad],
            [cbor2.dumps(value).hex() for value in values] + bad,
            [(head.hex(), body.hex()) for head, body in signed],
        ],
    )
    assert answer["base45"] == [*base45.values(), *(["base45"] * len(base45_bad))]
    assert answer["cbor"] == [plain(value) for value in values] + ["cose"] * len(bad)
    assert answer["signed"] == [cbor2.dumps(["Signature1", head, b"", body]).hex() for head, body in signed]
