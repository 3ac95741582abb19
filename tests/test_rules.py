"""Pure rules: the intention status machine, birth and member checks, the permission matrix."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from awda.access.rules import ROLE_PERMISSIONS, Actor, Permission, Role, may, password_problem
from awda.errors import Conflict, ValidationFailed
from awda.households import rules
from awda.households.rules import IntentionStatus as S

# Written out independently of rules.TRANSITIONS, so a change there must be deliberate.
ALLOWED = {
    ("registered", "waitlisted"),
    ("registered", "withdrawn"),
    ("registered", "cancelled"),
    ("waitlisted", "assigned"),
    ("waitlisted", "withdrawn"),
    ("waitlisted", "cancelled"),
    ("assigned", "departed"),
    ("assigned", "waitlisted"),
    ("assigned", "withdrawn"),
    ("assigned", "cancelled"),
    ("departed", "arrived"),
    ("departed", "cancelled"),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_pair_of_statuses(current: S, target: S) -> None:
    if (current.value, target.value) in ALLOWED:
        rules.check_transition(current.value, target)
    else:
        with pytest.raises(Conflict):
            rules.check_transition(current.value, target)


def test_departure_needs_recent_reconfirmation() -> None:
    now = datetime(2025, 1, 10, tzinfo=UTC)
    assert rules.reconfirmation_fresh(now - timedelta(days=6, hours=23), now, 7)
    assert not rules.reconfirmation_fresh(now - timedelta(days=7, seconds=1), now, 7)
    assert not rules.reconfirmation_fresh(None, now, 7)


def test_birth_date_and_year() -> None:
    today = date(2025, 1, 1)
    assert rules.check_birth(date(1990, 3, 1), None, today) == 1990
    assert rules.check_birth(None, 1990, today) == 1990
    for birth_date, year, field in [
        (date(1990, 3, 1), 1991, "birth_year"),
        (None, None, "birth_year"),
        (date(2026, 1, 1), None, "birth_date"),
        (None, 1850, "birth_year"),
    ]:
        with pytest.raises(ValidationFailed) as raised:
            rules.check_birth(birth_date, year, today)
        assert raised.value.field == field


def test_members_need_exactly_one_head() -> None:
    rules.check_members([1, 2], ["head", "son"])
    with pytest.raises(ValidationFailed, match="exactly one head"):
        rules.check_members([1, 2], ["head", "head"])
    with pytest.raises(ValidationFailed, match="exactly one head, not 0"):
        rules.check_members([1], ["son"])
    with pytest.raises(ValidationFailed, match="repeated"):
        rules.check_members([1, 1], ["head", "son"])


def test_purposes_phone_and_scripts() -> None:
    assert rules.check_purposes(["movement", "registration"]) == ["movement", "registration"]
    with pytest.raises(ValidationFailed, match="registration"):
        rules.check_purposes(["movement"])
    with pytest.raises(ValidationFailed, match="card"):
        rules.check_purposes(["registration", "card_name"])
    assert rules.normalise_phone("00963 944-555 777") == "+963944555777"
    with pytest.raises(ValidationFailed):
        rules.normalise_phone("call me")
    with pytest.raises(ValidationFailed, match="Arabic script"):
        rules.check_name_script("given_name_ar", "Ahmad")
    with pytest.raises(ValidationFailed, match="Latin"):
        rules.check_name_script("given_name_lat", "أحمد")


SITE = 5


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_permission_matrix(role: Role, permission: Permission) -> None:
    in_scope = Actor(1, "u", role, site_ids=frozenset({SITE}))
    out_of_scope = Actor(1, "u", role, site_ids=frozenset({SITE + 1}))
    granted = permission in ROLE_PERMISSIONS[role]
    assert may(in_scope, permission, SITE) is granted
    assert may(out_of_scope, permission, SITE) is (granted and role == Role.ADMIN)


def test_only_record_roles_read_personal_fields() -> None:
    readers = {role for role in Role if Permission.READ_PERSONAL in ROLE_PERMISSIONS[role]}
    assert readers == {Role.ADMIN, Role.REGISTRAR, Role.COORDINATOR, Role.MONITOR}


def test_passwords() -> None:
    assert password_problem("short") is not None
    assert password_problem("aaaaaaaaaaaaaaaa") == "is too repetitive"
    assert password_problem("correct horse battery") is None
