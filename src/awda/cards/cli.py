"""`awda cards ...`: signing keys, issuing, printing, revoking and verifying protection cards."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from awda.cli.common import JsonOption, emit, progress_bar, state
from awda.errors import ValidationFailed

app = typer.Typer(help="Protection cards: keys, issue, print, revoke, verify.", no_args_is_help=True)
keys_app = typer.Typer(help="The issuer's signing keys and the public trust list.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create_command(
    ctx: typer.Context,
    alg: str = typer.Option("ES256", help="ES256 (default, verifiable in browsers) or EdDSA."),
    as_json: bool = JsonOption,
) -> None:
    """Create a signing key and make it active; the previous key retires but keeps verifying its cards."""
    from awda.cards.keys import create_issuer_key

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        key = create_issuer_key(session, runtime.vault, cli.actor(), runtime.settings.card_issuer, alg)
        result = {"kid": key.kid.hex(), "alg": key.alg, "issuer": key.issuer}
    emit(result, as_json, f"active signing key {result['kid']} ({result['alg']})")


@keys_app.command("list")
def keys_list_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List signing keys (public halves only)."""
    from awda.cards.keys import list_keys

    with state(ctx).runtime().sessions() as session:
        rows = list_keys(session)
    lines = [
        f"{r['kid']}  {r['alg']:<6} {'active' if r['active'] else 'retired ' + str(r['retired_at'])}" for r in rows
    ]
    emit(rows, as_json, "\n".join(lines) or "no keys: run `awda cards keys create`")


@keys_app.command("export")
def keys_export_command(
    ctx: typer.Context, out: Path = typer.Option(..., help="Trust list file to write."), as_json: bool = JsonOption
) -> None:
    """Write the public trust list that offline verifiers load."""
    from awda.cards.keys import trust_list_document

    with state(ctx).runtime().sessions() as session:
        document = trust_list_document(session)
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    emit({"out": str(out), "keys": len(document["keys"])}, as_json, f"{len(document['keys'])} key(s) -> {out}")


@app.command("issue")
def issue_command(
    ctx: typer.Context,
    person: str = typer.Option(..., help="The holder's person uid."),
    agreement: str = typer.Option(..., help="The agreement's code."),
    pdf: Path = typer.Option(None, help="Also write the printable card as PDF."),
    png: Path = typer.Option(None, help="Also write the printable card as PNG."),
    as_json: bool = JsonOption,
) -> None:
    """Issue a protection card; prints its id and QR text."""
    from awda.cards.services import issue_card

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        card = issue_card(session, runtime.vault, runtime.settings, cli.actor(), person, agreement)
    _write_paper(ctx, [card.card_id], pdf, png)
    emit(card.as_dict(), as_json, f"card {card.card_id}\n{card.qr_text}")


@app.command("issue-batch")
def issue_batch_command(
    ctx: typer.Context,
    agreement: str = typer.Option(..., help="The agreement's code."),
    household: str = typer.Option(None, help="Every member of this household."),
    persons: Path = typer.Option(None, help="A file with one person uid per line (for example a convoy)."),
    pdf: Path = typer.Option(None, help="Write every card, one page each, into this PDF."),
    as_json: bool = JsonOption,
) -> None:
    """Issue cards to a batch; every person is checked before any card is issued."""
    from awda.cards.services import household_person_uids, issue_cards

    cli = state(ctx)
    runtime = cli.runtime()
    actor = cli.actor()
    with runtime.sessions() as session:
        uids = _batch_uids(household_person_uids(session, actor, household) if household else None, persons)
        with progress_bar("issuing cards", len(uids), enabled=not as_json) as advance:
            cards = issue_cards(session, runtime.vault, runtime.settings, actor, uids, agreement, on_card=advance)
    _write_paper(ctx, [card.card_id for card in cards], pdf, None)
    emit([card.as_dict() for card in cards], as_json, "\n".join(f"card {c.card_id} -> {c.person}" for c in cards))


def _batch_uids(household_uids: list[str] | None, persons: Path | None) -> list[str]:
    if (household_uids is None) == (persons is None):
        raise ValidationFailed("--household/--persons", "give exactly one of them")
    if household_uids is not None:
        return household_uids
    assert persons is not None
    uids = [line.strip() for line in persons.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not uids:
        raise ValidationFailed("--persons", f"{persons.name} lists no person")
    return uids


@app.command("print")
def print_command(
    ctx: typer.Context,
    card_ids: list[str] = typer.Argument(..., help="Card ids."),
    out: Path = typer.Option(..., help="A .pdf (every card) or .png (the first card) file."),
) -> None:
    """Print cards again (for example after a card was damaged)."""
    if out.suffix.lower() == ".png":
        _write_paper(ctx, card_ids, None, out)
    elif out.suffix.lower() == ".pdf":
        _write_paper(ctx, card_ids, out, None)
    else:
        raise ValidationFailed("--out", "use a .pdf or .png file name")
    typer.echo(f"{len(card_ids)} card(s) -> {out}")


def _write_paper(ctx: typer.Context, card_ids: list[str], pdf: Path | None, png: Path | None) -> None:
    if pdf is None and png is None:
        return
    from awda.cards.documents import printable_cards
    from awda.cards.printing import render_pdf, render_png

    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        document = render_pdf(printable_cards(session, runtime.vault, cli.actor(), card_ids))
    if pdf is not None:
        pdf.write_bytes(document)
    if png is not None:
        png.write_bytes(render_png(document))


@app.command("revoke")
def revoke_command(
    ctx: typer.Context,
    card_id: str,
    reason: str = typer.Option(..., help="lost, stolen, misuse, issued_in_error, replaced or holder_request."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke a card; the next status list carries its bit."""
    from awda.cards.services import revoke_card

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        result = revoke_card(session, cli.actor(), card_id, reason)
    emit(result, as_json, f"card {card_id} revoked ({reason})")


@app.command("status-list")
def status_list_command(
    ctx: typer.Context, out: Path = typer.Option(..., help="Status list file to write."), as_json: bool = JsonOption
) -> None:
    """Write the signed revocation list (Token Status List, CWT) that verifiers cache."""
    from awda.cards.services import status_list_document

    runtime = state(ctx).runtime()
    with runtime.sessions() as session:
        document = status_list_document(session, runtime.vault, runtime.settings)
    out.write_bytes(document)
    emit({"out": str(out), "bytes": len(document)}, as_json, f"status list ({len(document)} bytes) -> {out}")


@app.command("list")
def list_command(
    ctx: typer.Context, person: str = typer.Option(..., help="Person uid."), as_json: bool = JsonOption
) -> None:
    """List a person's cards (no card text)."""
    from awda.cards.services import cards_of_person

    cli = state(ctx)
    with cli.runtime().sessions() as session:
        rows = cards_of_person(session, cli.actor(), person)
    lines = [
        f"{r['card_id']}  {r['agreement']}  until {r['expires_at']}{'  REVOKED' if r['revoked'] else ''}" for r in rows
    ]
    emit(rows, as_json, "\n".join(lines) or "no cards")


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    text: str = typer.Argument(None, help="The card's text (AW1:... or, with --profile hcert, HC1:...)."),
    image: Path = typer.Option(None, exists=True, dir_okay=False, help="Read the QR code from a photo or scan."),
    trust: Path = typer.Option(
        None, help="Trust list (awda) or signer certificate (hcert); default: this installation's keys."
    ),
    status_list: Path = typer.Option(None, "--status-list", help="A cached status list file."),
    at: str = typer.Option(None, help="Verify as of this ISO 8601 time (default: now; UTC if no offset)."),
    profile: str = typer.Option("awda", help="awda (AW1: cards) or hcert (EU DCC HC1: conformance)."),
    as_json: bool = JsonOption,
) -> None:
    """Verify a card offline: signature, expiry and revocation. Exit 1 if it is not valid."""
    if (text is None) == (image is None):
        raise ValidationFailed("TEXT/--image", "give the card's text or --image, not both")
    if image is not None:
        from awda.cards.scan import card_text_from_image

        text = card_text_from_image(image)
    assert text is not None
    result = _verify(ctx, text, trust, status_list, _moment(at), profile)
    emit(result, as_json, _verdict_text(result))
    if not result["valid"]:
        raise typer.Exit(1)


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed("--at", f"{text!r} is not an ISO 8601 time (2026-11-22T10:00:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _verify(
    ctx: typer.Context, text: str, trust: Path | None, status_list: Path | None, at: datetime, profile: str
) -> dict[str, Any]:
    """With --trust, nothing but the files is needed; without, this installation's keys and list."""
    if profile == "hcert":
        from awda.cards.hcert import load_certificate_file, verify_hcert

        if trust is None:
            raise ValidationFailed("--trust", "the hcert profile needs the signer certificate file")
        return verify_hcert(text, load_certificate_file(trust), at).as_dict()
    if profile != "awda":
        raise ValidationFailed("--profile", "use awda or hcert")
    from awda.cards.verify import verify_card

    if trust is not None:
        from awda.cards.trust import load_trust_list

        status = status_list.read_bytes() if status_list is not None else None
        return verify_card(text, load_trust_list(trust), status, at).as_dict()
    from awda.cards.documents import verify_locally

    runtime = state(ctx).runtime()
    with runtime.sessions() as session:
        return verify_locally(session, runtime.vault, runtime.settings, text, at).as_dict()


def _verdict_text(result: dict[str, object]) -> str:
    verdict = "VALID" if result["valid"] else "NOT VALID"
    checks = result["checks"]
    assert isinstance(checks, dict)
    steps = ", ".join(f"{name}={value}" for name, value in checks.items())
    errors = result["errors"]
    reasons = "\n".join(f"  - {error}" for error in errors) if isinstance(errors, list) else ""
    return f"{verdict}  ({steps})" + (f"\n{reasons}" if reasons else "")
