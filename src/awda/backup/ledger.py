"""The erasure ledger: which households were erased, kept OUTSIDE the database (docs/backup.md).

A backup made before an erasure still holds the household's wrapped data key. So every erasure
also appends the household's uid (and the time, nothing else) to this file, next to the master
key, and a restore shreds every household the ledger names before it commits. Each line carries
an HMAC-SHA256 chained over the previous line's, under a key derived from the master key: a line
changed, inserted, removed or moved breaks the chain from that line on. (Cutting off the newest
lines keeps a valid chain; the `erase_household` events name each erasure's position, so the log
shows such a cut.)

    line = "erase" SP uid SP erased_at SP hex(mac)
    mac  = HMAC-SHA256(key, previous mac || "erase" SP uid SP erased_at); the first line's previous
           mac is HMAC-SHA256(key, "awda-erasure-ledger/1")
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session, sessionmaker

from awda.errors import AwdaError
from awda.settings import Settings

INFO_KEY = "awda.erasure_ledger"
GENESIS = b"awda-erasure-ledger/1"
TAIL_BYTES = 4096  # more than one line: enough to find the last line's mac


class LedgerDamaged(AwdaError):
    """The ledger's HMAC chain does not hold: a line was changed, inserted, removed or moved."""

    status = 500
    title = "Erasure ledger damaged"


@dataclass(frozen=True)
class Erasure:
    uid: str
    erased_at: datetime


def ledger_key(master_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"awda/erasure-ledger/v1").derive(master_key)


def line_mac(key: bytes, previous: bytes, body: bytes) -> bytes:
    return hmac.new(key, previous + body, hashlib.sha256).digest()


def genesis_mac(key: bytes) -> bytes:
    return hmac.new(key, GENESIS, hashlib.sha256).digest()


def parse_line(key: bytes, previous: bytes, line: str, number: int) -> tuple[Erasure, bytes]:
    """One checked line: the erasure and its mac (the next line's `previous`)."""
    parts = line.split(" ")
    if len(parts) != 4 or parts[0] != "erase":
        raise LedgerDamaged(f"the erasure ledger is damaged at line {number} (not a ledger line)")
    try:
        mac, erased_at = bytes.fromhex(parts[3]), datetime.fromisoformat(parts[2])
    except ValueError:
        raise LedgerDamaged(f"the erasure ledger is damaged at line {number} (bad value)") from None
    body = " ".join(parts[:3]).encode()
    if not hmac.compare_digest(mac, line_mac(key, previous, body)):
        raise LedgerDamaged(
            f"the erasure ledger fails its check at line {number}: a line was changed, inserted, removed or "
            "moved, or it was written under another master key"
        )
    return Erasure(parts[1], erased_at), mac


def check_lines(key: bytes, lines: list[str]) -> list[Erasure]:
    """Every erasure in the ledger, in order, after checking the whole chain."""
    previous, erasures = genesis_mac(key), []
    for number, line in enumerate(lines, start=1):
        erasure, previous = parse_line(key, previous, line, number)
        erasures.append(erasure)
    return erasures


class ErasureLedger:
    """The ledger file and its key; never prints the key."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key

    def __repr__(self) -> str:
        return f"ErasureLedger({str(self.path)!r})"

    @classmethod
    def for_settings(cls, settings: Settings, master_key: bytes) -> ErasureLedger:
        """AWDA_ERASURE_LEDGER, or `erasures.ledger` in the master keyfile's folder."""
        path = settings.erasure_ledger or settings.effective_keyfile.parent / "erasures.ledger"
        return cls(path, ledger_key(master_key))

    def erasures(self) -> list[Erasure]:
        """Every erasure recorded, after checking the chain (none when there is no ledger yet)."""
        if not self.path.exists():
            return []
        text = self.path.read_text(encoding="ascii")
        if text and not text.endswith("\n"):
            raise LedgerDamaged("the erasure ledger is damaged: its last line is cut")
        return check_lines(self._key, text.splitlines())

    def append(self, uid: str, erased_at: datetime) -> int:
        """Append one erasure under an exclusive lock, synced to disk; returns its line number."""
        if not uid or any(character.isspace() for character in uid):
            raise ValueError("a household uid without spaces")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            previous, count = self._tail(descriptor)
            body = f"erase {uid} {erased_at.isoformat()}".encode()
            os.write(descriptor, body + b" " + line_mac(self._key, previous, body).hex().encode() + b"\n")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)  # closing releases the lock
        return count + 1

    def _tail(self, descriptor: int) -> tuple[bytes, int]:
        """The last line's mac (or the genesis mac) and the number of lines so far."""
        size = os.fstat(descriptor).st_size
        if size == 0:
            return genesis_mac(self._key), 0
        count = 0
        position = 0
        while position < size:  # counting lines reads the file; it holds one short line per erasure
            block = os.pread(descriptor, 1 << 16, position)
            count += block.count(b"\n")
            position += len(block)
        tail = os.pread(descriptor, TAIL_BYTES, max(0, size - TAIL_BYTES))
        if not tail.endswith(b"\n"):
            raise LedgerDamaged(f"the erasure ledger {self.path} is damaged: its last line is cut")
        last = tail[:-1].rsplit(b"\n", 1)[-1].decode("ascii", "replace")
        parts = last.split(" ")
        try:
            return bytes.fromhex(parts[3]), count
        except (IndexError, ValueError):
            raise LedgerDamaged(f"the erasure ledger {self.path} is damaged at its last line") from None


def attach(sessions: sessionmaker[Session], ledger: ErasureLedger) -> None:
    """Let every session of this factory find the ledger (erasures append to it)."""
    sessions.configure(info={INFO_KEY: ledger})


def ledger_of(session: Session) -> ErasureLedger | None:
    """The ledger attached to the session's factory, if any (test sessions may have none)."""
    found = session.info.get(INFO_KEY)
    return found if isinstance(found, ErasureLedger) else None
