"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS by tests/fuzz/run.py).

The check `problem_json`: every error response (4xx and 5xx) is RFC 9457 problem+json, so a client
never has to guess the shape of an error and a traceback or an HTML page can never leak out.
"""

from __future__ import annotations

from typing import Any

import schemathesis

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_json(_ctx: Any, response: Any, _case: Any) -> None:
    if response.status_code < 400:
        return
    values = response.headers.get("content-type") or [""]
    content_type = values[0] if isinstance(values, list) else str(values)
    if content_type.split(";", 1)[0].strip().lower() != PROBLEM_JSON:
        raise AssertionError(f"{response.status_code} answered with {content_type!r}, not {PROBLEM_JSON}")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code}: the problem is not JSON") from None
    if not isinstance(body, dict) or body.get("status") != response.status_code:
        raise AssertionError(f"{response.status_code}: the problem's status does not match the response's")
    if not all(isinstance(body.get(key), str) and body[key] for key in ("type", "title", "detail")):
        raise AssertionError(f"{response.status_code}: a problem needs type, title and detail")
