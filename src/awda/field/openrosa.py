"""Pure OpenRosa rules: headers, the form list, response documents, multipart bodies and instances.

OpenRosa 1.0 (the Form List, Form Submission and HTTP Request APIs, as ODK Collect, KoboCollect and
Enketo speak them). Nothing here touches storage or the web framework; `api.py` wires it up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as defused
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from awda.errors import ValidationFailed

VERSION = "1.0"
XML_TYPE = "text/xml; charset=utf-8"
FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
RESPONSE_NS = "http://openrosa.org/http/response"
SUBMISSION_PART = "xml_submission_file"
INCOMPLETE_PART = "*isIncomplete*"
# Attachments awda accepts, by declared type and by their first bytes (a declared type is only a claim).
ATTACHMENT_SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_PARTS = 12


def headers(accept_content_length: int | None = None) -> dict[str, str]:
    """The headers every OpenRosa response carries (and the submission size limit where it applies).

    `Date`, which OpenRosa asks for too, is added by the server (uvicorn) to every response.
    """
    values = {"X-OpenRosa-Version": VERSION}
    if accept_content_length is not None:
        values["X-OpenRosa-Accept-Content-Length"] = str(accept_content_length)
    return values


@dataclass(frozen=True)
class ListedForm:
    form_id: str
    name: str
    version: str
    md5: str
    download_url: str


def form_list(forms: Sequence[ListedForm]) -> str:
    """The OpenRosa xforms manifest (Form List API): `hash` is `md5:` and the MD5 of the form's XML."""
    root = ElementTree.Element("xforms", xmlns=FORM_LIST_NS)
    for form in forms:
        entry = ElementTree.SubElement(root, "xform")
        for tag, text in (
            ("formID", form.form_id),
            ("name", form.name),
            ("version", form.version),
            ("hash", f"md5:{form.md5}"),
            ("downloadUrl", form.download_url),
        ):
            ElementTree.SubElement(entry, tag).text = text
    return _document(root)


def response(message: str, nature: str = "") -> str:
    """An OpenRosaResponse document; Collect shows `message` to the person who sent the form."""
    root = ElementTree.Element("OpenRosaResponse", xmlns=RESPONSE_NS)
    element = ElementTree.SubElement(root, "message")
    if nature:
        element.set("nature", nature)
    element.text = message
    return _document(root)


def _document(root: ElementTree.Element) -> str:
    return "<?xml version='1.0' encoding='UTF-8' ?>\n" + ElementTree.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class _Collector:
    parts: list[Part] = field(default_factory=list)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_name: bytes = b""
    header_value: bytes = b""
    data: bytearray = field(default_factory=bytearray)

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_name.lower()] = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.data += data[start:end]

    def on_part_end(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise ValidationFailed("body", f"more than {MAX_PARTS} parts")
        _kind, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        content_type, _ = parse_options_header(self.headers.get(b"content-type", b"application/octet-stream"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        decoded = filename.decode("utf-8", "replace") if filename is not None else None
        self.parts.append(Part(name, decoded, content_type.decode("latin-1").lower(), bytes(self.data)))
        self.headers, self.data = {}, bytearray()


def multipart_parts(content_type: str | None, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body, in memory (the body is bounded by AWDA_MAX_UPLOAD_BYTES)."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ValidationFailed("body", "send multipart/form-data with an xml_submission_file part")
    collector = _Collector()
    callbacks = {
        "on_header_field": collector.on_header_field,
        "on_header_value": collector.on_header_value,
        "on_header_end": collector.on_header_end,
        "on_part_data": collector.on_part_data,
        "on_part_end": collector.on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        parser.write(body)
        parser.finalize()
    except ValidationFailed:
        raise
    except Exception:  # the parser's own errors (a broken boundary, a truncated part)
        raise ValidationFailed("body", "the multipart body is malformed") from None
    return collector.parts


@dataclass(frozen=True)
class Upload:
    """One POST of a submission: the instance XML, its attachments, and whether more posts follow."""

    xml: bytes
    attachments: list[Part]
    incomplete: bool


def upload_from(parts: Sequence[Part]) -> Upload:
    xml = [part for part in parts if part.name == SUBMISSION_PART]
    if len(xml) != 1:
        raise ValidationFailed(SUBMISSION_PART, "send exactly one xml_submission_file part")
    incomplete = any(part.name == INCOMPLETE_PART and part.data.strip().lower() == b"yes" for part in parts)
    files = [part for part in parts if part.name not in {SUBMISSION_PART, INCOMPLETE_PART}]
    return Upload(xml[0].data, files, incomplete)


def check_attachment(part: Part, expected: set[str]) -> str:
    """The attachment's file name, once it is one the instance names, of an allowed type and content."""
    filename = part.filename or part.name
    if not _FILENAME.match(filename):
        raise ValidationFailed("attachment", "a file name of letters, digits, '.', '-' or '_' (at most 100)")
    if filename not in expected:
        raise ValidationFailed("attachment", f"{filename} is not named by any photo question of this submission")
    signatures = ATTACHMENT_SIGNATURES.get(part.content_type)
    if signatures is None:
        allowed = ", ".join(sorted(ATTACHMENT_SIGNATURES))
        raise ValidationFailed("attachment", f"{filename}: type {part.content_type[:40]} is not accepted ({allowed})")
    if not part.data.startswith(signatures):
        raise ValidationFailed("attachment", f"{filename}: the content is not {part.content_type}")
    return filename


@dataclass(frozen=True)
class Instance:
    """A submitted form instance: top-level answers, repeat groups, and the metadata that names it."""

    form_id: str
    version: str
    instance_id: str
    fields: dict[str, str]
    repeats: dict[str, list[dict[str, str]]]

    @property
    def uuid(self) -> str:
        """The instanceID without its `uuid:` prefix: the `_uuid` of Kobo exports."""
        return self.instance_id.removeprefix("uuid:")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_instance(xml: bytes) -> Instance:
    """The instance of an XML submission; one ValidationFailed naming what is wrong, never a parser trace."""
    try:
        root = defused.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException:
        raise ValidationFailed(SUBMISSION_PART, "a document type or entity declaration is not allowed") from None
    except ElementTree.ParseError:
        raise ValidationFailed(SUBMISSION_PART, "is not well-formed XML") from None
    form_id = root.get("id", "")
    fields: dict[str, str] = {}
    repeats: dict[str, list[dict[str, str]]] = {}
    instance_id = ""
    for child in root:
        name = _local(child.tag)
        if name == "meta":
            meta = {_local(e.tag): (e.text or "").strip() for e in child}
            instance_id = meta.get("instanceID", "")
            if meta.get("deprecatedID"):  # an edit of a form sent before: it would register the household twice
                raise ValidationFailed(
                    "meta/deprecatedID", "edits of sent forms are not accepted; correct the record in awda"
                )
        elif len(child):
            repeats.setdefault(name, []).append({_local(e.tag): (e.text or "").strip() for e in child})
        else:
            fields[name] = (child.text or "").strip()
    if not form_id:
        raise ValidationFailed("id", "the instance names no form (the root element's id attribute)")
    if not instance_id or len(instance_id) > 64:
        raise ValidationFailed("meta/instanceID", "is required (at most 64 characters)")
    return Instance(form_id, root.get("version", ""), instance_id, fields, repeats)
