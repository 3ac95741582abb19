"""The page foundation: locale and direction, catalogues in sync with templates, static files, /verify on the server."""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from awda.access.services import SYSTEM
from awda.cards import services
from awda.runtime import Runtime
from awda.web.app import create_app
from awda.web.pages.i18n import LOCALES, Formatter, accepted_languages
from tests.cards_support import AGREEMENT, card_world
from tests.test_verify_page import change_signature

with warnings.catch_warnings():
    # The pinned dev dependency is httpx; Starlette now prefers httpx2 and warns (an error here) at import.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "src" / "awda" / "web"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HTML_TAG = re.compile(r'<html lang="(\w+)" dir="(\w+)">')
PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime.settings, runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def lang_dir(html: str) -> tuple[str, str]:
    match = HTML_TAG.search(html)
    assert match is not None, html[:200]
    return match.group(1), match.group(2)


def outcome(html: str) -> tuple[str | None, str]:
    verdict = re.search(r'data-verdict="(\w+)"', html)
    reason = re.search(r'<p class="reason">(.*?)</p>', html, re.S)
    return (verdict.group(1) if verdict else None), (reason.group(1) if reason else "")


# ---- Locale and direction


def test_accepted_languages_in_order_of_preference() -> None:
    assert accepted_languages("fr;q=0.5, en-GB, ar;q=0.9, *;q=0.1, de;q=0") == ["en-GB", "ar", "fr"]
    assert accepted_languages("") == []
    assert accepted_languages("en;q=oops, ar") == ["ar"]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("ar-SY,ar;q=0.9,en;q=0.5", ("ar", "rtl")),
        ("en-GB,en;q=0.8", ("en", "ltr")),
        ("fr-FR,fr;q=0.9,en;q=0.4", ("en", "ltr")),
        ("fr-FR,de;q=0.5", ("ar", "rtl")),  # neither offered: Arabic, the users' language
        ("", ("ar", "rtl")),
    ],
)
@pytest.mark.parametrize("path", ["/", "/verify"])
def test_locale_from_accept_language(
    client: TestClient, path: str, accept_language: str, expected: tuple[str, str]
) -> None:
    response = client.get(path, headers={"Accept-Language": accept_language})
    assert response.status_code == 200
    assert lang_dir(response.text) == expected
    assert response.headers["content-language"] == expected[0]
    assert "Accept-Language" in response.headers["vary"]


@SQLITE_ONLY
def test_lang_parameter_overrides_and_is_remembered(client: TestClient) -> None:
    arabic = {"Accept-Language": "ar"}
    chosen = client.get("/?lang=en", headers=arabic)
    assert lang_dir(chosen.text) == ("en", "ltr")
    assert 'href="/?lang=ar"' in chosen.text  # the switch back
    assert client.get("/verify", headers=arabic).text.startswith('<!doctype html>\n<html lang="en"')
    assert lang_dir(client.get("/verify?lang=ar", headers=arabic).text) == ("ar", "rtl")
    assert lang_dir(client.get("/?lang=fr", headers={"Accept-Language": "en"}).text) == ("ar", "rtl")


@SQLITE_ONLY
def test_pages_are_translated_and_isolate_names(client: TestClient) -> None:
    arabic = client.get("/verify?lang=ar").text
    assert "<title>التحقق من بطاقة حماية · عودة</title>" in arabic
    assert "Verify a protection card" not in arabic
    english = client.get("/verify?lang=en").text
    assert "<title>Verify a protection card · awda</title>" in english
    # The language switch names each language in itself.
    assert '<a href="/verify?lang=en" hreflang="en" lang="en">English</a>' in arabic
    assert '<a href="/verify?lang=ar" hreflang="ar" lang="ar">العربية</a>' in english


def test_numbers_and_dates_per_locale() -> None:
    day = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    assert Formatter("en").date(day) == "November 22, 2026"
    assert Formatter("ar").date(day) == "22 نوفمبر 2026"
    assert Formatter("en").number(13_000_000) == "13,000,000"
    assert (Formatter("ar").direction, Formatter("en").direction) == ("rtl", "ltr")


@SQLITE_ONLY
def test_pages_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


# ---- Catalogues


def catalogue(locale: str) -> dict[str, str]:
    path = WEB / "locale" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        messages = read_po(handle, locale=locale)
    fuzzy = [message.id for message in messages if message.id and message.fuzzy]
    assert fuzzy == [], f"{locale}: fuzzy entries are not used at run time"
    return {str(message.id): str(message.string) for message in messages if message.id}


def extracted_messages() -> set[str]:
    """What `pybabel extract -F babel.cfg` finds in the package, templates and Python alike."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    found = extract_from_dir(ROOT / "src" / "awda", method_map, options_map)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_catalogues_match_the_templates() -> None:
    extracted = extracted_messages()
    assert "Verify a protection card" in extracted
    for locale in LOCALES:
        ids = set(catalogue(locale))
        assert sorted(extracted - ids) == [], f"{locale}: run pybabel update (docs/architecture.md)"
        assert sorted(ids - extracted) == [], f"{locale}: obsolete messages"


def test_arabic_catalogue_is_complete() -> None:
    arabic = catalogue("ar")
    assert [msgid for msgid, text in arabic.items() if not text.strip()] == []
    wrong = [msgid for msgid, text in arabic.items() if PLACEHOLDER.findall(msgid) != PLACEHOLDER.findall(text)]
    assert wrong == []


# ---- Static files


@SQLITE_ONLY
def test_static_files_are_served_with_cache_headers(client: TestClient) -> None:
    html = client.get("/verify").text
    for name, media_type in (("awda.css", "text/css"), ("verify.js", "text/javascript")):
        content = (WEB / "static" / name).read_bytes()
        url = f"/static/{name}?v={hashlib.sha256(content).hexdigest()[:12]}"
        assert url in html
        versioned = client.get(url)
        assert versioned.status_code == 200
        assert versioned.content == content
        assert versioned.headers["content-type"].startswith(media_type)
        assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
        plain = client.get(f"/static/{name}")
        assert plain.headers["cache-control"] == "no-cache"
        again = client.get(f"/static/{name}", headers={"If-None-Match": plain.headers["etag"]})
        assert again.status_code == 304
    assert client.get("/static/nothing.js").status_code == 404


@SQLITE_ONLY
def test_verify_page_is_light(client: TestClient) -> None:
    html = client.get("/verify").content
    assets = [client.get(f"/static/{name}").content for name in ("awda.css", "verify.js")]
    assert len(html) + sum(len(asset) for asset in assets) < 60_000


# ---- /verify: the server path (no JavaScript) and the public lists


@pytest.mark.usefixtures("gazetteer")
def test_verify_form_on_the_server(client: TestClient, runtime: Runtime, session: Session) -> None:
    world = card_world(runtime, session)
    head, spouse = world.household.person_uids[:2]
    valid = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, head, AGREEMENT).qr_text
    revoked = services.issue_card(session, runtime.vault, runtime.settings, SYSTEM, spouse, AGREEMENT)
    services.revoke_card(session, SYSTEM, revoked.card_id, "lost")

    def post(text: str, lang: str = "en") -> str:
        response = client.post(f"/verify?lang={lang}", data={"card": text})
        assert response.status_code == 200
        return response.text

    shown = post(valid)
    assert outcome(shown) == (
        "valid",
        "The signature is genuine, the card is within its validity, and it is not revoked.",
    )
    assert f"<bdi>{AGREEMENT}</bdi>" in shown
    assert "Checked by the server." in shown
    assert outcome(post(revoked.qr_text)) == ("revoked", "The issuer has revoked this card. Do not rely on it.")
    assert outcome(post(change_signature(valid))) == (
        "invalid",
        "The signature does not match: the card was altered or forged.",
    )
    assert outcome(post("HC1:6BFOXN"))[0] == "invalid"
    assert outcome(post("  ")) == ("invalid", "Paste the card text first.")
    assert outcome(post(valid, "ar")) == ("valid", "التوقيع أصلي، والبطاقة ضمن مدة صلاحيتها، وهي غير ملغاة.")


@pytest.mark.usefixtures("gazetteer")
def test_lists_are_public(client: TestClient, runtime: Runtime, session: Session) -> None:
    card_world(runtime, session)
    trust = client.get("/verify/trust-list.json")
    assert trust.status_code == 200
    assert trust.json()["format"] == "awda-trust-list/1"
    assert len(trust.json()["keys"]) == 1
    status = client.get("/verify/status-list.cwt")
    assert status.status_code == 200
    assert (
        status.headers["content-type"] == "application/statuslist+cwt"
    )  # the media type of the Token Status List draft
    assert status.content[:1] == b"\xd2"  # CBOR tag 18: a COSE_Sign1
