"""The work behind `init`, `demo`, `import registrations` and `serve`, kept out of the commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from awda.access import services as access
from awda.access.models import User
from awda.access.rules import Role
from awda.cli.common import CliState, progress_bar, stderr
from awda.households.importer import ImportReport, import_registrations
from awda.places.services import load_demo_gazetteer
from awda.settings import Settings
from awda.stats.services import households_by_site, summary
from awda.vault import write_keyfile

DEMO_ADMIN = "admin"


def initialise(cli: CliState, demo_gazetteer: bool) -> dict[str, Any]:
    """Create what a fresh installation needs; safe to run again (creates nothing twice)."""
    settings = Settings()
    keyfile = settings.effective_keyfile
    created_key = False
    if settings.master_key is None and not keyfile.exists():
        write_keyfile(keyfile)
        created_key = True
    runtime = cli.runtime()
    result: dict[str, Any] = {"database": _safe_url(settings), "keyfile_created": created_key, "admin": None}
    with runtime.sessions() as session:
        if demo_gazetteer:
            load_demo_gazetteer(session, access.SYSTEM)
        if not session.scalar(select(func.count()).select_from(User)):
            password = access_password()
            access.create_user(session, access.SYSTEM, DEMO_ADMIN, Role.ADMIN.value, password)
            result["admin"] = {"username": DEMO_ADMIN, "password": password}
    return result


def access_password() -> str:
    from awda.access.cli import new_password

    return new_password()


def init_text(result: dict[str, Any]) -> str:
    lines = [f"database: {result['database']}"]
    if result["keyfile_created"]:
        lines.append("created a new master keyfile: back it up offline; without it the data cannot be read")
    if result["admin"]:
        lines.append(
            f"admin user {result['admin']['username']!r}, password (shown once): {result['admin']['password']}"
        )
    return "\n".join(lines)


def import_file(cli: CliState, path: Path, progress: bool) -> ImportReport:
    runtime = cli.runtime()
    total = _count_lines(path) if progress else None
    with runtime.sessions() as session, progress_bar("importing", total, progress) as advance:
        commit_rows = runtime.settings.import_commit_rows
        return import_registrations(session, runtime.vault, cli.actor(), path, advance, commit_rows=commit_rows)


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() != ".csv" or not path.exists():
        return None
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def import_text(report: dict[str, Any]) -> str:
    lines = [
        f"rows {report['rows']}, households created {report['households']}, persons created "
        f"{report['persons']}, skipped {report['skipped']}, errors {report['error_count']}"
    ]
    lines += [f"  row {e['row']}, {e['field']}: {e['message']}" for e in report["errors"][:20]]
    if report["error_count"] > 20:
        lines.append(f"  ... and {report['error_count'] - 20} more (use --json for all)")
    return "\n".join(lines)


def run_demo(cli: CliState, households: int, seed: int, progress: bool) -> dict[str, Any]:
    """Initialise, simulate, import; reset the demo admin's password and return a summary."""
    from awda.simulate.scenario import write_scenario

    initialise(cli, demo_gazetteer=True)
    settings = cli.runtime().settings
    scenario_dir = settings.data_dir / "demo-scenario"
    with progress_bar("simulating", households, progress) as advance:
        write_scenario(scenario_dir, households, seed, on_progress=advance)
    report = import_file(cli, scenario_dir / "registrations.csv", progress)
    cards = demo_cards(cli, scenario_dir)
    monitoring = demo_monitoring(cli, scenario_dir, progress)
    monitoring["scorecard"] = demo_scorecard(cli)
    convoys = demo_convoys(cli)
    linkage = demo_linkage(cli, progress)
    password = access_password()
    with cli.runtime().sessions() as session:
        if session.scalar(select(User.id).where(User.username == DEMO_ADMIN)) is None:
            access.create_user(session, access.SYSTEM, DEMO_ADMIN, Role.ADMIN.value, password)
        else:
            access.set_password(session, access.SYSTEM, DEMO_ADMIN, password)
        counts = summary(session, access.SYSTEM)
        sites = households_by_site(session, access.SYSTEM)
    return {
        "import": report.as_dict() | {"errors": report.errors[:5]},
        "summary": counts,
        "sites": sites,
        "admin": {"username": DEMO_ADMIN, "password": password},
        "url": f"http://{settings.host}:{settings.port}/api/v1/docs",
        "scenario": str(scenario_dir),
        "cards": cards,
        "monitoring": monitoring,
        "convoys": convoys,
        "linkage": linkage,
    }


def demo_linkage(cli: CliState, progress: bool) -> dict[str, Any]:
    """Duplicate detection over the whole registry (docs/linkage.md): merges and the review queue."""
    from awda.linkage.services import run_linkage

    runtime = cli.runtime()
    on_progress = (lambda step: stderr.print(f"linkage: {step}")) if progress else None
    with runtime.sessions() as session:
        result = run_linkage(
            session, runtime.vault, access.SYSTEM, workdir=runtime.settings.data_dir, on_progress=on_progress
        )
    return result.as_dict()


def demo_monitoring(cli: CliState, scenario_dir: Path, progress: bool) -> dict[str, Any]:
    """The scenario's arrivals, follow-up outcomes and incidents, as field teams would send them."""
    from awda.monitoring import importing
    from awda.simulate.field import write_field_files

    runtime = cli.runtime()
    files = write_field_files(scenario_dir)
    with runtime.sessions() as session, progress_bar("monitoring", sum(files.counts.values()), progress) as advance:
        return {
            "arrivals": importing.import_arrivals(session, access.SYSTEM, files.arrivals, advance),
            "followups": importing.import_followups(session, access.SYSTEM, files.followups, advance),
            "incidents": importing.import_incidents(session, runtime.vault, access.SYSTEM, files.incidents, advance),
        }


def demo_scorecard(cli: CliState) -> str:
    """The scorecard of the simulated agreements as of the scenario's end (docs/scorecard.md)."""
    from datetime import date

    from awda.monitoring.scorecard_facts import scorecard_input
    from awda.stats.scorecard import write_scorecard

    runtime = cli.runtime()
    out = runtime.settings.data_dir / "demo-scorecard"
    with runtime.sessions() as session:
        facts = scorecard_input(session, access.SYSTEM, date(2022, 6, 30), k=runtime.settings.disclosure_k)
    write_scorecard(facts, out)
    return str(out / "index.html")


def demo_convoys(cli: CliState) -> dict[str, Any]:
    """Next week's convoys for the two longest lists, planned and printed; one household's own lookup; flows."""
    from datetime import date

    from awda.convoys.site_flows import site_flows_input
    from awda.stats.flows import site_flows

    runtime = cli.runtime()
    out = runtime.settings.data_dir / "demo-convoys"
    out.mkdir(parents=True, exist_ok=True)
    result = _demo_week(cli, out)
    with runtime.sessions() as session:
        facts = site_flows_input(session, access.SYSTEM, "RUKBAN", date(2022, 6, 30), runtime.settings.disclosure_k)
    flows = site_flows(facts)
    (out / "flows-RUKBAN.json").write_text(json.dumps(flows, indent=2, ensure_ascii=False), encoding="utf-8")
    return result | {
        "flows": {"peak": flows["peak"], "latest": flows["latest"], "file": str(out / "flows-RUKBAN.json")}
    }


def _demo_week(cli: CliState, out: Path) -> dict[str, Any]:
    """Schedule, plan, tell, print; nothing when nobody waits or the seats are taken already (a second demo)."""
    from datetime import date, timedelta

    from awda.convoys import booking, manifest, manifests, selfservice, services, waitlists
    from awda.convoys.commands import ConvoyIn, PlanWeekIn
    from awda.convoys.messages import sender_from_setting
    from awda.errors import Conflict

    runtime, actor, settings = cli.runtime(), access.SYSTEM, cli.runtime().settings
    departs = date.today() + timedelta(days=3)
    week = "{}-W{:02d}".format(*departs.isocalendar()[:2])
    with runtime.sessions() as session:
        lists = sorted(waitlists.list_summaries(session, actor), key=lambda item: -item["households"])[:2]
        codes = [f"DEMO-{item['origin']}-{item['destination']}-{departs:%Y%m%d}" for item in lists]
        for item, code in zip(lists, codes, strict=True):
            command = ConvoyIn(code=code, site=item["origin"], departs_on=departs,
                               destinations=[item["destination"]], seats=min(item["people"], 50))  # fmt: skip
            try:
                services.schedule_convoy(session, actor, command)
            except Conflict:
                continue  # scheduled by an earlier demo
        try:
            planned = booking.plan_week(session, actor, PlanWeekIn(week=week, time_limit=10))
        except Conflict:
            return {"week": week, "convoys": codes, "booked": 0}
        sender = sender_from_setting(settings.message_sender, settings.data_dir)
        told = booking.notify_bookings(session, runtime.vault, actor, planned.booked, sender, settings.reconfirm_days)
        printed = manifests.convoy_manifest(session, runtime.vault, actor, codes[0], settings.reconfirm_days)
        (out / f"{codes[0]}.pdf").write_bytes(manifest.manifest_pdf(printed))
        with (out / f"{codes[0]}.csv").open("w", encoding="utf-8", newline="") as handle:
            manifest.manifest_csv(printed, handle)
        first = printed.households[0].household_uid if printed.households else None
        pin = selfservice.issue_pin(session, runtime.vault, actor, first) if first else None
    return {"week": week, "convoys": codes, "booked": len(planned.booked), "people": planned.plan.assigned_people,
            "messages": told, "manifest": str(out / f"{codes[0]}.pdf"), "status": pin}  # fmt: skip


def demo_cards(cli: CliState, scenario_dir: Path) -> dict[str, Any]:
    """Agreements from the scenario, a signing key, and printed cards for one consenting household."""
    from awda.agreements.services import import_agreements, list_agreements
    from awda.cards import documents, keys, printing
    from awda.cards import services as cards

    runtime = cli.runtime()
    out = runtime.settings.data_dir / "demo-cards"
    out.mkdir(parents=True, exist_ok=True)
    with runtime.sessions() as session:
        import_agreements(session, access.SYSTEM, scenario_dir / "truth" / "agreements.csv")
        if not any(key["active"] for key in keys.list_keys(session)):
            keys.create_issuer_key(session, runtime.vault, access.SYSTEM, runtime.settings.card_issuer)
        households = cards.households_consenting_to_cards(session, access.SYSTEM, 1)
        if not households:
            return {"issued": 0}
        members = cards.household_person_uids(session, access.SYSTEM, households[0])
        agreement = list_agreements(session)[0]["code"]
        issued = cards.issue_cards(session, runtime.vault, runtime.settings, access.SYSTEM, members, agreement)
        ids = [card.card_id for card in issued]
        (out / "cards.pdf").write_bytes(
            printing.render_pdf(documents.printable_cards(session, runtime.vault, access.SYSTEM, ids))
        )
        (out / "trust-list.json").write_text(json.dumps(keys.trust_list_document(session), indent=2), encoding="utf-8")
        (out / "status-list.cwt").write_bytes(cards.status_list_document(session, runtime.vault, runtime.settings))
    return {"issued": len(issued), "folder": str(out), "example": issued[0].qr_text}


def demo_text(result: dict[str, Any]) -> str:
    counts = result["summary"]
    lines = [
        "awda demo (simulated data; no real person)",
        import_text(result["import"]),
        f"households {counts['households']}, persons {counts['persons']}, sites {counts['sites']}, "
        f"places {counts['places']}",
        "intentions by status: " + ", ".join(f"{k} {v}" for k, v in sorted(counts["intentions"]["by_status"].items())),
        "per site:",
        *[
            f"  {row['site']:<16} households {row['households']:>6}  persons {row['persons']:>7}"
            for row in result["sites"]
        ],
        *_cards_text(result["cards"]),
        _monitoring_text(result["monitoring"]),
        *_convoys_text(result["convoys"]),
        _linkage_text(result["linkage"]),
        f"admin login: {result['admin']['username']} / {result['admin']['password']}",
        f"API and its documentation: {result['url']}",
    ]
    return "\n".join(lines)


def _linkage_text(linkage: dict[str, Any]) -> str:
    return (
        f"duplicates: {linkage['persons']} persons linked, {linkage['merged']} re-registrations merged (undoable), "
        f"{linkage['queued']} pairs waiting for review: awda linkage queue"
    )


def _monitoring_text(imported: dict[str, Any]) -> str:
    return (
        f"monitoring: {imported['arrivals']['arrivals']} arrivals, {imported['followups']['recorded']} follow-up "
        f"outcomes, {imported['incidents']['incidents']} incidents imported from the field files; "
        f"scorecard: {imported['scorecard']}"
    )


def _convoys_text(convoys: dict[str, Any]) -> list[str]:
    flows = convoys["flows"]
    lines = [
        f"convoys: {len(convoys['convoys'])} scheduled in {convoys['week']}, {convoys['booked']} households "
        f"({convoys.get('people', 0)} people) booked, {convoys.get('messages', {}).get('sent', 0)} told their date",
    ]
    if convoys.get("manifest"):
        lines.append(f"  manifest: {convoys['manifest']}")
    if convoys.get("status"):
        status = convoys["status"]
        lines.append(
            f"  a household's own lookup: awda convoys status --reference {status['reference']} --pin {status['pin']}"
        )
    peak, latest = flows["peak"], flows["latest"]
    lines.append(
        f"  Rukban's population: peak {peak['population'] if peak else '-'}, "
        f"latest {latest['population'] if latest else '-'} ({flows['file']})"
    )
    return lines


def _cards_text(cards: dict[str, Any]) -> list[str]:
    if not cards.get("issued"):
        return ["no household consented to a protection card: no demo card printed"]
    folder = cards["folder"]
    return [
        f"protection cards: {cards['issued']} issued, printed to {folder}/cards.pdf",
        f"  verify one offline: awda cards verify '{cards['example'][:24]}...' --trust {folder}/trust-list.json "
        f"--status-list {folder}/status-list.cwt",
    ]


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    from awda.web.app import create_app

    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_level="info")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)
