"""The vault: AES-GCM sealing bound to context, key wrapping, blind indexes, unsafe keys refused."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from awda.errors import ConfigurationError
from awda.settings import Settings
from awda.vault import Vault, VaultError, load_master_key, new_master_key_text, parse_master_key, write_keyfile


@pytest.fixture
def vault() -> Vault:
    return Vault(parse_master_key(new_master_key_text()))


def test_seal_open_and_context_binding(vault: Vault) -> None:
    data_key, wrapped = vault.new_data_key("household-1")
    sealed = vault.seal(data_key, "محمد".encode(), "person:a")
    assert "محمد".encode() not in sealed
    assert vault.open(vault.unwrap(wrapped, "household-1"), sealed, "person:a") == "محمد".encode()
    with pytest.raises(VaultError):
        vault.open(data_key, sealed, "person:b")
    with pytest.raises(VaultError):
        vault.unwrap(wrapped, "household-2")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(VaultError):
        vault.open(data_key, tampered, "person:a")


def test_another_master_key_opens_nothing(vault: Vault) -> None:
    other = Vault(parse_master_key(new_master_key_text()))
    _data_key, wrapped = vault.new_data_key("h")
    with pytest.raises(VaultError):
        other.unwrap(wrapped, "h")
    with pytest.raises(VaultError, match="erased"):
        vault.unwrap(None, "h")


def test_blind_index_normalises_and_is_keyed(vault: Vault) -> None:
    assert vault.blind_index("name_ar", "أحمد  محمد") == vault.blind_index("name_ar", "احمد محمد")
    assert vault.blind_index("name_lat", "Ahmad") == vault.blind_index("name_lat", " ahmad ")
    assert vault.blind_index("name_lat", "Ahmad") != vault.blind_index("phone", "Ahmad")
    other = Vault(parse_master_key(new_master_key_text()))
    assert other.blind_index("phone", "+963944555777") != vault.blind_index("phone", "+963944555777")


@pytest.mark.parametrize(
    "text",
    [
        "changeme",
        "",
        "not base64 !!",
        base64.b64encode(b"\x00" * 32).decode(),
        base64.b64encode(os.urandom(16)).decode(),
    ],
)
def test_unsafe_master_keys_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_master_key(text)


def test_keyfile_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    write_keyfile(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_master_key(Settings(data_dir=tmp_path, keyfile=path))
    with pytest.raises(FileExistsError):
        write_keyfile(path)
    assert load_master_key(Settings(data_dir=tmp_path, keyfile=path)) == key


def test_missing_key_and_setting_override(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="awda init"):
        load_master_key(Settings(data_dir=tmp_path))
    text = new_master_key_text()
    assert load_master_key(Settings(data_dir=tmp_path, master_key=SecretStr(text))) == base64.b64decode(text)
    assert text not in repr(Settings(master_key=SecretStr(text)))
    assert "key" not in repr(Vault(base64.b64decode(text))).replace("key_id", "")
