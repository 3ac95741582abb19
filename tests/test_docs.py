"""Docs that cannot drift: every command and every setting is documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from awda.cli.main import app
from awda.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def command_paths(command: Any, prefix: str = "awda") -> list[str]:
    children = getattr(command, "commands", None)
    if children:
        return [path for name, sub in children.items() for path in command_paths(sub, f"{prefix} {name}")]
    return [prefix]


def test_every_command_is_in_the_cli_doc() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    paths = command_paths(typer.main.get_command(app))
    assert len(paths) > 15
    assert [path for path in paths if f"`{path}" not in text] == []


def test_every_setting_is_in_the_settings_doc() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`AWDA_{name.upper()}`" not in text]
    assert missing == []


def test_architecture_names_every_package() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    source = Path(__file__).resolve().parent.parent / "src" / "awda"
    packages = [p.name for p in source.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert [name for name in packages if f"src/awda/{name}/" not in text] == []
