"""Templates, static files and the `render` helper every page handler ends with."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from gettext import GNUTranslations
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from awda import __version__
from awda.web.pages.i18n import (
    LANG_COOKIE,
    LANG_PARAMETER,
    LOCALES,
    Formatter,
    choose_locale,
    load_catalogues,
    supported,
)

STATIC_PREFIX = "/static"
YEAR = 365 * 24 * 3600
# Pages load only their own scripts, styles and data; the camera stream is a blob.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    # Our own origin on our own requests (so forms carry a checkable Origin), nothing to other sites.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class CachedStaticFiles(StaticFiles):
    """Static files with cache headers: a versioned URL (`?v=<hash>`) never changes, so it is cached for a year."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable" if versioned else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def static_versions() -> dict[str, str]:
    """A short content hash of every static file, for cache-busting URLs."""
    root = resources.files("awda.web").joinpath("static")
    return {
        entry.name: hashlib.sha256(entry.read_bytes()).hexdigest()[:12] for entry in root.iterdir() if entry.is_file()
    }


def make_environment(translations: GNUTranslations, locale: str, versions: dict[str, str]) -> Environment:
    """One environment per locale, its catalogue installed, so imported macros translate too."""
    environment = Environment(
        loader=PackageLoader("awda.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    formatter = Formatter(locale)
    environment.filters.update(
        number=formatter.number, date=formatter.date, datetime=formatter.datetime, ago=formatter.ago
    )
    environment.globals.update(
        locale=locale,
        direction=formatter.direction,
        version=__version__,
        language_names={other: Formatter(other).language_name() for other in LOCALES},
        static_url=lambda name: f"{STATIC_PREFIX}/{name}?v={versions[name]}",
    )
    return environment


@dataclass(frozen=True)
class Pages:
    """What page handlers share: an environment per locale, built once when the app starts."""

    environments: dict[str, Environment]

    @classmethod
    def build(cls) -> Pages:
        versions = static_versions()
        catalogues = load_catalogues()
        return cls({locale: make_environment(catalogues[locale], locale, versions) for locale in LOCALES})


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    """The page in the visitor's locale, with `<html lang dir>` set by the base template."""
    pages: Pages = request.app.state.pages
    locale = choose_locale(request)
    page = pages.environments[locale].get_template(template)
    html = page.render(request=request, other_locales=[other for other in LOCALES if other != locale], **context or {})
    response = HTMLResponse(html, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = locale
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-cache"
    if supported(request.query_params.get(LANG_PARAMETER)):
        remember_locale(request, response, locale)
    return response


def remember_locale(request: Request, response: Response, locale: str) -> None:
    """This browser's language for every later page: the `awda_lang` cookie, for a year."""
    secure = request.url.scheme == "https"
    response.set_cookie(LANG_COOKIE, locale, max_age=YEAR, samesite="lax", httponly=True, secure=secure)
