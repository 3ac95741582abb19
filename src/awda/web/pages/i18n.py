"""Locales of the web pages: gettext catalogues compiled at start, the visitor's locale, formatting.

Arabic is the default: the people who use awda work in Arabic, so a browser that asks for
neither Arabic nor English gets Arabic (with the switch to English one click away).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from gettext import GNUTranslations
from importlib import resources

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from starlette.requests import Request

from awda.access.rules import PAGE_LANGUAGES

LOCALES = PAGE_LANGUAGES
DEFAULT_LOCALE = "ar"
LANG_PARAMETER = "lang"
LANG_COOKIE = "awda_lang"


def compile_catalogue(po_bytes: bytes, locale: str) -> GNUTranslations:
    """A .po catalogue compiled in memory (no .mo file is written or shipped); fuzzy entries are left out."""
    catalogue = read_po(io.BytesIO(po_bytes), locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return GNUTranslations(compiled)


def load_catalogues() -> dict[str, GNUTranslations]:
    """Every locale's catalogue from the package's `locale/<locale>/LC_MESSAGES/messages.po`."""
    root = resources.files("awda.web").joinpath("locale")
    return {
        locale: compile_catalogue(root.joinpath(locale, "LC_MESSAGES", "messages.po").read_bytes(), locale)
        for locale in LOCALES
    }


def accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most preferred first (q=0 and `*` dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def supported(value: str | None) -> str | None:
    """`value` if it names one of our locales, else None."""
    return value if value in LOCALES else None


def choose_locale(request: Request) -> str:
    """`?lang=`, then the language cookie set by an earlier `?lang=`, then Accept-Language, then Arabic."""
    chosen = supported(request.query_params.get(LANG_PARAMETER)) or supported(request.cookies.get(LANG_COOKIE))
    if chosen:
        return chosen
    preferred = accepted_languages(request.headers.get("accept-language", ""))
    return negotiate_locale(preferred, LOCALES, sep="-") or DEFAULT_LOCALE


@dataclass(frozen=True)
class Formatter:
    """Numbers and dates written the way the locale writes them (CLDR data through Babel)."""

    locale: str

    @property
    def direction(self) -> str:
        return "rtl" if Locale.parse(self.locale).text_direction == "rtl" else "ltr"

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def date(self, value: datetime) -> str:
        return format_date(value, format="long", locale=self.locale)

    def datetime(self, value: datetime) -> str:
        return format_datetime(value, format="medium", tzinfo=value.tzinfo, locale=self.locale)

    def ago(self, age: timedelta) -> str:
        """How long ago, in words ("5 minutes ago", "قبل 5 دقائق")."""
        # At least a second: Babel words a zero age as the future ("in 0 seconds").
        return format_timedelta(-max(age, timedelta(seconds=1)), add_direction=True, locale=self.locale)

    def language_name(self) -> str:
        """The locale's name in its own language, for the language switch."""
        return str(Locale.parse(self.locale).display_name)
