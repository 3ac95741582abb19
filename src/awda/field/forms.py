"""The XLSForm templates: their sources, the lists awda fills in, and the XForms built from them.

Sources are pyxform's markdown layout (`forms/*.md`: one table per sheet, so they diff well). The
choice lists `site` and `place` hold a placeholder row there; awda replaces it with the sites in
the user's scope and the gazetteer's places when it serves a form (`build_form`) or writes the
.xlsx files for KoboToolbox or ODK Central (`write_xlsx`). Everything else is fixed in the source,
and tests/test_field_forms.py checks its vocabularies against awda's rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree

from pyxform.xls2json_backends import md_table_to_workbook
from pyxform.xls2xform import convert

from awda.access.rules import Permission

REGISTRATION, FOLLOWUP, INCIDENT = "awda_registration", "awda_followup", "awda_incident"
FORM_IDS = (REGISTRATION, FOLLOWUP, INCIDENT)
# Who may submit each form; a user's form list holds only the forms their role may submit.
FORM_PERMISSIONS = {
    REGISTRATION: Permission.REGISTER,
    FOLLOWUP: Permission.FOLLOW_UP,
    INCIDENT: Permission.RECORD_INCIDENTS,
}
DYNAMIC_LISTS = ("site", "place")
XFORMS = "{http://www.w3.org/2002/xforms}"


@dataclass(frozen=True)
class Choice:
    """One choice of a list awda fills in: its value and its Arabic and English labels."""

    name: str
    label_ar: str
    label_en: str


@dataclass(frozen=True)
class BuiltForm:
    """An XForm as served to one user: its id, title, version, XML and the hash the form list gives."""

    form_id: str
    title: str
    version: str
    xml: str
    binary_fields: tuple[str, ...]  # names of the questions that take a file (photos)

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml.encode(), usedforsecurity=False).hexdigest()


def source_text(form_id: str) -> str:
    """The markdown XLSForm source of a form, as kept in the repository."""
    if form_id not in FORM_IDS:
        raise KeyError(form_id)
    return resources.files("awda.field").joinpath("forms", f"{form_id}.md").read_text(encoding="utf-8")


def _cell(text: str) -> str:
    """A value as one markdown table cell: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def filled_source(form_id: str, lists: Mapping[str, Sequence[Choice]]) -> str:
    """The source with each dynamic list's placeholder replaced by `lists` and a version naming them.

    The version is the source's version and a digest of the filled lists, so a phone sees an
    update whenever its sites or the gazetteer change, and two different forms never share one.
    """
    text = source_text(form_id)
    digest = hashlib.sha256()
    for list_name in DYNAMIC_LISTS:
        placeholder = re.compile(rf"^\| \| {list_name} \| .*\n", re.MULTILINE)
        if not placeholder.search(text):
            continue
        choices = lists.get(list_name, ())
        rows = "".join(
            f"| | {list_name} | {_cell(c.name)} | {_cell(c.label_ar)} | {_cell(c.label_en)} |\n" for c in choices
        )
        digest.update(rows.encode())
        text = placeholder.sub(rows.replace("\\", "\\\\"), text, count=1)
    match = re.search(rf"^\| \| [^|]+ \| {form_id} \| (?P<version>\w+) \|", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"{form_id}: the settings row is missing")
    version = f"{match['version']}.{digest.hexdigest()[:10]}"
    start, end = match.span("version")
    return text[:start] + version + text[end:]


def needed_lists(form_id: str) -> tuple[str, ...]:
    """The dynamic lists a form uses."""
    text = source_text(form_id)
    return tuple(name for name in DYNAMIC_LISTS if re.search(rf"^\| \| {name} \| ", text, re.MULTILINE))


def binary_fields(form_id: str) -> tuple[str, ...]:
    """The questions of a form that take a file (a photo): the only attachments its submissions may carry."""
    return tuple(re.findall(r"^\| \| (?:image|audio|video|file) \| (\w+) \|", source_text(form_id), re.MULTILINE))


def build_form(form_id: str, lists: Mapping[str, Sequence[Choice]]) -> BuiltForm:
    """The XForm of `form_id` with these lists (conversions are cached: the same lists, the same XML)."""
    return _converted(filled_source(form_id, lists))


@lru_cache(maxsize=32)
def _converted(text: str) -> BuiltForm:
    result = convert(text.encode(), file_type=".md", form_name="data")
    xml: str = result.xform
    return _described(xml)


def _described(xml: str) -> BuiltForm:
    root = ElementTree.fromstring(xml)  # noqa: S314 - pyxform's own output from our sources, not outside input
    title = root.findtext("{http://www.w3.org/1999/xhtml}head/{http://www.w3.org/1999/xhtml}title") or ""
    model = root.find(f".//{XFORMS}model")
    instance = model.find(f"{XFORMS}instance") if model is not None else None
    data = instance[0] if instance is not None and len(instance) else None
    if model is None or data is None:
        raise ValueError("the XForm has no primary instance")
    binaries = tuple(
        str(bind.get("nodeset", "")).rsplit("/", 1)[-1]
        for bind in model.iter(f"{XFORMS}bind")
        if bind.get("type") == "binary"
    )
    return BuiltForm(str(data.get("id")), title, str(data.get("version", "")), xml, binaries)


def write_xlsx(form_id: str, lists: Mapping[str, Sequence[Choice]], directory: Path) -> Path:
    """Write the form as an .xlsx XLSForm (for KoboToolbox or ODK Central); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{form_id}.xlsx"
    md_table_to_workbook(filled_source(form_id, lists)).save(path)
    return path
