"""Telling a household its convoy date and asking it to re-confirm: one small sender interface.

SMS gateways differ by country and by organisation, so awda does not speak to any of them: a
deployment plugs its gateway behind `MessageSender`. awda ships a console sender (for a
coordinator who reads messages out by phone) and a file sender (an outbox that a gateway script
drains, and that tests read). Messages carry no name and no destination: a seized phone shows a
date and a reference, nothing about where the household is going.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol, TextIO

from awda.errors import ConfigurationError


@dataclass(frozen=True)
class OutgoingMessage:
    to: str  # a phone number in international form
    text: str
    purpose: str  # "convoy_date" and so on: what the message is for, never its content


class MessageSender(Protocol):
    channel: str

    def send(self, message: OutgoingMessage) -> None: ...


class ConsoleSender:
    channel = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: OutgoingMessage) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"to {message.to}: {message.text}\n")


class FileSender:
    """Appends one JSON object per message to a file that only its owner may read."""

    channel = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutgoingMessage) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            # queued_at lets retention drop lines a gateway should long have sent (docs/backup.md)
            line = asdict(message) | {"queued_at": datetime.now(UTC).isoformat(timespec="seconds")}
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


class NoSender:
    """For deployments that tell households in person: nothing is sent, the booking says so."""

    channel = "none"

    def send(self, message: OutgoingMessage) -> None:
        return None


def sender_from_setting(setting: str, data_dir: Path) -> MessageSender:
    """The sender named by AWDA_MESSAGE_SENDER."""
    if setting == "console":
        return ConsoleSender()
    if setting == "none":
        return NoSender()
    if setting == "file":
        return FileSender(data_dir / "outbox" / "messages.jsonl")
    if setting.startswith("file:") and len(setting) > len("file:"):
        return FileSender(Path(setting[len("file:") :]))
    raise ConfigurationError(f"AWDA_MESSAGE_SENDER={setting!r}: use file, file:PATH, console or none")


def convoy_date_text(departs_on: date, reconfirm_from: date, reference: str | None) -> str:
    """The message: Arabic first, then English; the date to travel and how to re-confirm."""
    when, start = departs_on.isoformat(), reconfirm_from.isoformat()
    ref_ar = f" برقمكم المرجعي {reference}" if reference else ""
    ref_en = f" with your reference {reference}" if reference else ""
    return (
        f"عودة: موعد سفركم {when}. يرجى تأكيد رغبتكم بالسفر بين {start} و{when}{ref_ar}. "
        f"awda: your travel date is {when}. Please re-confirm between {start} and {when}{ref_en}."
    )
