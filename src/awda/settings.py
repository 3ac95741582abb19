"""Typed settings from AWDA_* environment variables; nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting is documented in docs/settings.md (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="AWDA_", frozen=True)

    data_dir: Path = Path("awda-data")
    database_url: str | None = None
    master_key: SecretStr | None = None
    keyfile: Path | None = None
    token_ttl_hours: int = 12
    reconfirm_days: int = 7
    host: str = "127.0.0.1"
    port: int = 8000
    card_issuer: str = "awda"
    card_validity_days: int = 365
    status_list_ttl_hours: int = 24
    status_list_valid_days: int = 7
    followup_grace_days: int = 7
    followup_escalate_days: int = 45
    disclosure_k: int = 10
    message_sender: str = "file"  # "file" (an outbox under data_dir), "file:PATH", "console" or "none"
    arrival_alarm_hours: int = 24
    waitlist_priority_days: int = 90
    pin_max_failures: int = 5
    pin_lock_minutes: int = 15
    import_commit_rows: int = Field(default=25_000, ge=1)  # rows per import transaction (docs/import.md)
    max_body_bytes: int = 1_048_576  # JSON and form bodies (web/limits.py)
    max_upload_bytes: int = 8_388_608  # multipart uploads
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_window_minutes: int = 15
    login_lock_minutes: int = 15
    session_hours: int = 8
    tree_head_minutes: int = 60  # 0: only on demand (awda audit head)
    # Backups, the erasure ledger and retention (docs/backup.md); a retention period of 0 is off.
    backup_dir: Path | None = None
    erasure_ledger: Path | None = None
    retention_token_days: int = 30
    retention_pin_days: int = 30
    retention_outbox_days: int = 30
    retention_household_days: int = 0
    retention_backup_days: int = 90

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under `data_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'awda.db'}"

    @property
    def effective_keyfile(self) -> Path:
        return self.keyfile if self.keyfile is not None else self.data_dir / "master.key"
