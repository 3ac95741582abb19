"""Pure rules of agreements: the vocabulary of terms and the checks of one agreement record."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from awda.errors import ValidationFailed

TERM_KINDS = frozenset(
    {"no_arrest", "no_conscription", "no_detention", "no_property_seizure", "free_passage", "free_movement", "amnesty"}
)
TERM_SUBJECTS = frozenset({"all", "returnees", "evacuees", "men_18_42"})
CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,63}$")


@dataclass(frozen=True)
class TermRecord:
    code: str
    kind: str
    applies_to: str
    duration_days: int


@dataclass(frozen=True)
class AgreementRecord:
    code: str
    name_en: str
    name_ar: str
    area_pcode: str | None
    guarantor: str
    parties: str
    signed_on: date
    terms: tuple[TermRecord, ...]
    followup_days: tuple[int, ...] = (7, 30, 90, 180, 365)  # when returned households are contacted


def check_code(code: str, field: str = "code") -> str:
    cleaned = code.strip().upper()
    if not CODE.match(cleaned):
        raise ValidationFailed(field, "use 2-64 letters, digits, '.', '_' or '-' (for example AG-2018-NHOMS)")
    return cleaned


def check_term(term: Mapping[str, object], position: int) -> TermRecord:
    """One term from a mapping with code (or term_id), kind, applies_to and duration_days."""
    field = f"terms[{position}]"
    code = check_code(str(term.get("code") or term.get("term_id") or ""), f"{field}.code")
    kind = str(term.get("kind", ""))
    if kind not in TERM_KINDS:
        raise ValidationFailed(
            f"{field}.kind", f"unknown term kind {kind!r}; use one of {', '.join(sorted(TERM_KINDS))}"
        )
    applies_to = str(term.get("applies_to", "all"))
    if applies_to not in TERM_SUBJECTS:
        raise ValidationFailed(f"{field}.applies_to", f"use one of {', '.join(sorted(TERM_SUBJECTS))}")
    duration = term.get("duration_days")
    text = str(duration)
    if not isinstance(duration, int | str) or not (text.isascii() and text.isdigit()) or not 0 < int(text) <= 36500:
        raise ValidationFailed(f"{field}.duration_days", "a whole number of days between 1 and 36500")
    return TermRecord(code, kind, applies_to, int(duration))


def check_terms(terms: list[Mapping[str, object]]) -> tuple[TermRecord, ...]:
    records = tuple(check_term(term, position) for position, term in enumerate(terms))
    codes = [record.code for record in records]
    if len(set(codes)) != len(codes):
        raise ValidationFailed("terms", "two terms share a code")
    return records


def parse_terms_json(text: str) -> list[Mapping[str, object]]:
    """The `terms` column of agreements.csv: a JSON list of term objects."""
    try:
        terms = json.loads(text or "[]")
    except json.JSONDecodeError as error:
        raise ValidationFailed("terms", f"not valid JSON: {error.msg}") from error
    except (ValueError, RecursionError):  # a number of thousands of digits; arrays nested thousands deep
        raise ValidationFailed("terms", "not JSON awda can read (a huge number or deep nesting)") from None
    if not isinstance(terms, list) or not all(isinstance(term, dict) for term in terms):
        raise ValidationFailed("terms", "a JSON list of objects")
    return terms


def check_signed_on(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise ValidationFailed("signed_on", "a date as YYYY-MM-DD") from error
