"""What Splink compares: each row's roles turned into keys, dates, digits and capped blocking keys.

Rows are read in batches and turned into pyarrow record batches, so Python holds one batch at a
time; the database (DuckDB or Spark) holds the table. Name features come from `names.py`: the
script-agnostic `name_key` and the set of `phonetic_key`s over every spelling of a role, so
Mohammed, Muhammad, محمد and Mhd meet. Nothing here raises on a bad value: a date or phone that
cannot be read becomes null and simply does not count as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import pyarrow as pa

from awda.errors import ValidationFailed
from awda.linkage.names import name_key, name_tokens, phonetic_key
from awda.linkage.roles import NAME_ROLES, Field, columns_by_role

Row = Mapping[str, Any]
BATCH_ROWS: Final = 5_000
SPACES = re.compile(r"\s+")
NOT_DIGITS = re.compile(r"\D+")
ID_SEPARATORS = re.compile(r"[\s\-_./]+")
SEXES: Final = {"m": "m", "male": "m", "ذكر": "m", "f": "f", "female": "f", "أنثى": "f", "انثى": "f"}

# Composite blocking keys: (column, the parts it joins). A key is null when a part is missing.
BLOCKING_KEYS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("bk_id", ("id_number",)),
    ("bk_phone", ("phone",)),
    ("bk_given_family_year", ("given_name_ph1", "family_name_ph1", "birth_year")),
    ("bk_names_any_order", ("given_name_ph1", "family_name_ph1")),
    ("bk_birth_date", ("birth_date_text",)),
    ("bk_family_father", ("family_name_ph1", "father_name_ph1")),
    ("bk_given_father", ("given_name_ph1", "father_name_ph1")),
    ("bk_date_initial", ("birth_date_text", "given_name_initial")),
    ("bk_family_date", ("family_name_ph1", "birth_date_text")),
    ("bk_given_date", ("given_name_ph1", "birth_date_text")),
    ("bk_full_ends", ("full_name_first", "full_name_last")),
    ("bk_full_first_year", ("full_name_first", "birth_year")),
    ("bk_post_street", ("postcode", "street_number")),
    ("bk_family_post", ("family_name_ph1", "postcode")),
    ("bk_given_post", ("given_name_ph1", "postcode")),
    ("bk_street_address", ("street_number", "address_head")),
    ("bk_family_locality", ("family_name_ph1", "locality")),
    ("bk_given_street", ("given_name_ph1", "street_number")),
    ("bk_family_street", ("family_name_ph1", "street_number")),
    ("bk_address_locality", ("address_head", "locality")),
)


@dataclass(frozen=True)
class FeaturePlan:
    """Which roles are present (with their columns) and so which feature columns exist."""

    roles: dict[str, list[str]]
    id_column: str
    raw_names: bool = False  # also the raw lower-cased names, for the plain Splink model

    @classmethod
    def of(cls, fields: Sequence[Field], id_column: str, raw_names: bool = False) -> FeaturePlan:
        return cls(columns_by_role(fields), id_column, raw_names)

    def has(self, role: str) -> bool:
        return role in self.roles

    def has_birth(self) -> bool:
        return self.has("birth_date") or self.has("birth_year")

    def value_columns(self) -> list[tuple[str, pa.DataType]]:
        """Feature columns (besides unique_id and the blocking keys) and their types."""
        text, words = pa.string(), pa.list_(pa.string())
        columns: list[tuple[str, pa.DataType]] = []
        for role in NAME_ROLES:
            if self.has(role):
                columns += [(f"{role}_key", text), (f"{role}_keys", words), (f"{role}_ph", words)]
        if self.has("full_name"):
            columns += [("full_name_key", text), ("full_name_tokens", words)]
        if self.has_birth():
            columns += [("birth_date", pa.date32()), ("birth_date_text", text), ("birth_year", pa.int32())]
            columns += [("birth_month", pa.int32()), ("birth_day", pa.int32())]
        if self.raw_names:
            columns += [(f"{role}_raw", text) for role in (*NAME_ROLES, "full_name") if self.has(role)]
        for role in ("sex", "id_number", "phone", "address", "street_number", "locality", "postcode", "region"):
            if self.has(role):
                columns.append((role, text))
        return columns

    def blocking_keys(self) -> list[str]:
        """The composite keys every part of which this plan can fill."""
        available = self._parts_available()
        return [name for name, parts in BLOCKING_KEYS if all(part in available for part in parts)]

    def _parts_available(self) -> set[str]:
        parts = {name for name, _ in self.value_columns()}
        for role in NAME_ROLES:
            if self.has(role):
                parts |= {f"{role}_ph1", f"{role}_initial"}
        if self.has("full_name"):
            parts |= {"full_name_first", "full_name_last"}
        if self.has("address"):
            parts.add("address_head")
        return parts

    def schema(self) -> pa.Schema:
        columns = [("unique_id", pa.string()), *self.value_columns()]
        columns += [(key, pa.string()) for key in self.blocking_keys()]
        return pa.schema(columns)


def squeeze(text: str | None) -> str | None:
    """Lower case, one space between words, None when nothing is left."""
    if text is None:
        return None
    cleaned = SPACES.sub(" ", text).strip().lower()
    return cleaned or None


def parse_birth_date(text: str | None) -> date | None:
    """`YYYY-MM-DD`, `YYYYMMDD` or `DD/MM/YYYY`; anything else (or an impossible day) is None."""
    value = (text or "").strip()
    try:
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            return date(int(value[:4]), int(value[5:7]), int(value[8:]))
        if len(value) == 8 and value.isdigit():
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) == 10 and value[2] == "/" and value[5] == "/":
            return date(int(value[6:]), int(value[3:5]), int(value[:2]))
    except ValueError:
        return None
    return None


def parse_birth_year(text: str | None) -> int | None:
    value = (text or "").strip()
    return int(value) if len(value) == 4 and value.isdigit() and 1850 <= int(value) <= 2200 else None


def national_phone(text: str | None) -> str | None:
    """Digits only, as the national number: `09...`, `+9639...` and `009639...` meet (the last 9 digits)."""
    digits = NOT_DIGITS.sub("", text or "")
    if len(digits) < 7:
        return None
    return digits[-9:]


def clean_id(text: str | None) -> str | None:
    value = ID_SEPARATORS.sub("", text or "").upper()
    return value or None


def plain_text(text: str | None) -> str | None:
    value = (text or "").strip()
    return value or None


def _spellings(row: Row, columns: Sequence[str]) -> list[str]:
    return [text for column in columns if (text := plain_text(row.get(column)))]


def _distinct(values: Iterable[str]) -> list[str]:
    return sorted({value for value in values if value})


def _name_features(out: dict[str, Any], role: str, spellings: list[str]) -> None:
    keys = [name_key(text) for text in spellings]
    phonetics = [phonetic_key(text) for text in spellings]
    out[f"{role}_key"] = next((key for key in keys if key), None)
    out[f"{role}_keys"] = _distinct(keys) or None
    out[f"{role}_ph"] = _distinct(phonetics) or None
    out[f"{role}_ph1"] = next((key for key in phonetics if key), None)
    primary = out[f"{role}_key"]
    out[f"{role}_initial"] = primary[0] if primary else None


def _full_name_features(out: dict[str, Any], spellings: list[str]) -> None:
    out["full_name_key"] = next((key for text in spellings if (key := name_key(text))), None)
    tokens = [token for text in spellings for token in name_tokens(text) if token]
    first_spelling = name_tokens(spellings[0]) if spellings else []
    out["full_name_tokens"] = _distinct(tokens) or None
    out["full_name_first"] = first_spelling[0] if first_spelling else None
    out["full_name_last"] = first_spelling[-1] if len(first_spelling) > 1 else None


def _birth_features(out: dict[str, Any], row: Row, plan: FeaturePlan) -> None:
    born = next(
        filter(None, (parse_birth_date(text) for text in _spellings(row, plan.roles.get("birth_date", [])))), None
    )
    year = born.year if born else None
    if year is None:
        year = next(
            filter(None, (parse_birth_year(text) for text in _spellings(row, plan.roles.get("birth_year", [])))), None
        )
    out["birth_date"] = born
    out["birth_date_text"] = born.strftime("%Y%m%d") if born else None
    out["birth_year"] = year
    out["birth_month"] = born.month if born else None
    out["birth_day"] = born.day if born else None


def _other_features(out: dict[str, Any], row: Row, plan: FeaturePlan) -> None:
    def first(role: str) -> list[str]:
        return _spellings(row, plan.roles.get(role, []))

    if plan.has("sex"):
        out["sex"] = next((SEXES[key] for text in first("sex") if (key := text.strip().lower()) in SEXES), None)
    if plan.has("id_number"):
        out["id_number"] = next(filter(None, map(clean_id, first("id_number"))), None)
    if plan.has("phone"):
        out["phone"] = next(filter(None, map(national_phone, first("phone"))), None)
    for role in ("address", "locality", "region"):
        if plan.has(role):
            out[role] = squeeze(" ".join(first(role)))
    for role in ("street_number", "postcode"):
        if plan.has(role):
            out[role] = next(iter(first(role)), None)
    if plan.has("address"):
        words = (out["address"] or "").split(" ")
        out["address_head"] = words[0][:6] or None


def row_features(row: Row, plan: FeaturePlan, row_number: int) -> dict[str, Any]:
    """One input row as the feature columns of `plan.schema()` (blocking keys uncapped)."""
    identifier = plain_text(row.get(plan.id_column))
    if identifier is None:
        raise ValidationFailed(plan.id_column, "the id is empty", row_number)
    out: dict[str, Any] = {"unique_id": identifier}
    for role in NAME_ROLES:
        if plan.has(role):
            _name_features(out, role, _spellings(row, plan.roles[role]))
    if plan.has("full_name"):
        _full_name_features(out, _spellings(row, plan.roles["full_name"]))
    if plan.has_birth():
        _birth_features(out, row, plan)
    _other_features(out, row, plan)
    if plan.raw_names:
        for role in (*NAME_ROLES, "full_name"):
            if plan.has(role):
                out[f"{role}_raw"] = squeeze(next(iter(_spellings(row, plan.roles[role])), None))
    for key, parts in BLOCKING_KEYS:
        values = [str(value) for part in parts if (value := out.get(part)) is not None]
        if key.endswith("_any_order"):  # given and family names written in each other's place still meet
            values.sort()
        out[key] = "|".join(values) if len(values) == len(parts) else None
    return out


def _rows_of(rows: Iterable[Row] | pa.Table) -> Iterator[Row]:
    if isinstance(rows, pa.Table):
        for batch in rows.to_batches(max_chunksize=BATCH_ROWS):
            yield from batch.to_pylist()
    else:
        yield from rows


def feature_batches(
    rows: Iterable[Row] | pa.Table, plan: FeaturePlan, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """The rows as record batches of `plan.schema()`; the first data row is row 2 (after the header)."""
    schema = plan.schema()
    names = schema.names
    pending: list[dict[str, Any]] = []
    for number, row in enumerate(_rows_of(rows), start=2):
        pending.append(row_features(row, plan, number))
        if len(pending) >= batch_rows:
            yield pa.RecordBatch.from_pylist(
                [{name: item.get(name) for name in names} for item in pending], schema=schema
            )
            pending = []
    if pending:
        yield pa.RecordBatch.from_pylist([{name: item.get(name) for name in names} for item in pending], schema=schema)


def capped_keys_sql(source: str, plan: FeaturePlan, cap: int) -> str:
    """SELECT of `source` with every blocking key shared by more than `cap` rows set to null.

    A window count per key value (the same SQL on DuckDB and Spark) keeps very common names
    (Mohammed, Ahmad) from producing millions of pairs; the other keys still find those people.
    """
    kept = ["unique_id", *(name for name, _ in plan.value_columns())]
    capped = [
        f"case when count({key}) over (partition by {key}) > {int(cap)} then null else {key} end as {key}"
        for key in plan.blocking_keys()
    ]
    return f"select {', '.join(kept + capped)} from {source}"  # noqa: S608 (column names are ours, never a file's)
