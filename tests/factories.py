"""Small builders of valid commands, so each test states only what it is about."""

from __future__ import annotations

from datetime import date
from typing import Any

from awda.households.commands import ConsentIn, HouseholdIn, IntentionIn, PersonIn

HEAD_NAME_AR = "عبد الستار"
HEAD_NAME_LAT = "Abdul Sattar"
FAMILY_AR = "الحسيني"
FAMILY_LAT = "al-Hussaini"
HEAD_PHONE = "+963944555777"
HEAD_DOCUMENT = "03120045678"


def person(index: int = 1, relationship: str = "head", **overrides: Any) -> PersonIn:
    values: dict[str, Any] = {
        "member_index": index,
        "relationship": relationship,
        "sex": "male",
        "birth_year": 1979,
        "given_name_ar": HEAD_NAME_AR,
        "given_name_lat": HEAD_NAME_LAT,
        "family_name_ar": FAMILY_AR,
        "family_name_lat": FAMILY_LAT,
        "phone": HEAD_PHONE,
        "document_type": "national_id",
        "document_number": HEAD_DOCUMENT,
    }
    values.update(overrides)
    return PersonIn(**values)


def household(site: str = "RUKBAN", with_intention: bool = True, **overrides: Any) -> HouseholdIn:
    members = [
        person(),
        person(
            2,
            "spouse",
            sex="female",
            given_name_ar="خديجة",
            given_name_lat="Khadija",
            phone=None,
            document_type=None,
            document_number=None,
            birth_year=1984,
        ),
        person(
            3,
            "daughter",
            sex="female",
            given_name_ar="مريم",
            given_name_lat="Maryam",
            phone=None,
            document_type=None,
            document_number=None,
            birth_date=date(2012, 4, 9),
            birth_year=None,
        ),
    ]
    values: dict[str, Any] = {
        "site_code": site,
        "registered_on": date(2024, 2, 1),
        "registrar": "officer1",
        "consent": ConsentIn(purposes=["registration", "movement", "follow_up"], given_on=date(2024, 2, 1)),
        "members": members,
        "intention": IntentionIn(kind="return", origin_pcode="C4402", destination_pcode="C4301")
        if with_intention
        else None,
    }
    values.update(overrides)
    return HouseholdIn(**values)
