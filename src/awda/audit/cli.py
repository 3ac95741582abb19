"""`awda audit ...`: tree heads, verification, proofs, and verifiers that need no database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer

from awda.audit import merkle, services
from awda.cli.common import JsonOption, emit, state
from awda.errors import ValidationFailed

app = typer.Typer(help="The tamper-evident event log (docs/audit.md).", no_args_is_help=True)
prove_app = typer.Typer(help="Proofs against the stored log, for third parties.", no_args_is_help=True)
app.add_typer(prove_app, name="prove")

Parsed = TypeVar("Parsed")


@app.command("head")
def head_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Issue a signed tree head over every event stored now."""
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        head = services.issue_tree_head(session, runtime.vault, cli.actor())
    emit(head, as_json, f"tree head {head['id']}: size {head['tree_size']}, root {head['root']}, kid {head['kid']}")


@app.command("verify")
def verify_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Recompute the tree from the stored events and check every tree head; exit 1 if not ok."""
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        report = services.verify_log(session, cli.actor(), runtime.vault)
    lines = [f"{'ok' if report['ok'] else 'NOT OK'}: {report['size']} events, root {report['root']}"]
    emit(report, as_json, "\n".join(lines + [f"  {problem['message']}" for problem in report["problems"]]))
    if not report["ok"]:
        raise typer.Exit(1)


@prove_app.command("inclusion")
def prove_inclusion_command(
    ctx: typer.Context,
    index: int = typer.Argument(..., help="Leaf index (0 = the first event)."),
    size: int = typer.Option(None, "--size", help="Tree size (default: the latest tree head's)."),
    as_json: bool = JsonOption,
) -> None:
    """Print the inclusion proof of one event in the tree of SIZE events."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        evidence = services.prove_inclusion(session, cli.actor(), index, size)
    emit(evidence, as_json)


@prove_app.command("consistency")
def prove_consistency_command(ctx: typer.Context, size1: int, size2: int, as_json: bool = JsonOption) -> None:
    """Print the proof that the tree of SIZE1 events is a prefix of the tree of SIZE2."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        evidence = services.prove_consistency(session, cli.actor(), size1, size2)
    emit(evidence, as_json)


def _parsed(option: str, parse: Callable[[], Parsed]) -> Parsed:
    """Malformed hex is invalid input: one line naming the option, exit 2."""
    try:
        return parse()
    except ValueError as error:
        raise ValidationFailed(option, str(error)) from None


def _verdict(ok: bool, as_json: bool) -> None:
    result: dict[str, Any] = {"ok": ok}
    emit(result, as_json, "ok" if ok else "NOT OK")
    if not ok:
        raise typer.Exit(1)


@app.command("verify-inclusion")
def verify_inclusion_command(
    leaf_hash: str = typer.Option(..., "--leaf-hash", help="The leaf's hash, hex."),
    index: int = typer.Option(..., "--index"),
    size: int = typer.Option(..., "--size"),
    root: str = typer.Option(..., "--root", help="The tree head's root, hex."),
    proof: str = typer.Option("", "--proof", help="Comma-separated hex hashes."),
    as_json: bool = JsonOption,
) -> None:
    """Check an inclusion proof without the database or any key; exit 1 if it does not hold."""
    leaf = _parsed("--leaf-hash", lambda: merkle.from_hex(leaf_hash, "the value"))
    root_hash = _parsed("--root", lambda: merkle.from_hex(root, "the value"))
    path = _parsed("--proof", lambda: merkle.proof_from_hex(proof))
    _verdict(merkle.verify_inclusion(leaf, index, size, path, root_hash), as_json)


@app.command("verify-consistency")
def verify_consistency_command(
    size1: int = typer.Option(..., "--size1"),
    size2: int = typer.Option(..., "--size2"),
    root1: str = typer.Option(..., "--root1", help="The older tree head's root, hex."),
    root2: str = typer.Option(..., "--root2", help="The newer tree head's root, hex."),
    proof: str = typer.Option("", "--proof", help="Comma-separated hex hashes."),
    as_json: bool = JsonOption,
) -> None:
    """Check a consistency proof without the database or any key; exit 1 if it does not hold."""
    old_root = _parsed("--root1", lambda: merkle.from_hex(root1, "the value"))
    new_root = _parsed("--root2", lambda: merkle.from_hex(root2, "the value"))
    path = _parsed("--proof", lambda: merkle.proof_from_hex(proof))
    _verdict(merkle.verify_consistency(size1, size2, path, old_root, new_root), as_json)
