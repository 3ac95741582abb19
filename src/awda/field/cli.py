"""`awda field ...`: the XLSForms as .xlsx files, for KoboToolbox or ODK Central (docs/field.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from awda.cli.common import JsonOption, emit, state

app = typer.Typer(help="Field forms (ODK Collect, KoboCollect, Enketo).", no_args_is_help=True)


@app.command("forms")
def forms_command(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="Directory to write the .xlsx forms into."),
    site: list[str] = typer.Option(None, "--site", help="Only this site (repeat for several); default: yours."),
    as_json: bool = JsonOption,
) -> None:
    """Write the registration, follow-up and incident XLSForms with your sites and the gazetteer's places."""
    from awda.field.services import write_form_files

    cli = state(ctx)
    actor = cli.actor()
    with cli.runtime().sessions() as session:
        paths = write_form_files(session, actor, out, list(site or []))
    emit([str(path) for path in paths], as_json, "\n".join(str(path) for path in paths))
