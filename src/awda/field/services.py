"""Field actions: which forms a user gets (with only their own sites), and receiving a submission.

`receive_submission` is one named action, idempotent by `meta/instanceID`: the first post writes
the record (through the same commands as the imports) and one `receive_submission` event; a repeat
of the same content changes nothing; the same instanceID with other content is a conflict.
Attachments are sealed by the vault under a data key of the submission's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.rules import Actor, has_permission
from awda.access.services import own_sites, require
from awda.audit.services import record_event
from awda.db import action, utcnow
from awda.errors import Conflict, NotFound, ValidationFailed
from awda.field.forms import (
    FORM_IDS,
    FORM_PERMISSIONS,
    BuiltForm,
    Choice,
    binary_fields,
    build_form,
    needed_lists,
    write_xlsx,
)
from awda.field.models import FieldAttachment, FieldSubmission
from awda.field.openrosa import Instance, Part, Upload, check_attachment, parse_instance
from awda.field.submissions import write_record
from awda.places.models import Place
from awda.vault import Vault


@dataclass(frozen=True)
class Receipt:
    """What a POST did: `duplicate` (nothing new), or the record and whether attachments are still due."""

    instance_id: str
    form_id: str
    record_uid: str | None
    complete: bool
    duplicate: bool
    attachments_added: int
    attachments_missing: int = 0  # files the instance names that no post has brought (yet)


def choice_lists(session: Session, actor: Actor) -> dict[str, list[Choice]]:
    """The lists awda fills in for this user: the sites of their scope and the gazetteer's places."""
    sites = [Choice(site.code, site.name_ar, site.name_en) for site in own_sites(session, actor)]
    places = [
        Choice(place.pcode, f"{place.name_ar} ({place.pcode})", f"{place.name_en} ({place.pcode})")
        for place in session.scalars(select(Place).order_by(Place.pcode))
    ]
    return {"site": sites, "place": places}


def forms_for(session: Session, actor: Actor) -> list[BuiltForm]:
    """The forms this user may submit, each with only the user's own sites (none when a list is empty)."""
    lists = choice_lists(session, actor)
    return [
        build_form(form_id, lists)
        for form_id in FORM_IDS
        if has_permission(actor, FORM_PERMISSIONS[form_id]) and all(lists[name] for name in needed_lists(form_id))
    ]


def form_for(session: Session, actor: Actor, form_id: str) -> BuiltForm:
    """One of the user's forms; a form not in their list looks absent."""
    for form in forms_for(session, actor):
        if form.form_id == form_id:
            return form
    raise NotFound(f"no form {form_id[:40]!r} for this user")


def _expected_files(instance: Instance) -> set[str]:
    """The file names the instance's photo questions give."""
    return {instance.fields.get(name, "") for name in binary_fields(instance.form_id)} - {""}


def _checked_attachments(instance: Instance, attachments: list[Part]) -> list[tuple[str, Part]]:
    """Each file once, named by a photo question of the instance, of an allowed type."""
    expected = _expected_files(instance)
    checked = [(check_attachment(part, expected), part) for part in attachments]
    names = [name for name, _ in checked]
    if len(set(names)) != len(names):
        raise ValidationFailed("attachment", "the same file is sent twice")
    return checked


def receive_submission(session: Session, vault: Vault, actor: Actor, upload: Upload) -> Receipt:
    """Receive one POST of a submission (the whole instance and some or all of its attachments)."""
    instance = parse_instance(upload.xml)
    if instance.form_id not in FORM_PERMISSIONS:
        raise ValidationFailed("id", f"awda has no form {instance.form_id[:40]!r}")
    require(actor, FORM_PERMISSIONS[instance.form_id])
    attachments = _checked_attachments(instance, upload.attachments)
    fingerprint = vault.fingerprint(b"field-instance\x00" + upload.xml)
    with action(session):
        submission = session.scalar(
            select(FieldSubmission).where(FieldSubmission.instance_id == instance.instance_id).with_for_update()
        )
        if submission is not None:
            if submission.fingerprint != fingerprint or submission.form_id != instance.form_id:
                raise Conflict(f"{instance.instance_id} was received already with different content")
            if submission.submitted_by != actor.user_id:
                raise Conflict(f"{instance.instance_id} was received already from another user")
            if submission.complete:
                return Receipt(instance.instance_id, instance.form_id, submission.record_uid, True, True, 0)
        else:
            submission = _new_submission(session, vault, actor, instance, fingerprint)
        added, held = _store_attachments(session, vault, submission, attachments)
        missing = len(_expected_files(instance) - held)
        submission.complete = not upload.incomplete
        submission.completed_at = utcnow() if submission.complete else None
        payload = {"form": instance.form_id, "complete": submission.complete, "attachments": added}
        record_event(
            session,
            actor,
            "receive_submission",
            "submission",
            instance.instance_id,
            payload | {"attachments_missing": missing},
            submission.site_id,
        )
    record_uid, complete = submission.record_uid, submission.complete
    return Receipt(instance.instance_id, instance.form_id, record_uid, complete, False, added, missing)


def _new_submission(
    session: Session, vault: Vault, actor: Actor, instance: Instance, fingerprint: bytes
) -> FieldSubmission:
    written = write_record(session, vault, actor, instance)
    _data_key, wrapped = vault.new_data_key(f"submission:{instance.instance_id}")
    submission = FieldSubmission(
        instance_id=instance.instance_id,
        form_id=instance.form_id,
        form_version=instance.version[:64],
        fingerprint=fingerprint,
        complete=False,
        wrapped_key=wrapped,
        record_type=written.record_type,
        record_uid=written.record_uid,
        site_id=written.site_id,
        submitted_by=actor.user_id,
    )
    session.add(submission)
    session.flush()
    return submission


def _store_attachments(
    session: Session, vault: Vault, submission: FieldSubmission, attachments: list[tuple[str, Part]]
) -> tuple[int, set[str]]:
    """Seal and store the files not received before (a file re-sent with other content is a conflict);
    how many were added, and the names of every file the submission now holds."""
    stored = {
        row.filename: row.fingerprint
        for row in session.scalars(select(FieldAttachment).where(FieldAttachment.submission_id == submission.id))
    }
    if not attachments:
        return 0, set(stored)
    data_key = vault.unwrap(submission.wrapped_key, f"submission:{submission.instance_id}")
    added = 0
    for filename, part in attachments:
        fingerprint = vault.fingerprint(b"field-attachment\x00" + part.data)
        if filename in stored:
            if stored[filename] != fingerprint:
                raise Conflict(f"{filename} was received already with different content")
            continue
        context = f"submission:{submission.instance_id}:{filename}"
        session.add(
            FieldAttachment(
                submission_id=submission.id,
                filename=filename,
                content_type=part.content_type,
                size=len(part.data),
                fingerprint=fingerprint,
                sealed=vault.seal(data_key, part.data, context),
            )
        )
        added += 1
    return added, set(stored) | {filename for filename, _ in attachments}


def write_form_files(session: Session, actor: Actor, directory: Path, site_codes: list[str]) -> list[Path]:
    """The .xlsx XLSForms (for KoboToolbox or ODK Central) with the actor's sites, or only `site_codes`."""
    lists = choice_lists(session, actor)
    if site_codes:
        wanted = {code.upper() for code in site_codes}
        unknown = sorted(wanted - {choice.name for choice in lists["site"]})
        if unknown:
            raise NotFound(f"no site {unknown[0]!r} in your sites")
        lists["site"] = [choice for choice in lists["site"] if choice.name in wanted]
    return [write_xlsx(form_id, lists, directory) for form_id in FORM_IDS]
