"""Rules every request meets at the HTTP edge: paging and look-back parameters a database and a calendar
can hold, and no NUL character in any text (PostgreSQL cannot store one, and no name, code or reference
has one). Both engines then answer alike: 422 problem+json naming the field. Days: `awda.days`.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Query, Request

from awda.errors import ValidationFailed

MAX_OFFSET = 1_000_000_000
MAX_HOURS = 24 * 366 * 10  # a look-back window of ten years at most
NUL = "\x00"
# A JSON \u0000 escape: a backslash that is not itself escaped (an even run of backslashes before it).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Hours = Annotated[int, Query(ge=1, le=MAX_HOURS)]


async def refuse_nul(request: Request) -> None:
    """Refuse a NUL in the path, the query, a JSON body or a form field (an app-wide dependency)."""
    if NUL in request.url.path:
        raise ValidationFailed("path", "must not contain a NUL character")
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise ValidationFailed(name.replace(NUL, "") or "query", "must not contain a NUL character")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()
        for name, field in form.multi_items():
            if NUL in name or (isinstance(field, str) and NUL in field):
                raise ValidationFailed(name.replace(NUL, "") or "form", "must not contain a NUL character")
    elif _is_json(content_type) and _JSON_NUL.search(await request.body()):
        raise ValidationFailed("body", "must not contain a NUL character")


def _is_json(content_type: str) -> bool:
    """JSON, or no type at all (read as JSON by some clients and frameworks)."""
    return content_type in {"", "application/json"} or content_type.endswith("+json")
