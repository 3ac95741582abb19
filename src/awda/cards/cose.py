"""COSE_Sign1 (RFC 9052) signing and verification with `cbor2` and `cryptography`.

Only what cards need: ES256 (P-256, raw r||s signatures) and EdDSA (Ed25519) for signing and
verifying, PS256 for verifying EU DCC certificates. Decoding is strict for `AW1:` cards; the
`dcc_quirks` switch accepts what real EU DCC issuers emit (untagged or CWT-tagged messages).
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from awda.errors import AwdaError

ES256 = -7
EDDSA = -8
PS256 = -37
ALGORITHM_NAMES = {ES256: "ES256", EDDSA: "EdDSA", PS256: "PS256"}

HEADER_ALG = 1
HEADER_CONTENT_TYPE = 3
HEADER_KID = 4
HEADER_TYP = 16

TAG_COSE_SIGN1 = 18
TAG_CWT = 61
P256_COORDINATE_BYTES = 32
PS256_SALT_BYTES = 32  # the EU DCC profile fixes the PSS salt length to the hash length

SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
VerifyingKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

CBOR_MAP = (dict, cbor2.frozendict)  # what cbor2 decodes maps to (frozendict inside tags)
CBOR_ARRAY = (list, tuple)  # likewise for arrays; concrete types keep isinstance checks cheap

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_PSS_SHA256 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PS256_SALT_BYTES)


class CardFormatError(AwdaError):
    """Card, status list or trust list data that does not follow docs/cards.md; says what is wrong."""

    status = 422
    title = "Malformed card data"


class CoseError(CardFormatError):
    """Bytes that are not a well-formed COSE_Sign1 message."""


def loads_exactly(data: bytes, *, what: str, strict: bool = True) -> Any:
    """Decode one CBOR item that must span all of `data`; `strict` also refuses duplicate map keys."""
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream, allow_duplicate_keys=not strict, max_depth=64).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as error:
        raise CoseError(f"{what} is not valid CBOR ({error})") from None
    if stream.tell() != len(data):
        raise CoseError(f"{what} has {len(data) - stream.tell()} unexpected bytes after its CBOR item")
    return value


def kid_for(public_key: VerifyingKey) -> bytes:
    """The key id of docs/cards.md: the first 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:8]


def alg_for(key: SigningKey | VerifyingKey) -> int:
    """The COSE algorithm a key is used with: -7 ES256 (P-256), -8 EdDSA (Ed25519), -37 PS256 (RSA)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return ES256
        raise CoseError(f"ES256 needs a P-256 key, not {key.curve.name}")
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return EDDSA
    if isinstance(key, rsa.RSAPublicKey):
        return PS256
    raise CoseError(f"unsupported key type {type(key).__name__}")


def sign1(
    payload: bytes, private_key: SigningKey, kid: bytes, extra_protected: Mapping[int, Any] | None = None
) -> bytes:
    """A tagged COSE_Sign1 over `payload` with protected header {1: alg, 4: kid, **extra_protected}."""
    alg = alg_for(private_key)
    header: dict[int, Any] = {HEADER_ALG: alg, HEADER_KID: kid, **(extra_protected or {})}
    protected = cbor2.dumps(header, canonical=True)
    to_be_signed = sig_structure(protected, payload)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private_key.sign(to_be_signed, _ECDSA_SHA256))
        signature = r.to_bytes(P256_COORDINATE_BYTES, "big") + s.to_bytes(P256_COORDINATE_BYTES, "big")
    else:
        signature = private_key.sign(to_be_signed)
    return cbor2.dumps(cbor2.CBORTag(TAG_COSE_SIGN1, [protected, {}, payload, signature]))


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers: ["Signature1", protected, h'', payload]."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


@dataclass(frozen=True, slots=True)
class Sign1:
    """A decoded COSE_Sign1 message; `protected_bytes` are kept as received, since they are signed."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    def header(self, label: int) -> Any:
        """A header parameter, from the protected header first, else from the unprotected one."""
        if label in self.protected:
            return self.protected[label]
        return self.unprotected.get(label)

    @property
    def alg(self) -> Any:
        return self.header(HEADER_ALG)

    @property
    def kid(self) -> Any:
        return self.header(HEADER_KID)

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected_bytes, self.payload)


def _untag(value: Any, dcc_quirks: bool) -> Any:
    """Strip tag 18; with `dcc_quirks`, also accept an outer CWT tag 61 or no tag at all."""
    if dcc_quirks and isinstance(value, cbor2.CBORTag) and value.tag == TAG_CWT:
        value = value.value
    if isinstance(value, cbor2.CBORTag):
        if value.tag != TAG_COSE_SIGN1:
            raise CoseError(f"CBOR tag {value.tag} where COSE_Sign1 (tag 18) was expected")
        return value.value
    if dcc_quirks:
        return value
    raise CoseError("the COSE message is not tagged as COSE_Sign1 (tag 18)")


def _protected_header(data: bytes) -> cbor2.frozendict[Any, Any]:
    header = loads_exactly(data, what="the protected header") if data else {}
    if not isinstance(header, CBOR_MAP):
        raise CoseError("the protected header must hold a CBOR map")
    return cbor2.frozendict(header)


_cached_protected_header = functools.lru_cache(maxsize=256)(_protected_header)
MAX_CACHED_HEADER_BYTES = 128  # every card of one key carries the same few header bytes


def decode_sign1(data: bytes, *, dcc_quirks: bool = False) -> Sign1:
    """Parse COSE_Sign1 bytes; raises CoseError naming the first thing that is wrong."""
    message = _untag(loads_exactly(data, what="the COSE message", strict=not dcc_quirks), dcc_quirks)
    if not isinstance(message, CBOR_ARRAY) or len(message) != 4:
        raise CoseError("a COSE_Sign1 message must be an array of 4 items")
    protected_bytes, unprotected, payload, signature = message
    if not isinstance(protected_bytes, bytes):
        raise CoseError("the protected header must be a byte string")
    if len(protected_bytes) <= MAX_CACHED_HEADER_BYTES:
        protected = _cached_protected_header(protected_bytes)
    else:
        protected = _protected_header(protected_bytes)
    if not isinstance(unprotected, CBOR_MAP):
        raise CoseError("the unprotected header must be a map")
    if not isinstance(payload, bytes):
        raise CoseError("the payload must be a byte string")
    if not isinstance(signature, bytes):
        raise CoseError("the signature must be a byte string")
    return Sign1(protected_bytes, protected, unprotected, payload, signature)


def signature_problem(message: Sign1, public_key: VerifyingKey) -> str | None:
    """Why the signature does not verify with `public_key` (alg bound to key type), or None if it does."""
    alg = message.alg
    check = _SIGNATURE_CHECKS.get(alg) if isinstance(alg, int) else None
    if check is None:
        return f"unsupported algorithm {alg!r}"
    try:
        return check(message, public_key)
    except InvalidSignature:
        return "the signature does not match"
    except (ValueError, TypeError, OverflowError) as error:  # malformed signature bytes
        return f"the signature is malformed ({error})"


def _es256_problem(message: Sign1, public_key: VerifyingKey) -> str | None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ES256 needs an EC P-256 key"
    if not isinstance(public_key.curve, ec.SECP256R1):
        return f"ES256 needs a P-256 key, the key is on {public_key.curve.name}"
    signature = message.signature
    if len(signature) != 2 * P256_COORDINATE_BYTES:
        return f"an ES256 signature is 64 bytes (r || s), not {len(signature)}"
    r = int.from_bytes(signature[:P256_COORDINATE_BYTES], "big")
    s = int.from_bytes(signature[P256_COORDINATE_BYTES:], "big")
    public_key.verify(encode_dss_signature(r, s), message.to_be_signed(), _ECDSA_SHA256)
    return None


def _eddsa_problem(message: Sign1, public_key: VerifyingKey) -> str | None:
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        return "EdDSA needs an Ed25519 key"
    public_key.verify(message.signature, message.to_be_signed())
    return None


def _ps256_problem(message: Sign1, public_key: VerifyingKey) -> str | None:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return "PS256 needs an RSA key"
    public_key.verify(message.signature, message.to_be_signed(), _PSS_SHA256, hashes.SHA256())
    return None


_SIGNATURE_CHECKS: dict[int, Callable[[Sign1, VerifyingKey], str | None]] = {
    ES256: _es256_problem,
    EDDSA: _eddsa_problem,
    PS256: _ps256_problem,
}


def verify_sign1(message: Sign1, public_key: VerifyingKey) -> bool:
    """True when the signature verifies with `public_key` under the message's algorithm; never raises."""
    return signature_problem(message, public_key) is None
