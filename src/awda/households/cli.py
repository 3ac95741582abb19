"""`awda households ...`: list, show, find, erase, and move intentions."""

from __future__ import annotations

import typer

from awda.access import readers
from awda.cli.common import JsonOption, emit, state
from awda.households import erasure, intentions
from awda.households.rules import IntentionStatus

app = typer.Typer(help="Registered households, their members and intentions.", no_args_is_help=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    site: str = typer.Option(None, help="Site code."),
    limit: int = 50,
    offset: int = 0,
    as_json: bool = JsonOption,
) -> None:
    """List households (no personal fields)."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        page = readers.list_households(session, cli.actor(), site, limit, offset)
    lines = [f"{h['uid']}  {h['site']:<14} {h['registered_on']}  members={h['members']}" for h in page["items"]]
    emit(page, as_json, "\n".join([f"{page['total']} households", *lines]))


@app.command("show")
def show_command(ctx: typer.Context, uid: str, as_json: bool = JsonOption) -> None:
    """Show one household; opening personal fields is logged."""
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        emit(readers.household_for(session, runtime.vault, cli.actor(), uid), as_json)


@app.command("find")
def find_command(
    ctx: typer.Context,
    phone: str = typer.Option(None),
    document: str = typer.Option(None, help="TYPE:NUMBER, for example national_id:01234567890"),
    as_json: bool = JsonOption,
) -> None:
    """Find persons by exact phone number or document (through blind indexes)."""
    if bool(phone) == bool(document):
        raise typer.BadParameter("give exactly one of --phone or --document")
    cli = state(ctx)
    runtime = cli.runtime()
    kind, value = ("phone", phone) if phone else ("document", document)
    if kind == "phone":
        from awda.households.rules import normalise_phone

        value = normalise_phone(value)
    with runtime.sessions() as session:
        found = readers.find_by_identifier(session, runtime.vault, cli.actor(), kind, value)
    emit({"persons": found}, as_json, "\n".join(found) or "no match")


@app.command("erase")
def erase_command(
    ctx: typer.Context, uid: str, yes: bool = typer.Option(False, "--yes", help="Confirm."), as_json: bool = JsonOption
) -> None:
    """Crypto-shred a household's personal fields (irreversible)."""
    if not yes:
        raise typer.BadParameter("erasure cannot be undone; add --yes to confirm")
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        erasure.erase_household(session, cli.actor(), uid)
    emit({"erased": uid}, as_json, f"erased {uid}")


@app.command("move")
def move_command(
    ctx: typer.Context,
    intention_uid: str,
    to: IntentionStatus = typer.Option(..., "--to", help="The new status."),
    reason: str = typer.Option("", help="A reason code."),
    as_json: bool = JsonOption,
) -> None:
    """Change an intention's status (withdraw, waitlist, assign, depart, arrive, cancel)."""
    cli = state(ctx)
    runtime = cli.runtime()
    actor = cli.actor()
    with runtime.sessions() as session:
        version = intentions.change_status(
            session, actor, intention_uid, to, reason, reconfirm_days=runtime.settings.reconfirm_days
        )
    emit(
        {"intention": intention_uid, "status": to.value, "version": version},
        as_json,
        f"{intention_uid} is now {to.value}",
    )


@app.command("reconfirm")
def reconfirm_command(ctx: typer.Context, intention_uid: str, as_json: bool = JsonOption) -> None:
    """Record that the household still wants to travel."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        version = intentions.reconfirm_intention(session, cli.actor(), intention_uid)
    emit(
        {"intention": intention_uid, "reconfirmed": True, "version": version}, as_json, f"{intention_uid} re-confirmed"
    )
