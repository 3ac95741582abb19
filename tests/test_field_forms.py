"""The XLSForm templates: they convert with pyxform, speak Arabic and English, name their fields as the
import files do, offer exactly awda's vocabularies, and carry only the sites they are given."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from pyxform.xls2json_backends import md_to_dict
from pyxform.xls2xform import convert
from sqlalchemy.orm import Session

from awda.field.forms import (
    FOLLOWUP,
    FORM_IDS,
    INCIDENT,
    REGISTRATION,
    Choice,
    binary_fields,
    build_form,
    filled_source,
    source_text,
)
from awda.households import rows
from awda.households import rules as household_rules
from awda.monitoring import importing
from awda.monitoring import rules as monitoring_rules
from tests.conftest import Done, make_user

XF = "{http://www.w3.org/2002/xforms}"
LANGUAGES = ("Arabic (ar)", "English (en)")
SITES = [Choice("RUKBAN", "مخيم الركبان", "Rukban camp"), Choice("ATMEH", "مخيمات أطمة", "Atmeh camps")]
PLACES = [Choice("C4402", "الركبان (C4402)", "Rukban (C4402)"), Choice("C6101", "أطمة (C6101)", "Atmeh (C6101)")]
LISTS = {"site": SITES, "place": PLACES}

# Every vocabulary of awda's rules, and the form list that must offer exactly it.
VOCABULARIES: dict[tuple[str, str], frozenset[str]] = {
    (REGISTRATION, "relationship"): household_rules.RELATIONSHIPS,
    (REGISTRATION, "sex"): household_rules.SEXES,
    (REGISTRATION, "document_type"): household_rules.DOCUMENT_TYPES,
    (REGISTRATION, "vulnerability"): household_rules.VULNERABILITIES,
    (REGISTRATION, "consent_purpose"): household_rules.CONSENT_PURPOSES,
    (REGISTRATION, "intention_kind"): frozenset(kind.value for kind in household_rules.IntentionKind),
    (FOLLOWUP, "outcome"): frozenset(outcome.value for outcome in monitoring_rules.RECORDABLE_OUTCOMES),
    (INCIDENT, "incident_type"): frozenset(kind.value for kind in monitoring_rules.IncidentType),
    (INCIDENT, "perpetrator_category"): monitoring_rules.PERPETRATOR_CATEGORIES,
    (INCIDENT, "source"): monitoring_rules.SOURCES,
    (INCIDENT, "verification"): frozenset(level.value for level in monitoring_rules.Verification),
    (INCIDENT, "date_precision"): monitoring_rules.DATE_PRECISIONS,
}


def sheets(form_id: str) -> dict[str, Any]:
    book: dict[str, Any] = md_to_dict(source_text(form_id))
    return book


def questions(form_id: str) -> list[dict[str, str]]:
    return [row for row in sheets(form_id)["survey"] if row.get("type") not in {"end_repeat"}]


def field_names(form_id: str) -> set[str]:
    kinds = {"begin_repeat", "note", "end_repeat"}
    return {row["name"] for row in questions(form_id) if row["type"] not in kinds}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_form_converts_and_its_xform_is_sound(form_id: str) -> None:
    warnings: list[str] = []
    result = convert(filled_source(form_id, LISTS).encode(), warnings=warnings, file_type=".md", form_name="data")
    assert warnings == []
    root = ElementTree.fromstring(result.xform)
    data = root.find(f".//{XF}model/{XF}instance")[0]  # type: ignore[index]
    assert data.get("id") == form_id and data.get("version", "").startswith("1.")
    nodes = {"/data" + path for path in _paths(data, "")}
    binds = [bind.get("nodeset") for bind in root.iter(f"{XF}bind")]
    assert binds and [bind for bind in binds if bind not in nodes] == []
    assert "/data/meta/instanceID" in binds
    assert data.find(f"{XF}meta/{XF}instanceID") is not None


def _paths(element: ElementTree.Element, prefix: str) -> set[str]:
    found = set()
    for child in element:
        path = f"{prefix}/{child.tag.rsplit('}', 1)[-1]}"
        found |= {path} | _paths(child, path)
    return found


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_question_and_choice_speaks_arabic_and_english(form_id: str) -> None:
    book = sheets(form_id)
    labelled = [row for row in book["survey"] if row["type"] not in {"end_repeat", "calculate", "today", "username"}]
    for row in labelled + book["choices"]:
        for language in LANGUAGES:
            assert row.get(f"label::{language}"), (form_id, row.get("name"), language)
    arabic = re.compile(r"[\u0621-\u064A]")
    assert all(arabic.search(row["label::Arabic (ar)"]) for row in labelled)
    for row in book["survey"]:
        if row.get("constraint"):
            assert all(row.get(f"constraint_message::{language}") for language in LANGUAGES), row["name"]
    settings = book["settings"][0]
    assert settings["form_id"] == form_id and settings["default_language"] == "Arabic (ar)"


@pytest.mark.parametrize(("form_id", "list_name"), sorted(VOCABULARIES))
def test_choice_lists_are_awdas_vocabularies(form_id: str, list_name: str) -> None:
    offered = {row["name"] for row in sheets(form_id)["choices"] if row["list_name"] == list_name}
    assert offered == set(VOCABULARIES[form_id, list_name])


def test_a_vocabulary_that_changes_in_the_rules_fails_the_check() -> None:
    changed = household_rules.RELATIONSHIPS | {"cousin"}
    offered = {row["name"] for row in sheets(REGISTRATION)["choices"] if row["list_name"] == "relationship"}
    assert offered != changed


def test_every_choice_list_of_a_form_is_checked_or_filled_by_awda() -> None:
    for form_id in FORM_IDS:
        lists = {row["list_name"] for row in sheets(form_id)["choices"]}
        assert lists <= {name for (form, name) in VOCABULARIES if form == form_id} | {"site", "place"}


def test_field_names_are_the_import_columns() -> None:
    registration = field_names(REGISTRATION)
    assert registration == set(rows.HOUSEHOLD_COLUMNS + rows.PERSON_COLUMNS) - {"_uuid"}
    assert field_names(FOLLOWUP) == set(importing.FOLLOWUP_COLUMNS)
    incident = field_names(INCIDENT)
    assert set(importing.INCIDENT_COLUMNS) - {"incident_id"} <= incident
    optional = {"date_precision", "source", "reporter_name", "reporter_contact"}  # optional import columns
    assert incident - set(importing.INCIDENT_COLUMNS) == optional | {"evidence"}


def test_only_the_incident_form_takes_a_photo() -> None:
    assert [binary_fields(form_id) for form_id in FORM_IDS] == [(), (), ("evidence",)]


def test_the_constraints_mirror_awdas_checks() -> None:
    by_name = {row["name"]: row for row in questions(REGISTRATION)}
    assert by_name["relationship"]["constraint"].count("'head'") == 2  # the first member, and only they, is head
    assert by_name["given_name_lat"]["required"] == "${given_name_ar} = ''"  # a given name in either script
    assert by_name["birth_year"]["relevant"] == "${birth_date} = ''"  # birth_date or birth_year
    assert by_name["document_number"]["relevant"] == "${document_type} != ''"  # the number goes with a type
    phone = re.search(r"regex\(\., '(.+)'\)", by_name["phone"]["constraint"])
    assert phone is not None and phone.group(1) == household_rules.PHONE_PATTERN.pattern
    assert "selected(., 'registration')" in by_name["consent_purposes"]["constraint"]
    for name in ("consent_date", "birth_date"):
        assert ". <= today()" in by_name[name]["constraint"]
    incident = {row["name"]: row for row in questions(INCIDENT)}
    assert "format-date(${date}, '%e') = '1'" in incident["date_precision"]["constraint"]  # the 1st of the month


def test_the_served_form_carries_only_the_sites_it_is_given() -> None:
    one = build_form(REGISTRATION, {"site": SITES[:1], "place": PLACES})
    both = build_form(REGISTRATION, LISTS)
    assert "RUKBAN" in one.xml and "ATMEH" not in one.xml and "ATMEH" in both.xml
    assert one.version != both.version and one.md5 != both.md5
    assert build_form(REGISTRATION, {"site": SITES[:1], "place": PLACES}) == one  # the same lists, the same form
    assert "مخيم الركبان" in one.xml and "Rukban camp" in one.xml


def test_a_label_from_the_database_cannot_break_the_table() -> None:
    odd = [Choice("RUKBAN", "مخيم | الركبان", "Rukban\ncamp \\ east")]
    form = build_form(REGISTRATION, {"site": odd, "place": PLACES})
    assert "مخيم | الركبان" in form.xml and "Rukban camp \\ east" in form.xml


def test_no_form_preloads_a_household(session: Session) -> None:
    for form_id in FORM_IDS:
        types = {row["type"].split()[0] for row in questions(form_id)}
        assert not types & {"select_one_from_file", "select_multiple_from_file", "csv-external", "xml-external"}
        assert "pulldata" not in source_text(form_id) and "instance(" not in source_text(form_id)


def test_awda_field_forms_writes_xlsforms_that_pyxform_reads(
    awda: Any, tmp_path: Path, session: Session, gazetteer: None
) -> None:
    awda("init")
    make_user(session, "reg-forms", "registrar", ("RUKBAN",))
    done: Done = awda("--user", "reg-forms", "field", "forms", "--out", str(tmp_path / "forms"), "--json")
    assert len(done.stdout.strip().splitlines()) > 3
    for form_id in FORM_IDS:
        path = tmp_path / "forms" / f"{form_id}.xlsx"
        result = convert(str(path), form_name="data")
        assert f'id="{form_id}"' in result.xform
    registration = convert(str(tmp_path / "forms" / f"{REGISTRATION}.xlsx"), form_name="data").xform
    assert "RUKBAN" in registration and "ATMEH" not in registration and "C6101" in registration
    refused = awda("--user", "reg-forms", "field", "forms", "--out", str(tmp_path / "x"), "--site", "ATMEH", expect=1)
    assert "ATMEH" in refused.stderr + refused.stdout
