"""`/api/v1` routes for the gazetteer: places and sites (public facts, token still required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from awda.places import services
from awda.places.models import Place, Site
from awda.web.deps import CurrentActor, SessionDep

router = APIRouter(tags=["places"])


def place_view(place: Place, parent_pcode: str | None = None) -> dict[str, Any]:
    return {
        "pcode": place.pcode,
        "admin_level": place.admin_level,
        "name_en": place.name_en,
        "name_ar": place.name_ar,
        "parent": parent_pcode,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "demo": place.is_demo,
    }


def site_view(site: Site) -> dict[str, Any]:
    return {
        "code": site.code,
        "kind": site.kind,
        "name_en": site.name_en,
        "name_ar": site.name_ar,
        "demo": site.is_demo,
    }


@router.get("/places")
def list_places(
    session: SessionDep, _actor: CurrentActor, level: int | None = Query(None, ge=0, le=4), parent: str | None = None
) -> list[dict[str, Any]]:
    places = services.list_places(session, level, parent)
    codes = {place.id: place.pcode for place in services.list_places(session)}
    return [place_view(place, codes.get(place.parent_id) if place.parent_id else None) for place in places]


@router.get("/places/{pcode}")
def get_place(pcode: str, session: SessionDep, _actor: CurrentActor) -> dict[str, Any]:
    place = services.place_by_pcode(session, pcode)
    parent = session.get(Place, place.parent_id) if place.parent_id else None
    return place_view(place, parent.pcode if parent else None)


@router.get("/sites")
def list_sites(session: SessionDep, _actor: CurrentActor) -> list[dict[str, Any]]:
    return [site_view(site) for site in services.list_sites(session)]
