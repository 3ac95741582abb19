"""What every command shares: settings, runtime, the acting user, output and progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from awda.access.rules import Actor
from awda.access.services import SYSTEM, actor_by_username
from awda.errors import ValidationFailed
from awda.runtime import Runtime, open_runtime
from awda.settings import Settings

stderr = Console(stderr=True)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")


class CliState:
    """Options of the top-level command, shared by subcommands through the Typer context."""

    def __init__(self, user: str | None) -> None:
        self.user = user
        self._runtime: Runtime | None = None

    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = open_runtime(Settings())
        return self._runtime

    def close(self) -> None:
        """Release database connections when the command ends."""
        if self._runtime is not None:
            self._runtime.engine.dispose()
            self._runtime = None

    def actor(self) -> Actor:
        """The local operator acts as `system` unless --user names an account to act as."""
        if self.user is None:
            return SYSTEM
        with self.runtime().sessions() as session:
            return actor_by_username(session, self.user)


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_object(CliState)
    if found is None:
        found = CliState(None)
        ctx.obj = found
    return found


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print JSON (machine) or a short text (person)."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(text if text is not None else json.dumps(data, ensure_ascii=False, indent=2, default=str))


@contextmanager
def progress_bar(description: str, total: int | None, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr; yields a function that advances it by n."""
    if not enabled:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def day_or_today(text: str | None, field: str = "today") -> date:
    """A date option given as YYYY-MM-DD, or today when it is left out."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(field, "a date as YYYY-MM-DD") from None
