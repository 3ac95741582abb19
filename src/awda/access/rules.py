"""Who may do what, where: pure permission rules, tested exhaustively."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    REGISTRAR = "registrar"
    COORDINATOR = "coordinator"
    MONITOR = "monitor"
    ANALYST = "analyst"
    AUDITOR = "auditor"


class Permission(StrEnum):
    READ_PERSONAL = "read_personal"  # names, birth dates, documents, phones
    READ_RECORDS = "read_records"  # household structure and intentions, no personal fields
    REGISTER = "register"  # register households, add members, record consent
    DECLARE_INTENTION = "declare_intention"  # declare, withdraw, reconfirm intentions
    MOVE_INTENTION = "move_intention"  # waitlist, assign, depart, arrive, cancel
    ERASE = "erase"  # crypto-shred a household
    MANAGE_PLACES = "manage_places"
    MANAGE_USERS = "manage_users"
    READ_STATS = "read_stats"  # aggregate counts only
    READ_AUDIT = "read_audit"
    ISSUE_TREE_HEADS = "issue_tree_heads"  # sign the event log's Merkle root (admin only)
    MANAGE_AGREEMENTS = "manage_agreements"  # record agreements, guarantors and terms
    ISSUE_CARDS = "issue_cards"  # issue and print protection cards
    REVOKE_CARDS = "revoke_cards"  # revoke a lost or misused card
    MANAGE_CARD_KEYS = "manage_card_keys"  # create and rotate the issuer's signing keys
    RECORD_ARRIVALS = "record_arrivals"  # confirm that people arrived, under which agreement
    FOLLOW_UP = "follow_up"  # see follow-ups due, record their outcomes
    ASSIGN_FOLLOWUPS = "assign_followups"  # give follow-ups to monitors, escalate unreached households
    RECORD_INCIDENTS = "record_incidents"  # record protection incidents
    VERIFY_INCIDENTS = "verify_incidents"  # raise or lower an incident's verification level
    RUN_LINKAGE = "run_linkage"  # run duplicate detection over the persons in scope
    REVIEW_LINKAGE = "review_linkage"  # decide candidate pairs, merge and undo merges


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.REGISTRAR: frozenset(
        {
            Permission.READ_PERSONAL,
            Permission.READ_RECORDS,
            Permission.REGISTER,
            Permission.DECLARE_INTENTION,
            Permission.READ_STATS,
            Permission.RUN_LINKAGE,
            Permission.REVIEW_LINKAGE,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            Permission.READ_PERSONAL,
            Permission.READ_RECORDS,
            Permission.DECLARE_INTENTION,
            Permission.MOVE_INTENTION,
            Permission.READ_STATS,
            Permission.ISSUE_CARDS,
            Permission.REVOKE_CARDS,
            Permission.RECORD_ARRIVALS,
            Permission.ASSIGN_FOLLOWUPS,
        }
    ),
    Role.MONITOR: frozenset(
        {
            Permission.READ_PERSONAL,
            Permission.READ_RECORDS,
            Permission.READ_STATS,
            Permission.REVOKE_CARDS,
            Permission.RECORD_ARRIVALS,
            Permission.FOLLOW_UP,
            Permission.RECORD_INCIDENTS,
            Permission.VERIFY_INCIDENTS,
        }
    ),
    Role.ANALYST: frozenset({Permission.READ_STATS}),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT, Permission.READ_STATS}),
}

# Roles whose permissions are not tied to sites: they see aggregates or the log, never records.
SITELESS_ROLES = frozenset({Role.ANALYST, Role.AUDITOR})


@dataclass(frozen=True)
class Actor:
    """The authenticated user on whose behalf an action runs."""

    user_id: int | None
    username: str
    role: Role
    all_sites: bool = False
    site_ids: frozenset[int] = field(default_factory=frozenset)


def has_permission(actor: Actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[actor.role]


def covers_site(actor: Actor, site_id: int | None) -> bool:
    """Whether the actor's scope includes the site (None: an action not tied to a site)."""
    if actor.role == Role.ADMIN or actor.all_sites:
        return True
    return site_id is None or site_id in actor.site_ids


def may(actor: Actor, permission: Permission, site_id: int | None = None) -> bool:
    """The single rule: the role grants the permission and the scope covers the site."""
    return has_permission(actor, permission) and covers_site(actor, site_id)


def validate_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role {text!r}; roles are {names}") from None


# The languages the pages are written in; Arabic first, the language of the people who use awda.
PAGE_LANGUAGES = ("ar", "en")
MIN_PASSWORD_LENGTH = 12


def password_problem(password: str) -> str | None:
    """Why a password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(set(password)) < 5:
        return "is too repetitive"
    return None
