"""Envelope encryption of personal fields, blind indexes and crypto-shredding.

Each household has its own random 256-bit data key. Personal fields are sealed with AES-256-GCM
under that key, bound (as associated data) to the record and field they belong to, so a
ciphertext moved to another row does not open. The data key is stored only wrapped (AES-256-GCM)
by a key-encryption key derived from the master key. Erasing a household deletes its wrapped key:
its ciphertexts can then never be opened again (crypto-shredding).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from awda.errors import ConfigurationError
from awda.settings import Settings

FORMAT_VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
INDEX_BYTES = 16
PLACEHOLDERS = {"changeme", "change-me", "secret", "placeholder", "password", "test", "xxx", "todo"}


class VaultError(Exception):
    """A ciphertext did not open: wrong key, shredded key, or tampering."""


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master_key)


def parse_master_key(text: str) -> bytes:
    """Decode a base64 master key; refuse placeholders and keys that are too short or too regular."""
    stripped = text.strip()
    if stripped.lower() in PLACEHOLDERS:
        raise ConfigurationError("the master key is a placeholder value; generate one with `awda init`")
    try:
        key = base64.b64decode(stripped, validate=True)
    except ValueError as error:
        raise ConfigurationError("the master key is not valid base64") from error
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"the master key must be {KEY_BYTES} bytes (base64), not {len(key)}")
    if len(set(key)) < 12:
        raise ConfigurationError("the master key is too regular to be random; generate a new one")
    return key


def new_master_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def write_keyfile(path: Path) -> None:
    """Create a new keyfile readable only by its owner; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(new_master_key_text() + "\n")


def load_master_key(settings: Settings) -> bytes:
    """The master key from AWDA_MASTER_KEY or the keyfile; a clear error if neither is usable."""
    if settings.master_key is not None:
        return parse_master_key(settings.master_key.get_secret_value())
    path = settings.effective_keyfile
    if not path.exists():
        raise ConfigurationError(f"no master key: set AWDA_MASTER_KEY or run `awda init` to create {path}")
    return parse_master_key(path.read_text(encoding="ascii"))


class Vault:
    """Seals and opens personal fields; computes blind indexes. Holds keys, never prints them."""

    def __init__(self, master_key: bytes) -> None:
        self._master_key = master_key
        self._wrapping = AESGCM(_derive(master_key, b"awda/data-key-wrapping/v1"))
        # Keyed once; each digest copies the keyed state (cheaper than keying HMAC every time).
        self._index_mac = hmac.new(_derive(master_key, b"awda/blind-index/v1"), digestmod=hashlib.sha256)
        self._fingerprint_mac = hmac.new(_derive(master_key, b"awda/fingerprint/v1"), digestmod=hashlib.sha256)
        self.key_id = hashlib.sha256(_derive(master_key, b"awda/key-id/v1")).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Vault(key_id={self.key_id!r})"

    def master_key_for_worker(self) -> bytes:
        """The master key, only to rebuild this vault in a worker process of the same import."""
        return self._master_key

    def new_data_key(self, owner: str) -> tuple[bytes, bytes]:
        """A fresh data key for `owner` (a household uid) and its wrapped form for storage."""
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self._seal(self._wrapping, data_key, b"dk|" + owner.encode())

    def unwrap(self, wrapped: bytes | None, owner: str) -> bytes:
        if wrapped is None:
            raise VaultError("the data key was erased")
        return self._open(self._wrapping, wrapped, b"dk|" + owner.encode())

    def seal(self, data_key: bytes, plaintext: bytes, context: str) -> bytes:
        return self._seal(AESGCM(data_key), plaintext, context.encode())

    def sealer(self, data_key: bytes) -> AESGCM:
        """A cipher bound to one data key, to seal many fields of one household."""
        return AESGCM(data_key)

    def seal_with(self, cipher: AESGCM, plaintext: bytes, context: str) -> bytes:
        return self._seal(cipher, plaintext, context.encode())

    def seal_all(self, cipher: AESGCM, items: Sequence[tuple[bytes, str]]) -> list[bytes]:
        """Seal several fields under one cipher (`seal_with` each), drawing all nonces in one go."""
        nonces = os.urandom(NONCE_BYTES * len(items))
        sealed = []
        for start, (plaintext, context) in zip(range(0, len(nonces), NONCE_BYTES), items, strict=True):
            nonce = nonces[start : start + NONCE_BYTES]
            sealed.append(FORMAT_VERSION + nonce + cipher.encrypt(nonce, plaintext, context.encode()))
        return sealed

    def open(self, data_key: bytes, sealed: bytes, context: str) -> bytes:
        return self._open(AESGCM(data_key), sealed, context.encode())

    def blind_index(self, kind: str, value: str) -> bytes:
        """A keyed digest for exact lookups: equal normalised values give equal digests."""
        mac = self._index_mac.copy()
        mac.update(kind.encode() + b"\x00" + normalise_for_index(value).encode())
        return mac.digest()[:INDEX_BYTES]

    def keyed_digest(self, purpose: str, data: bytes) -> bytes:
        """HMAC-SHA256 of `data` under a key derived for `purpose` alone (form tokens, throttle counters)."""
        key = _derive(self._master_key, b"awda/" + purpose.encode() + b"/v1")
        return hmac.new(key, data, hashlib.sha256).digest()

    def seal_private_key(self, owner: str, private_key: PrivateKeyTypes) -> tuple[bytes, bytes]:
        """A signing key's private half as (wrapped data key, sealed PKCS#8), under a data key of its own."""
        pkcs8 = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        data_key, wrapped = self.new_data_key(owner)
        return wrapped, self.seal(data_key, pkcs8, owner)

    def open_private_key(self, owner: str, wrapped: bytes, sealed: bytes) -> PrivateKeyTypes:
        """The private key sealed by `seal_private_key` for `owner`."""
        pkcs8 = self.open(self.unwrap(wrapped, owner), sealed, owner)
        return serialization.load_der_private_key(pkcs8, password=None)

    def fingerprint(self, content: bytes) -> bytes:
        """A keyed digest of imported content, to tell a repeat from a conflicting re-import."""
        mac = self._fingerprint_mac.copy()
        mac.update(content)
        return mac.digest()

    @staticmethod
    def _seal(cipher: AESGCM, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_VERSION + nonce + cipher.encrypt(nonce, plaintext, associated)

    @staticmethod
    def _open(cipher: AESGCM, sealed: bytes, associated: bytes) -> bytes:
        if sealed[:1] != FORMAT_VERSION:
            raise VaultError("unknown ciphertext format")
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, body, associated)
        except InvalidTag as error:
            raise VaultError("ciphertext does not open under this key and context") from error


def _fold_table() -> dict[int, str | None]:
    """One translation table: drop combining marks (harakat, accents) and tatweel, unify letters."""
    table: dict[int, str | None] = {code: None for code in range(0x300, 0x10000) if unicodedata.combining(chr(code))}
    table |= {ord("ـ"): None, ord("أ"): "ا", ord("إ"): "ا", ord("آ"): "ا", ord("ٱ"): "ا", ord("ة"): "ه", ord("ى"): "ي"}
    return table


_FOLD = _fold_table()


def normalise_for_index(value: str) -> str:
    """Fold case, Arabic letter variants, diacritics and spacing; keep digits and '+'."""
    if value.isascii():
        return " ".join(value.casefold().split())
    # Word by word, so that common names are folded once (a space stays a boundary in NFKC/NFKD).
    return " ".join(folded for word in value.split() if (folded := _fold_word(word)))


def _fold_word(word: str) -> str:
    folded = _folded_words.get(word)
    if folded is None:
        # NFKD splits precomposed letters (é, أ) into base + mark; the table then drops the mark.
        folded = unicodedata.normalize("NFKC", word).translate(_FOLD)
        folded = " ".join(unicodedata.normalize("NFKD", folded).translate(_FOLD).casefold().split())
        if len(_folded_words) < MAX_FOLDED_WORDS:
            _folded_words[word] = folded
    return folded


MAX_FOLDED_WORDS = 100_000  # names repeat a lot; a plain bounded dict (no eviction, no cycles)
_folded_words: dict[str, str] = {}
