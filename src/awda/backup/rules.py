"""The backup file format, pure: key derivation, chunked AEAD framing, value codecs (docs/backup.md).

A file is a fixed clear prefix followed by AES-256-GCM chunks:

    prefix = MAGIC(8) || version(1) || chunk_size(4, big-endian) || salt(32) || key_id(8)
    chunk i = AES-256-GCM(key, nonce = i as 11 bytes big-endian || final flag (1 byte),
                          associated data = SHA-256(prefix), plaintext = at most chunk_size bytes)

The key is HKDF-SHA256(master key, salt, info "awda/backup/v1"): a fresh key per file, so the
counter nonce never repeats under a key. Binding the prefix, the counter and the final flag means a
changed byte, a swapped, dropped or repeated chunk, a changed prefix and a cut-off end all fail to
authenticate. The plaintext is one zlib stream of JSON lines: the manifest (schema revision, tables
with their columns and row counts, creation time), then every table's rows in the manifest's order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from awda.errors import AwdaError

MAGIC = b"AWDA-BAK"
FORMAT_VERSION = 1
CHUNK_SIZE = 1 << 16
SALT_BYTES = 32
KEY_ID_BYTES = 8
TAG_BYTES = 16
PREFIX_BYTES = len(MAGIC) + 1 + 4 + SALT_BYTES + KEY_ID_BYTES
MAX_CHUNK_SIZE = 1 << 24
COUNTER_BYTES = 11
MAX_LINE = 1 << 26  # one row: sealed fields are small; a longer line means a damaged stream
FILE_SUFFIX = ".awdabak"

# The kinds of column values and how each travels in JSON (None is null for every kind).
BYTES, DATETIME, DATE, PLAIN = "bytes", "datetime", "date", "plain"


class BackupRejected(AwdaError):
    """The backup file cannot be used: damaged, altered, truncated, another key, another schema."""

    status = 422
    title = "Backup rejected"


@dataclass(frozen=True)
class Prefix:
    """The clear start of a file: everything needed to derive its key, nothing about its content."""

    version: int
    chunk_size: int
    salt: bytes
    key_id: bytes

    def to_bytes(self) -> bytes:
        return MAGIC + bytes([self.version]) + self.chunk_size.to_bytes(4, "big") + self.salt + self.key_id


def new_prefix(master_key: bytes, chunk_size: int = CHUNK_SIZE) -> Prefix:
    return Prefix(FORMAT_VERSION, chunk_size, os.urandom(SALT_BYTES), key_id(master_key))


def parse_prefix(data: bytes) -> Prefix:
    """The prefix of a file, or BackupRejected naming what is wrong with it."""
    if len(data) < PREFIX_BYTES or not data.startswith(MAGIC):
        raise BackupRejected("not an awda backup file")
    version = data[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise BackupRejected(f"backup format {version} is not one this awda reads (it reads {FORMAT_VERSION})")
    start = len(MAGIC) + 1
    chunk_size = int.from_bytes(data[start : start + 4], "big")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise BackupRejected("the backup file's header is damaged (chunk size)")
    salt = data[start + 4 : start + 4 + SALT_BYTES]
    return Prefix(version, chunk_size, salt, data[start + 4 + SALT_BYTES : PREFIX_BYTES])


def key_id(master_key: bytes) -> bytes:
    """A short public fingerprint of the master key, to tell "another key" from "altered"."""
    return _hkdf(master_key, None, b"awda/backup-key-id/v1")[:KEY_ID_BYTES]


def file_key(master_key: bytes, prefix: Prefix) -> bytes:
    """The file's own AES-256 key: HKDF of the master key for purpose "backup" with the file's salt."""
    return _hkdf(master_key, prefix.salt, b"awda/backup/v1")


def _hkdf(master_key: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master_key)


def chunk_nonce(counter: int, final: bool) -> bytes:
    return counter.to_bytes(COUNTER_BYTES, "big") + (b"\x01" if final else b"\x00")


class ChunkSealer:
    """Compresses and seals a byte stream into chunks; `write` and `finish` return file bytes."""

    def __init__(self, master_key: bytes, prefix: Prefix) -> None:
        self._cipher = AESGCM(file_key(master_key, prefix))
        self._associated = hashlib.sha256(prefix.to_bytes()).digest()
        self._chunk_size = prefix.chunk_size
        self._compressor = zlib.compressobj(6)
        self._pending = bytearray()
        self._counter = 0

    def write(self, data: bytes) -> bytes:
        self._pending += self._compressor.compress(data)
        return self._drain()

    def finish(self) -> bytes:
        """The remaining chunks; the last one carries the final flag (it may be empty)."""
        self._pending += self._compressor.flush()
        sealed = self._drain()
        return sealed + self._seal(bytes(self._pending), final=True)

    def _drain(self) -> bytes:
        out = bytearray()
        # Strictly more than one chunk's worth: the last chunk is sealed by `finish` with the flag.
        while len(self._pending) > self._chunk_size:
            out += self._seal(bytes(self._pending[: self._chunk_size]), final=False)
            del self._pending[: self._chunk_size]
        return bytes(out)

    def _seal(self, plaintext: bytes, final: bool) -> bytes:
        sealed = self._cipher.encrypt(chunk_nonce(self._counter, final), plaintext, self._associated)
        self._counter += 1
        return sealed


def open_chunks(master_key: bytes, prefix: Prefix, read: Callable[[int], bytes]) -> Iterator[bytes]:
    """The decompressed plaintext of the chunks that follow the prefix, read with `read(n)`.

    Raises BackupRejected as soon as a chunk does not authenticate, when the file ends before its
    final chunk, or when the compressed stream inside does not end exactly with the final chunk.
    """
    if prefix.key_id != key_id(master_key):
        raise BackupRejected(
            f"the backup was made under another master key (key id {prefix.key_id.hex()}, this installation's is "
            f"{key_id(master_key).hex()}), or its header was altered; restore needs the key that made it"
        )
    cipher = AESGCM(file_key(master_key, prefix))
    associated = hashlib.sha256(prefix.to_bytes()).digest()
    decompressor = zlib.decompressobj()
    for counter, sealed, final in _framed(read, prefix.chunk_size + TAG_BYTES):
        plain = _open_chunk(cipher, associated, counter, sealed, final)
        try:
            data = decompressor.decompress(plain)
        except zlib.error:
            raise BackupRejected("the backup's content is damaged (it does not decompress)") from None
        if data:
            yield data
    if not decompressor.eof or decompressor.unused_data:
        raise BackupRejected("the backup's content is damaged (its stream does not end where the file ends)")


def _framed(read: Callable[[int], bytes], size: int) -> Iterator[tuple[int, bytes, bool]]:
    """(counter, sealed chunk, is last in the file): the last one must be the final chunk."""
    counter, current = 0, read(size)
    while True:
        if len(current) < size:
            yield counter, current, True
            return
        following = read(size)
        yield counter, current, not following
        if not following:
            return
        counter, current = counter + 1, following


def _open_chunk(cipher: AESGCM, associated: bytes, counter: int, sealed: bytes, final: bool) -> bytes:
    try:
        return cipher.decrypt(chunk_nonce(counter, final), sealed, associated)
    except InvalidTag:
        pass
    if final and _opens(cipher, associated, counter, sealed):
        raise BackupRejected(f"the backup file is truncated: it ends after chunk {counter}, before its last chunk")
    if final and not sealed:
        raise BackupRejected("the backup file is truncated: it ends before its last chunk")
    raise BackupRejected(f"the backup file was altered or damaged: chunk {counter} does not authenticate")


def _opens(cipher: AESGCM, associated: bytes, counter: int, sealed: bytes) -> bool:
    try:
        cipher.decrypt(chunk_nonce(counter, False), sealed, associated)
    except InvalidTag:
        return False
    return True


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The newline-terminated lines of a byte stream (without the newline)."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        if b"\n" not in chunk:
            if len(buffer) > MAX_LINE:
                raise BackupRejected("the backup's content is damaged (a line is too long)")
            continue
        *complete, buffer = buffer.split(b"\n")
        yield from complete
    if buffer:
        raise BackupRejected("the backup's content is damaged (its last line is cut)")


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder for every row


def json_line(value: Any) -> bytes:
    return _JSON.encode(value).encode() + b"\n"


def parse_line(line: bytes, what: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise BackupRejected(f"the backup's content is damaged ({what} is not JSON)") from None


def encoder(kinds: Sequence[str]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning a row of column values into JSON-ready values."""
    steps = [_ENCODE[kind] for kind in kinds]

    def encode(row: Sequence[Any]) -> list[Any]:
        return [None if value is None else step(value) for step, value in zip(steps, row, strict=True)]

    return encode


def decoder(kinds: Sequence[str]) -> Callable[[Sequence[Any]], list[Any]]:
    """The inverse of `encoder`; raises BackupRejected on a value that does not fit its column."""
    steps = [_DECODE[kind] for kind in kinds]

    def decode(row: Sequence[Any]) -> list[Any]:
        if not isinstance(row, list) or len(row) != len(steps):
            raise BackupRejected("the backup's content is damaged (a row has the wrong number of values)")
        try:
            return [None if value is None else step(value) for step, value in zip(steps, row, strict=True)]
        except (TypeError, ValueError):
            raise BackupRejected("the backup's content is damaged (a value does not fit its column)") from None

    return decode


def _same(value: Any) -> Any:
    return value


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment


_ENCODE: dict[str, Callable[[Any], Any]] = {
    BYTES: lambda value: base64.b64encode(value).decode("ascii"),
    DATETIME: lambda value: value.isoformat(),
    DATE: lambda value: value.isoformat(),
    PLAIN: _same,
}
_DECODE: dict[str, Callable[[Any], Any]] = {
    BYTES: lambda value: base64.b64decode(value, validate=True),
    DATETIME: _aware,
    DATE: date.fromisoformat,
    PLAIN: _same,
}


def check_manifest(
    manifest: Any, revision: str | None, known_revisions: set[str], tables: dict[str, list[list[str]]]
) -> None:
    """Refuse a manifest of another format, another schema revision or other tables and columns.

    `tables` maps each table of this schema to its [column, kind] pairs.
    """
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupRejected("the backup's manifest is damaged or of an unknown format")
    made_at = manifest.get("revision")
    if made_at not in known_revisions:
        raise BackupRejected(
            f"the backup is at schema revision {made_at}, which this awda does not know (a newer release made it): "
            "restore it with that release or a later one"
        )
    if made_at != revision:
        raise BackupRejected(
            f"the backup is at schema revision {made_at}, this database at {revision}: restore it with the awda "
            f"release of revision {made_at} (then upgrade), or make a new backup with this release"
        )
    listed = {entry.get("name"): entry.get("columns") for entry in manifest.get("tables", [])}
    if listed != tables:
        differing = sorted(name for name in set(listed) | set(tables) if listed.get(name) != tables.get(name))
        raise BackupRejected(f"the backup's tables differ from this schema's: {', '.join(map(str, differing))}")
