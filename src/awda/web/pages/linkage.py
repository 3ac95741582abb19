"""`/linkage`: the review queue of possible duplicates, a pair side by side, its decision, and undoing
a merge (after a confirmation page). Calls `linkage.review`, as the API does; opening a pair's two
persons is two logged reads.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from awda.access.rules import Permission, has_permission
from awda.errors import Conflict, NotFound, PermissionDenied, StaleVersion
from awda.linkage import review
from awda.linkage.rules import Decision
from awda.web.deps import SessionDep, VaultDep
from awda.web.pages.auth import PageActor, check_form
from awda.web.pages.forms import PAGE_SIZE, Pager, bounded_offset
from awda.web.pages.labels import N_
from awda.web.pages.nav import forbidden, not_found, render_page

router = APIRouter(include_in_schema=False)
UID = Annotated[str, Query(max_length=36, pattern=r"^[0-9a-f-]*$")]

DONE = {
    "merged": N_("The two records are merged: they count as one person from now on. Both registrations are kept."),
    "rejected": N_("The pair is marked as two different people."),
    "undone": N_("The merge is undone: the two records count as two people again."),
}
PROBLEMS = {
    "stale": N_("Someone else decided this pair meanwhile. Here is its current state."),
    "conflict": N_(
        "This pair cannot be decided this way: it was decided already, or a reviewer said these people are different."
    ),
    "undone": N_("This merge was undone already."),
}
# The fields a reviewer compares, in order; names first.
COMPARED = (
    ("given_name_ar", N_("Given name (Arabic)")),
    ("father_name_ar", N_("Father's name (Arabic)")),
    ("family_name_ar", N_("Family name (Arabic)")),
    ("mother_name_ar", N_("Mother's name (Arabic)")),
    ("given_name_lat", N_("Given name (Latin letters)")),
    ("family_name_lat", N_("Family name (Latin letters)")),
    ("sex", N_("Sex")),
    ("birth_date", N_("Date of birth")),
    ("birth_year", N_("Year of birth")),
    ("relationship", N_("Relationship to the head")),
    ("document_number", N_("Document number")),
    ("phone", N_("Phone")),
)


@router.get("/linkage")
def queue(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    offset: Annotated[int, Query(ge=0)] = 0,
    done: Annotated[str, Query(max_length=16)] = "",
    problem: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Pending pairs in the user's sites, most likely duplicates first."""
    try:
        listed = review.review_queue(session, actor, PAGE_SIZE, bounded_offset(offset))
    except PermissionDenied:
        return forbidden(request, actor)
    pager = Pager("/linkage", listed["offset"], PAGE_SIZE, listed["total"])
    notes = {"done": DONE.get(done), "problem": PROBLEMS.get(problem)}
    return render_page(request, actor, "linkage_queue.html", {"listed": listed, "pager": pager} | notes)


@router.get("/linkage/merges/{uid}/undo")
def undo_confirmation(request: Request, actor: PageActor, uid: str) -> Response:
    """Undoing a merge asks first, on a page of its own."""
    if not has_permission(actor, Permission.REVIEW_LINKAGE):
        return forbidden(request, actor)
    return render_page(request, actor, "linkage_undo.html", {"merge": uid})


@router.post("/linkage/merges/{uid}/undo")
def undo(
    request: Request, session: SessionDep, actor: PageActor, uid: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_form(request, csrf_token)
    try:
        review.undo_merge(session, actor, uid)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except Conflict:
        return RedirectResponse("/linkage?problem=undone", status_code=303)
    return RedirectResponse("/linkage?done=undone", status_code=303)


def comparison(pair: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per compared field: both values, and whether they differ."""
    rows = []
    for name, label in COMPARED:
        first, second = pair["a"].get(name), pair["b"].get(name)
        if first is None and second is None:
            continue
        rows.append({"name": name, "label": label, "a": first, "b": second, "differ": first != second})
    return rows


@router.get("/linkage/{uid}")
def pair_page(
    request: Request,
    session: SessionDep,
    vault: VaultDep,
    actor: PageActor,
    uid: str,
    done: Annotated[str, Query(max_length=16)] = "",
    problem: Annotated[str, Query(max_length=16)] = "",
    merge: UID = "",
) -> Response:
    """The two records side by side, with merge and reject while the pair is pending."""
    try:
        pair = review.candidate_for_review(session, vault, actor, uid)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    notes = {"done": DONE.get(done), "problem": PROBLEMS.get(problem), "merge": merge}
    return render_page(request, actor, "linkage_pair.html", {"pair": pair, "rows": comparison(pair)} | notes)


@router.post("/linkage/{uid}/decision")
def decide(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    uid: str,
    csrf_token: Annotated[str, Form()] = "",
    decision: Annotated[str, Form(max_length=8)] = "",
    version: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    """Merge or reject; a stale version (someone decided meanwhile) changes nothing."""
    check_form(request, csrf_token)
    if decision not in {Decision.MERGE, Decision.REJECT}:
        return RedirectResponse(f"/linkage/{uid}?problem=conflict", status_code=303)
    try:
        decided = review.decide(session, actor, uid, Decision(decision), version)
    except NotFound:
        return not_found(request, actor)
    except PermissionDenied:
        return forbidden(request, actor)
    except (StaleVersion, Conflict) as error:
        code = "stale" if isinstance(error, StaleVersion) else "conflict"
        return RedirectResponse(f"/linkage/{uid}?problem={code}", status_code=303)
    if decision == Decision.REJECT:
        return RedirectResponse("/linkage?done=rejected", status_code=303)
    merges = decided["merges"]
    return RedirectResponse(f"/linkage/{uid}?done=merged&merge={merges[0] if merges else ''}", status_code=303)
