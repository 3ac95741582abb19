"""`awda users ...`: accounts, site scopes and tokens."""

from __future__ import annotations

import secrets
import sys

import typer

from awda.access import services
from awda.cli.common import JsonOption, emit, state

app = typer.Typer(help="User accounts, roles, site scopes and API tokens.", no_args_is_help=True)


def new_password() -> str:
    return secrets.token_urlsafe(15)


@app.command("create")
def create_command(
    ctx: typer.Context,
    username: str,
    role: str = typer.Option(..., help="admin, registrar, coordinator, monitor, analyst or auditor"),
    site: list[str] = typer.Option([], help="Site code in the user's scope (repeatable)."),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
    as_json: bool = JsonOption,
) -> None:
    """Create a user; prints a generated password once unless one is given on stdin."""
    cli = state(ctx)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else new_password()
    actor = cli.actor()
    with cli.runtime().sessions() as session:
        services.create_user(session, actor, username, role, password)
        for code in site:
            services.grant_site(session, actor, username, code)
    shown = None if password_stdin else password
    emit(
        {"username": username, "role": role, "sites": site, "password": shown},
        as_json,
        f"created {role} {username!r}" + (f"; password (shown once): {shown}" if shown else ""),
    )


@app.command("grant")
def grant_command(ctx: typer.Context, username: str, site: str, as_json: bool = JsonOption) -> None:
    """Add a site to a user's scope."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        services.grant_site(session, cli.actor(), username, site)
    emit({"username": username, "site": site}, as_json, f"{username} now covers {site}")


@app.command("list")
def list_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List users, roles and site scopes."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        users = services.list_users(session, cli.actor())
    lines = [f"{u['username']:<20} {u['role']:<12} {','.join(map(str, u['sites']))}" for u in users]  # type: ignore[call-overload]
    emit(users, as_json, "\n".join(lines) or "no users")


@app.command("token")
def token_command(
    ctx: typer.Context,
    username: str,
    hours: int = typer.Option(None, help="Lifetime in hours."),
    as_json: bool = JsonOption,
) -> None:
    """Issue an API token for a user (the local operator's privilege); shown once."""
    cli = state(ctx)
    runtime = cli.runtime()
    ttl = hours or runtime.settings.token_ttl_hours
    with runtime.sessions() as session:
        token = services.issue_token(session, services.actor_by_username(session, username), ttl, "cli")
    emit({"username": username, "token": token, "hours": ttl}, as_json, token)
