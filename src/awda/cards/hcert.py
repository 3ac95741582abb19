"""The EU Digital COVID Certificate (`HC1:`) conformance profile of the card verifier.

The same pipeline as `AW1:` cards, checked against one signer certificate (DSC) instead of a trust
list, with the quirks real issuers emit: untagged or CWT-tagged (61) messages, kid and alg in the
unprotected header, PS256 signatures, floating-point times. Adds a "decode" check (the payload
holds an EU DCC: claim -260, key 1) and has no status list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from awda.cards.claims import iso_utc
from awda.cards.cose import (
    ES256,
    CardFormatError,
    Sign1,
    VerifyingKey,
    decode_sign1,
    loads_exactly,
    signature_problem,
)
from awda.cards.verify import Verification, decode_qr_text

HCERT_PREFIX = "HC1:"
CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_HCERT = -260
HCERT_EU_DCC = 1
MAX_JSON_DEPTH = 32  # DCC payloads nest 3 or 4 levels; a deeper one is hostile


class HcertError(CardFormatError):
    """An EU DCC input (certificate or payload) that cannot be used."""


def certificate_kid(certificate_der: bytes) -> bytes:
    """The DCC kid: the first 8 bytes of SHA-256 over the signer certificate's DER."""
    return hashlib.sha256(certificate_der).digest()[:8]


def certificate_public_key(certificate_der: bytes) -> VerifyingKey:
    """The public key of a DER X.509 certificate; raises HcertError if it is not one we can use."""
    try:
        key = x509.load_der_x509_certificate(certificate_der).public_key()
    except ValueError as error:
        raise HcertError(f"not a DER X.509 certificate ({error})") from None
    if not isinstance(key, VerifyingKey):
        raise HcertError(f"the certificate's {type(key).__name__} is not an EC, Ed25519 or RSA key")
    return key


def load_certificate_file(path: Path | str) -> bytes:
    """The DER bytes of a certificate file: base64 DER (as a DCC test case's CERTIFICATE), PEM or DER."""
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise HcertError(f"{path}: cannot be read ({error.strerror})") from None
    if content.lstrip().startswith(b"-----BEGIN"):
        try:
            der = x509.load_pem_x509_certificate(content).public_bytes(serialization.Encoding.DER)
        except ValueError as error:
            raise HcertError(f"{path}: not a PEM certificate ({error})") from None
    elif content.startswith(b"\x30"):  # an ASN.1 SEQUENCE: raw DER
        der = content
    else:
        try:
            der = base64.b64decode(b"".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise HcertError(f"{path}: neither base64 DER nor PEM") from None
    try:
        certificate_public_key(der)
    except HcertError as error:
        raise HcertError(f"{path}: {error}") from None
    return der


def hcert_signature_problem(message: Sign1, certificate_der: bytes) -> str | None:
    """Why the message is not signed by the certificate's key (kid, then signature), or None."""
    expected = certificate_kid(certificate_der)
    if message.kid != expected:
        shown = message.kid.hex() if isinstance(message.kid, bytes) else repr(message.kid)
        return f"the kid {shown} is not the certificate's ({expected.hex()})"
    key = certificate_public_key(certificate_der)
    if message.alg == ES256 and isinstance(key, ec.EllipticCurvePublicKey) and not isinstance(key.curve, ec.SECP256R1):
        return _ecdsa_sha256_problem(message, key)
    return signature_problem(message, key)


def _ecdsa_sha256_problem(message: Sign1, key: ec.EllipticCurvePublicKey) -> str | None:
    """ES256 by a certificate on another curve: EU DCC verifiers accept it (dgc-testdata ES_401), so does hcert mode.

    awda's own cards stay strict (ES256 means P-256); this leniency exists only for conformance.
    """
    size = (key.curve.key_size + 7) // 8
    if len(message.signature) != 2 * size:
        return f"an ECDSA signature on {key.curve.name} is {2 * size} bytes (r || s), not {len(message.signature)}"
    r, s = int.from_bytes(message.signature[:size], "big"), int.from_bytes(message.signature[size:], "big")
    try:
        key.verify(encode_dss_signature(r, s), message.to_be_signed(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "the signature does not match"
    return None


def hcert_payload(message: Sign1) -> Mapping[Any, Any]:
    """The CWT claims map of a DCC; raises HcertError if the payload is not a CBOR map."""
    try:
        payload = loads_exactly(message.payload, what="the payload", strict=False)
    except CardFormatError as error:
        raise HcertError(str(error)) from None
    if not isinstance(payload, Mapping):
        raise HcertError("the payload is not a CBOR map")
    return payload


def hcert_of(payload: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """The EU DCC in claim -260, key 1; raises HcertError if absent."""
    container = payload.get(CLAIM_HCERT)
    hcert = container.get(HCERT_EU_DCC) if isinstance(container, Mapping) else None
    if not isinstance(hcert, Mapping):
        raise HcertError("the payload holds no EU DCC (claim -260, key 1)")
    return hcert


def _instant(payload: Mapping[Any, Any], key: int, name: str) -> datetime:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HcertError(f"claim {name} ({key}) is missing or not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise HcertError(f"claim {name} ({key}) is not a representable time") from None


def hcert_expiry_problem(payload: Mapping[Any, Any], at: datetime) -> str | None:
    """Why `at` is outside iat (6) <= at <= exp (4), or None when it is inside."""
    try:
        issued_at, expires_at = _instant(payload, CLAIM_IAT, "iat"), _instant(payload, CLAIM_EXP, "exp")
    except HcertError as error:
        return str(error)
    if at < issued_at:
        return f"issued at {iso_utc(issued_at)}, after {iso_utc(at)}"
    if at > expires_at:
        return f"expired at {iso_utc(expires_at)}"
    return None


def jsonable(value: Any, depth: int = 0) -> Any:
    """A CBOR value as JSON values: bytes as hex, times as ISO-8601, tags as {"tag", "value"}."""
    if depth > MAX_JSON_DEPTH:
        return "(nested too deep)"
    if isinstance(value, Mapping):
        return {str(key): jsonable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item, depth + 1) for item in value]
    if isinstance(value, cbor2.CBORTag):
        return {"tag": value.tag, "value": jsonable(value.value, depth + 1)}
    return _json_scalar(value)


def _json_scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _hcert_claims(payload: Mapping[Any, Any], hcert: Mapping[Any, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": jsonable(payload.get(CLAIM_ISS))}
    for name, key in (("iat", CLAIM_IAT), ("exp", CLAIM_EXP)):
        try:
            claims[name] = iso_utc(_instant(payload, key, name))
        except HcertError:
            claims[name] = None
    claims["hcert"] = jsonable(hcert)
    return claims


def _record(result: Verification, check: str, problem: str | None) -> None:
    if problem is None:
        result.passed(check)
    else:
        result.failed(check, f"{check}: {problem}")


def _decode_and_verify(message_bytes: bytes, certificate_der: bytes, result: Verification) -> Sign1 | None:
    try:
        message = decode_sign1(message_bytes, dcc_quirks=True)
    except CardFormatError as error:
        result.failed("cose_decode", f"cose_decode: {error}")
        return None
    result.passed("cose_decode")
    result.kid = message.kid if isinstance(message.kid, bytes) else None
    try:
        _record(result, "verify", hcert_signature_problem(message, certificate_der))
    except CardFormatError as error:
        result.failed("verify", f"verify: {error}")
    return message


def verify_hcert(text: str, certificate_der: bytes, at: datetime) -> Verification:
    """Verify an EU DCC `HC1:` text against its signer certificate at time `at` (naive means UTC)."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    result = Verification.start(extra_checks=("decode",))
    message_bytes = decode_qr_text(text, HCERT_PREFIX, result)
    message = None if message_bytes is None else _decode_and_verify(message_bytes, certificate_der, result)
    if message is None:
        return result
    try:
        payload = hcert_payload(message)
    except HcertError as error:  # neither times nor the certificate can be read
        result.failed("decode", f"decode: {error}")
        return result
    _record(result, "expiry", hcert_expiry_problem(payload, at))
    try:
        hcert = hcert_of(payload)
    except HcertError as error:
        result.failed("decode", f"decode: {error}")
        return result
    result.passed("decode")
    if result.checks["verify"] is True:
        result.claims = _hcert_claims(payload, hcert)
    return result
