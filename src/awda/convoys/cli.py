"""`awda convoys ...`: convoy planning."""

from __future__ import annotations

from pathlib import Path

import typer

from awda.cli.common import JsonOption, emit, progress_bar
from awda.convoys.planner import DEFAULT_TIME_LIMIT
from awda.convoys.rules import Plan
from awda.errors import ValidationFailed

app = typer.Typer(help="Convoys: plan who rides which scheduled convoy.", no_args_is_help=True)


@app.command("plan")
def plan_command(
    waitlist: Path = typer.Option(None, "--waitlist", help="Waiting households CSV (docs/convoys.md)."),
    convoys: Path = typer.Option(None, "--convoys", help="Scheduled convoys CSV (docs/convoys.md)."),
    out: Path = typer.Option(None, "--out", help="Plan CSV to write: household_id,convoy_id."),
    time_limit: float = typer.Option(DEFAULT_TIME_LIMIT, "--time-limit", min=0.0, help="Seconds the solver may use."),
    as_json: bool = JsonOption,
) -> None:
    """Assign waiting households to convoys: priority to vulnerability, groups together, earlier registration first."""
    if waitlist is None or convoys is None or out is None:
        missing = next(
            name for name, value in (("--waitlist", waitlist), ("--convoys", convoys), ("--out", out)) if value is None
        )
        raise ValidationFailed(missing, "is required: give --waitlist W.csv --convoys C.csv --out PLAN.csv")
    plan = plan_from_files(waitlist, convoys, out, time_limit, progress=not as_json)
    emit(plan.summary(), as_json, plan_text(plan, out))


def plan_from_files(waitlist: Path, convoys: Path, out: Path, time_limit: float, progress: bool) -> Plan:
    """The standalone mode: files in, plan file out."""
    from awda.convoys.plancsv import plan_and_write, read_inputs

    households, scheduled = read_inputs(waitlist, convoys)
    with progress_bar("planning", len(households), enabled=progress) as advance:
        return plan_and_write(households, scheduled, out, time_limit, advance)


def plan_text(plan: Plan, out: Path) -> str:
    gap = (plan.bound - plan.objective) / plan.bound if plan.bound else 0.0
    proof = "proven optimal" if plan.optimal else f"within {gap:.3%} of the bound"
    lines = [
        f"{plan.assigned_households} households ({plan.assigned_people} people) assigned -> {out}",
        f"objective {plan.objective:g}, bound {plan.bound:g} ({proof}), {plan.seconds:.1f} s",
        f"{plan.unassigned_households} households wait, "
        f"{len(plan.without_eligible_convoy)} of them with no eligible convoy",
    ]
    return "\n".join(lines)
