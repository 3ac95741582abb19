"""Actions on users and tokens, authentication, and the permission check every service calls."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from awda.access.models import ApiToken, User, UserSite
from awda.access.rules import PAGE_LANGUAGES, Actor, Permission, Role, may, password_problem, validate_role
from awda.audit.services import record_event
from awda.db import action, utcnow
from awda.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationFailed
from awda.places.models import Site

_hasher = PasswordHasher()

# The actor for work the operator starts at the machine itself (init, demo, migrations).
SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN, all_sites=True)


def require(actor: Actor, permission: Permission, site_id: int | None = None) -> None:
    """Raise PermissionDenied unless the actor may do this at this site."""
    if not may(actor, permission, site_id):
        raise PermissionDenied(f"{actor.role.value} {actor.username!r} may not {permission.value} here")


def actor_for_user(session: Session, user: User) -> Actor:
    site_ids = session.scalars(select(UserSite.site_id).where(UserSite.user_id == user.id)).all()
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        all_sites=user.all_sites,
        site_ids=frozenset(site_ids),
    )


def actor_by_username(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise NotFound(f"no active user named {username!r}")
    return actor_for_user(session, user)


def create_user(
    session: Session, actor: Actor, username: str, role: str, password: str, all_sites: bool = False
) -> User:
    """Create a user; the password is kept only as an Argon2 hash."""
    require(actor, Permission.MANAGE_USERS)
    checked_role = _checked_role(role)
    problem = password_problem(password)
    if problem:
        raise ValidationFailed("password", problem)
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed("username", "use 1-64 letters, digits, '-' or '_'")
    with action(session):
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"a user named {username!r} already exists")
        user = User(username=username, password_hash=_hasher.hash(password), role=checked_role.value)
        user.all_sites = all_sites
        session.add(user)
        session.flush()
        record_event(session, actor, "create_user", "user", username, {"role": checked_role.value})
    return user


def set_password(session: Session, actor: Actor, username: str, password: str) -> None:
    require(actor, Permission.MANAGE_USERS)
    problem = password_problem(password)
    if problem:
        raise ValidationFailed("password", problem)
    with action(session):
        user = _user(session, username)
        user.password_hash = _hasher.hash(password)
        record_event(session, actor, "set_password", "user", username, {})


def grant_site(session: Session, actor: Actor, username: str, site_code: str) -> None:
    """Add a site to a user's scope."""
    require(actor, Permission.MANAGE_USERS)
    with action(session):
        user = _user(session, username)
        site = session.scalar(select(Site).where(Site.code == site_code))
        if site is None:
            raise NotFound(f"no site with code {site_code!r}")
        if session.get(UserSite, (user.id, site.id)) is None:
            session.add(UserSite(user_id=user.id, site_id=site.id))
        record_event(session, actor, "grant_site", "user", username, {"site": site_code}, site.id)


def authenticate(session: Session, username: str, password: str) -> Actor:
    """The actor for a username and password; one vague error for every failure."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        if user is None or not user.active:
            raise VerificationError
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationFailed("wrong username or password") from None
    return actor_for_user(session, user)


def issue_token(session: Session, actor: Actor, ttl_hours: int, label: str = "") -> str:
    """A new bearer token for the actor itself; returned once, stored only as a digest."""
    if actor.user_id is None:
        raise PermissionDenied("the system actor has no tokens")
    token = "awda_" + secrets.token_urlsafe(32)
    with action(session):
        session.add(
            ApiToken(
                user_id=actor.user_id,
                digest=_digest(token),
                label=label[:64],
                expires_at=utcnow() + timedelta(hours=ttl_hours),
            )
        )
        record_event(session, actor, "issue_token", "user", actor.username, {"ttl_hours": ttl_hours})
    return token


def choose_language(session: Session, actor: Actor, language: str) -> None:
    """The signed-in user's own language for the pages: kept on the account, so it follows them to any
    browser they sign in on."""
    if language not in PAGE_LANGUAGES:
        raise ValidationFailed("language", f"choose one of {', '.join(PAGE_LANGUAGES)}")
    if actor.user_id is None:
        raise PermissionDenied("the system actor has no language of its own")
    with action(session):
        user = session.get(User, actor.user_id)
        if user is None:
            raise NotFound(f"no user named {actor.username!r}")
        user.language = language
        record_event(session, actor, "choose_language", "user", actor.username, {"language": language})


def language_of(session: Session, actor: Actor) -> str | None:
    """The language the user chose for the pages, or None when they have not chosen one."""
    if actor.user_id is None:
        return None
    return session.scalar(select(User.language).where(User.id == actor.user_id))


def revoke_token(session: Session, actor: Actor, token: str) -> None:
    with action(session):
        row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
        if row is None or (row.user_id != actor.user_id and not may(actor, Permission.MANAGE_USERS)):
            raise NotFound("no such token")
        row.revoked_at = utcnow()
        record_event(session, actor, "revoke_token", "token", str(row.id), {})


def actor_for_token(session: Session, token: str) -> Actor:
    """The actor a bearer token stands for; expired, revoked or unknown tokens fail alike."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise AuthenticationFailed("the token is unknown, expired or revoked")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthenticationFailed("the token is unknown, expired or revoked")
    return actor_for_user(session, user)


def own_sites(session: Session, actor: Actor) -> list[Site]:
    """The sites in the actor's scope (every site for admins and all-sites users), by code."""
    query = select(Site).order_by(Site.code)
    if not (actor.all_sites or actor.role == Role.ADMIN):
        query = query.where(Site.id.in_(actor.site_ids))
    return list(session.scalars(query).all())


def list_users(session: Session, actor: Actor) -> list[dict[str, object]]:
    require(actor, Permission.MANAGE_USERS)
    users = session.scalars(select(User).order_by(User.username)).all()
    return [
        {"username": user.username, "role": user.role, "active": user.active, "sites": _site_codes(session, user)}
        for user in users
    ]


def _site_codes(session: Session, user: User) -> list[str]:
    if user.all_sites or user.role == Role.ADMIN.value:
        return ["*"]
    query = select(Site.code).join(UserSite, UserSite.site_id == Site.id).where(UserSite.user_id == user.id)
    return sorted(session.scalars(query).all())


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def _checked_role(role: str) -> Role:
    try:
        return validate_role(role)
    except ValueError as error:
        raise ValidationFailed("role", str(error)) from None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
