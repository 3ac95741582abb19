"""Wiring settings to an engine, a session factory and the vault, for the shells."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from awda.backup.ledger import ErasureLedger, attach
from awda.db import make_engine, migrate, session_factory
from awda.settings import Settings
from awda.vault import Vault, load_master_key


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault


def open_runtime(settings: Settings, *, upgrade: bool = True) -> Runtime:
    """Connect, bring the schema up to date and load the master key (refusing unsafe ones)."""
    master_key = load_master_key(settings)
    vault = Vault(master_key)
    engine = make_engine(settings.effective_database_url)
    if upgrade:
        migrate(engine)
    sessions = session_factory(engine)
    # Erasures append to the ledger outside the database (docs/backup.md).
    attach(sessions, ErasureLedger.for_settings(settings, master_key))
    return Runtime(settings, engine, sessions, vault)
