"""`awda linkage ...`: duplicate detection over the registry, its review queue and merges."""

from __future__ import annotations

from typing import Any

import typer

from awda.cli.common import JsonOption, emit, state, stderr
from awda.linkage import review, services
from awda.linkage.rules import DEFAULT_MERGE_THRESHOLD, DEFAULT_REVIEW_THRESHOLD, Decision

app = typer.Typer(help="Find the same person registered twice; review and merge (undoably).", no_args_is_help=True)


@app.command("run")
def run_command(
    ctx: typer.Context,
    site: list[str] = typer.Option(None, "--site", help="Only these sites (repeatable); default: your scope."),
    backend: str = typer.Option("duckdb", help="duckdb (default) or spark."),
    review_threshold: float = typer.Option(DEFAULT_REVIEW_THRESHOLD, help="Pairs from here go to review."),
    merge_threshold: float = typer.Option(DEFAULT_MERGE_THRESHOLD, help="Pairs from here merge (undoably)."),
    as_json: bool = JsonOption,
) -> None:
    """Score every pair of persons in scope: queue the uncertain pairs, merge the near-certain ones."""
    cli = state(ctx)
    runtime = cli.runtime()
    progress = None if as_json else (lambda step: stderr.print(f"linkage: {step}"))
    with runtime.sessions() as session:
        result = services.run_linkage(
            session,
            runtime.vault,
            cli.actor(),
            site_codes=site or None,
            backend=backend,
            review_threshold=review_threshold,
            merge_threshold=merge_threshold,
            workdir=runtime.settings.data_dir,
            on_progress=progress,
        )
    text = (
        f"linkage run {result.run}: {result.persons} persons, {result.pairs} pairs scored, "
        f"{result.merged} merged, {result.queued} waiting for review"
    )
    emit(result.as_dict(), as_json, text)


@app.command("queue")
def queue_command(
    ctx: typer.Context,
    limit: int = typer.Option(50, min=1, max=review.MAX_PAGE),
    offset: int = typer.Option(0, min=0),
    as_json: bool = JsonOption,
) -> None:
    """Pairs waiting for review, most likely first (ids and probabilities only)."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        page = review.review_queue(session, cli.actor(), limit, offset)
    lines = [
        f"{item['uid']}  p={item['probability']:.3f}  {item['person_a']}  {item['person_b']}" for item in page["items"]
    ]
    emit(page, as_json, "\n".join([f"{page['total']} pairs waiting", *lines]))


@app.command("show")
def show_command(ctx: typer.Context, uid: str, as_json: bool = JsonOption) -> None:
    """One pair with both persons side by side (each opening is logged)."""
    cli = state(ctx)
    runtime = cli.runtime()
    with runtime.sessions() as session:
        view = review.candidate_for_review(session, runtime.vault, cli.actor(), uid)
    emit(view, as_json, _side_by_side(view))


def _side_by_side(view: dict[str, Any]) -> str:
    keys = [key for key in dict.fromkeys([*view["a"], *view["b"]]) if key not in {"version", "household"}]
    lines = [f"pair {view['uid']}  p={view['probability']:.3f}  {view['status']}  (version {view['version']})"]
    lines += [f"{key:<22} {view['a'].get(key, '')!s:<32} {view['b'].get(key, '')!s}" for key in keys]
    return "\n".join(lines)


@app.command("decide")
def decide_command(
    ctx: typer.Context,
    uid: str,
    decision: Decision = typer.Argument(..., help="merge or reject"),
    version: int = typer.Option(..., help="The pair's version as shown (a stale one is refused)."),
    as_json: bool = JsonOption,
) -> None:
    """Merge or reject one pair."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        view = review.decide(session, cli.actor(), uid, decision, version)
    emit(view, as_json, f"pair {uid}: {view['status']}")


@app.command("households")
def households_command(ctx: typer.Context, limit: int = typer.Option(50, min=1), as_json: bool = JsonOption) -> None:
    """Households whose members were matched together."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        rows = review.household_view(session, cli.actor(), limit)
    lines = [
        f"{r['household_a']}  {r['household_b']}  {r['matched_members']} of {r['size_a']}/{r['size_b']} members"
        f"{'  (whole household)' if r['whole'] else ''}  p~{r['mean_probability']:.3f}  {r['pending_pairs']} pending"
        for r in rows
    ]
    emit(rows, as_json, "\n".join(lines) or "no household matches")


@app.command("merge-households")
def merge_households_command(
    ctx: typer.Context, household_a: str, household_b: str, as_json: bool = JsonOption
) -> None:
    """Merge every pending member pair of two households at once (undo with the group id)."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        result = review.merge_households(session, cli.actor(), household_a, household_b)
    emit(result, as_json, f"merged {len(result['merges'])} members; undo with: awda linkage undo {result['group']}")


@app.command("undo")
def undo_command(ctx: typer.Context, uid: str, as_json: bool = JsonOption) -> None:
    """Undo one merge, or a whole group of merges (a household's); the pairs become rejected."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        result = review.undo_merge(session, cli.actor(), uid)
    emit(result, as_json, f"undone: {len(result['undone'])} merges")


@app.command("person")
def person_command(ctx: typer.Context, uid: str, as_json: bool = JsonOption) -> None:
    """Every registration of one person (the records joined by merges)."""
    cli = state(ctx)
    with cli.runtime().sessions() as session:
        result = review.same_person(session, cli.actor(), uid)
    lines = [f"{record['person']}  household {record['household']}" for record in result["records"]]
    emit(result, as_json, "\n".join(lines))
