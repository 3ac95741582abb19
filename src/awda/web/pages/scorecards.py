"""`/scorecards`: each agreement's and guarantor's published record, read in a browser.

The same pipeline as `awda stats scorecard` (facts from the registry, then `publish`: disclosure
control with the installation's k), shown as tables without plots; a cohort with fewer than k people
shows only that it exists. Aggregates only: no record of a person is read.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from awda.access.rules import Actor
from awda.errors import PermissionDenied, ValidationFailed
from awda.monitoring.scorecard_facts import scorecard_input
from awda.stats.scorecard_model import Publication, publish
from awda.web.deps import RuntimeDep, SessionDep
from awda.web.pages.auth import PageActor
from awda.web.pages.nav import forbidden, not_found, render_page

router = APIRouter(include_in_schema=False)


def publication_of(session: SessionDep, runtime: RuntimeDep, actor: Actor) -> Publication:
    """Today's scorecard, disclosure-controlled with AWDA_DISCLOSURE_K."""
    return publish(scorecard_input(session, actor, date.today(), "reported", runtime.settings.disclosure_k))


@router.get("/scorecards")
def scorecards(request: Request, session: SessionDep, runtime: RuntimeDep, actor: PageActor) -> Response:
    """Every agreement and guarantor: people, households, and whether its record is published."""
    try:
        publication: Publication | None = publication_of(session, runtime, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except ValidationFailed:  # the registry holds no arrival yet to count
        publication = None
    return render_page(request, actor, "scorecards.html", {"publication": publication})


@router.get("/scorecards/{slug}")
def scorecard(request: Request, session: SessionDep, runtime: RuntimeDep, actor: PageActor, slug: str) -> Response:
    """One cohort's published record: survival free of serious violation, incidents by type, follow-ups."""
    try:
        publication = publication_of(session, runtime, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except ValidationFailed:
        return not_found(request, actor)
    found = [cohort for cohort in publication.cohorts if cohort.slug == slug]
    if not found:
        return not_found(request, actor)
    return render_page(request, actor, "scorecard.html", {"publication": publication, "cohort": found[0]})
