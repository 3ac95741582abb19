"""`awda backup` and `awda restore` (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from awda.backup import services
from awda.backup.ledger import ErasureLedger
from awda.cli.common import JsonOption, emit, progress_bar, state
from awda.db import utcnow
from awda.vault import load_master_key


def backup_command(
    ctx: typer.Context,
    out: Path = typer.Option(None, "--out", help="The file to write (default: a new file in AWDA_BACKUP_DIR)."),
    as_json: bool = JsonOption,
) -> None:
    """Write an encrypted snapshot of the whole database (one read transaction, any engine)."""
    cli = state(ctx)
    runtime = cli.runtime()
    target = out or services.default_backup_path(runtime.settings, utcnow())
    with runtime.sessions() as session, progress_bar("backing up rows", None, enabled=not as_json) as advance:
        report = services.make_backup(session, cli.actor(), load_master_key(runtime.settings), target, advance)
    emit(report, as_json, f"{report['rows']} rows of {report['tables']} tables -> {report['file']}")


def restore_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A file written by `awda backup`."),
    yes: bool = typer.Option(False, "--yes", help="Confirm."),
    replace: bool = typer.Option(False, "--replace", help="Replace everything in a database that is not empty."),
    check: bool = typer.Option(False, "--check", help="Only read and authenticate the whole file; write nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Restore a backup in one transaction, then shred again every household in the erasure ledger."""
    cli = state(ctx)
    runtime = cli.runtime()
    master_key = load_master_key(runtime.settings)
    if check:
        with progress_bar("checking rows", None, enabled=not as_json) as advance:
            report = services.check_backup(master_key, file, advance)
        emit(report, as_json, f"ok: {report['rows']} rows of {report['tables']} tables, made {report['created_at']}")
        return
    if not yes:
        raise typer.BadParameter("a restore writes the whole database; add --yes to confirm")
    ledger = ErasureLedger.for_settings(runtime.settings, master_key)
    with runtime.sessions() as session, progress_bar("restoring rows", None, enabled=not as_json) as advance:
        report = services.restore_backup(
            session, cli.actor(), master_key, file, ledger, replace=replace, on_progress=advance
        )
    text = (
        f"restored {report['rows']} rows of {report['tables']} tables, made {report['created_at']}; "
        f"{report['reapplied_erasures']} erasures from the ledger applied again"
    )
    emit(report, as_json, text)
