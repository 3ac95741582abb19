"""`/scorecards`: each agreement's and guarantor's published record, read in a browser.

The same pipeline as `awda stats scorecard` (facts from the registry, then `publish`: disclosure
control with the installation's k), shown as tables and as the same plots (`stats/plots.py`, SVG
served beside the page); a cohort with fewer than k people shows only that it exists. Aggregates only:
no record of a person is read.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from awda.access.rules import Actor
from awda.errors import PermissionDenied, ValidationFailed
from awda.monitoring.scorecard_facts import scorecard_input
from awda.stats import plots
from awda.stats.scorecard_model import Publication, PublishedCohort, publish
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


def _cohort(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: Actor, slug: str
) -> tuple[Publication, PublishedCohort] | Response:
    """The publication and its cohort `slug`, or the page that says why there is none."""
    try:
        publication = publication_of(session, runtime, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except ValidationFailed:
        return not_found(request, actor)
    found = [cohort for cohort in publication.cohorts if cohort.slug == slug]
    if not found:
        return not_found(request, actor)
    return publication, found[0]


@router.get("/scorecards/{slug}")
def scorecard(request: Request, session: SessionDep, runtime: RuntimeDep, actor: PageActor, slug: str) -> Response:
    """One cohort's published record: survival free of serious violation, incidents by type, follow-ups."""
    found = _cohort(request, session, runtime, actor, slug)
    if isinstance(found, Response):
        return found
    publication, cohort = found
    context = {"publication": publication, "cohort": cohort, "colours": len(plots.COLOURS)}
    return render_page(request, actor, "scorecard.html", context)


@router.get("/scorecards/{slug}/{plot}.svg")
def scorecard_plot(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: PageActor, slug: str, plot: str
) -> Response:
    """The cohort's survival or cumulative-incidence plot as SVG: numbers on the axes, words in the page."""
    found = _cohort(request, session, runtime, actor, slug)
    if isinstance(found, Response):
        return found
    cohort = found[1]
    if (
        cohort.survival is None
        or plot not in ("survival", "incidence")
        or (plot == "incidence" and not cohort.incidence)
    ):
        return not_found(request, actor)
    if plot == "survival":
        figure = plots.survival_figure(cohort.survival.steps)
    else:
        figure = plots.incidence_figure([one.steps for one in cohort.incidence])
    headers = {"Cache-Control": "private, no-cache"}
    return Response(plots.render(figure, "svg"), media_type="image/svg+xml", headers=headers)
