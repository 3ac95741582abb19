"""Cards without a database: encoding, signing, verification, status lists and trust lists (docs/cards.md)."""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awda.cards.claims import (
    CARD_PREFIX,
    CardClaims,
    ClaimsError,
    Holder,
    claims_as_json,
    decode_claims,
    encode_card,
    encode_claims,
)
from awda.cards.cose import (
    EDDSA,
    ES256,
    PS256,
    CoseError,
    SigningKey,
    alg_for,
    decode_sign1,
    kid_for,
    sig_structure,
    sign1,
    verify_sign1,
)
from awda.cards.qrtext import (
    BASE45_ALPHABET,
    MAX_INFLATED_BYTES,
    CompressionError,
    b45decode,
    b45encode,
    encode_qr_text,
    inflate,
)
from awda.cards.statuslist import StatusBits, StatusListError, read_status_list, sign_status_list
from awda.cards.trust import TrustedKey, TrustList, TrustListError, load_trust_list
from awda.cards.verify import CHECKS, Verification, verify_card
from bench.cards import run as run_card_benchmark

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ISSUER = "awda test issuer"
STATUS_URI = "https://awda.example/cards/status/1"


def p256_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


KEY = p256_key()
OTHER_KEY = p256_key()
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def claims(**changes: Any) -> CardClaims:
    base = CardClaims(
        issuer=ISSUER,
        card_id=uuid.UUID("0192f3a4-5b6c-7d8e-9fab-cdef01234567"),
        agreement_code="AGR-RASTAN-2026",
        issued_at=NOW,
        expires_at=NOW + timedelta(days=365),
        status_index=5,
        status_uri=STATUS_URI,
        holder=Holder(name_ar="محمد الأحمد", name_lat="Mohammad Al-Ahmad", birth_year=1984),
    )
    return replace(base, **changes)


def trust_of(*keys: SigningKey, retired: dict[int, datetime] | None = None) -> TrustList:
    entries = tuple(
        TrustedKey.for_public_key(key.public_key(), NOW - timedelta(days=30), (retired or {}).get(position))
        for position, key in enumerate(keys)
    )
    return TrustList(ISSUER, NOW, entries)


def status_list(
    key: SigningKey = KEY, revoked: tuple[int, ...] = (), size: int = 64, uri: str = STATUS_URI, ttl: int = 3600
) -> bytes:
    bits = StatusBits(size)
    for index in revoked:
        bits.set(index, True)
    return sign_status_list(bits, uri, NOW, NOW + timedelta(days=1), ttl, key)


def card_of_payload(payload: bytes, key: SigningKey = KEY, **header: Any) -> str:
    """A card text around any payload, signed with `key`; `header` overrides the protected header."""
    protected_map: dict[int, Any] = {1: alg_for(key), 4: kid_for(key.public_key())}
    protected_map.update({int(label.removeprefix("h")): value for label, value in header.items()})
    protected = cbor2.dumps(protected_map)
    to_sign = sig_structure(protected, payload)
    signature = key.sign(to_sign) if isinstance(key, ed25519.Ed25519PrivateKey) else raw_es256(key, to_sign)
    return encode_qr_text(CARD_PREFIX, cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))


def raw_es256(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def claim_map(**changes: Any) -> dict[Any, Any]:
    """The claim map of `claims()` as a dict; `changes` maps claim keys (k1, k_65537, ...) to new values."""
    decoded: dict[Any, Any] = cbor2.loads(encode_claims(claims()))
    for label, value in changes.items():
        key = -int(label[3:]) if label.startswith("k__") else int(label[1:])
        if value is None:
            decoded.pop(key, None)
        else:
            decoded[key] = value
    return decoded


def verify(text: Any, trust: TrustList | None = None, status: Any = None, at: datetime | None = None) -> Verification:
    return verify_card(text, trust or trust_of(KEY), status, at or NOW + timedelta(hours=1))


def assert_rejected(result: Verification, failed_check: str, words: str) -> None:
    """Invalid, the named check failed, every later check did not run, and the reason says `words`."""
    assert result.valid is False
    assert result.checks[failed_check] is False
    later = list(CHECKS)[list(CHECKS).index(failed_check) + 1 :]
    if failed_check in ("unprefix", "b45decode", "decompress", "cose_decode"):
        assert all(result.checks[name] is None for name in later), result.checks
    assert any(words in error for error in result.errors), result.errors


# Round trips


def test_a_card_round_trips_and_verifies() -> None:
    text = encode_card(claims(), KEY)
    result = verify(text, status=status_list())
    assert text.startswith("AW1:") and set(text[4:]) <= set(BASE45_ALPHABET)
    assert result.valid is True
    assert result.checks == dict.fromkeys(CHECKS[:-1], True) | {"status": "valid"}
    assert result.claims == claims()
    document = result.as_dict()
    assert set(document) == {"valid", "checks", "kid", "claims", "errors", "status_list"}
    assert document["kid"] == kid_for(KEY.public_key()).hex()
    assert document["claims"] == claims_as_json(claims())
    assert document["errors"] == []
    assert document["status_list"] == {
        "uri": STATUS_URI,
        "issued_at": "2026-11-22T10:00:00Z",
        "age_seconds": 3600,
        "stale": False,
    }
    json.dumps(document)


def test_claims_round_trip_with_and_without_holder_data() -> None:
    for holder in (None, Holder(name_lat="Only Latin"), Holder(birth_year=1950), Holder("ع", "A", 2000)):
        card = claims(holder=holder)
        assert decode_claims(encode_claims(card)) == card
    rendered = claims_as_json(claims(holder=None))
    assert "holder" not in rendered
    assert rendered["card_id"] == "0192f3a4-5b6c-7d8e-9fab-cdef01234567"
    assert rendered["issued_at"] == "2026-11-22T10:00:00Z"
    assert claims_as_json(claims())["holder"] == {
        "name_ar": "محمد الأحمد",
        "name_lat": "Mohammad Al-Ahmad",
        "birth_year": 1984,
    }


def test_the_claim_map_is_the_documented_one() -> None:
    decoded = cbor2.loads(encode_claims(claims()))
    assert decoded[1] == ISSUER
    assert decoded[6] == decoded[5] == int(NOW.timestamp())
    assert decoded[4] == int((NOW + timedelta(days=365)).timestamp())
    assert decoded[7] == claims().card_id.bytes
    assert decoded[65535] == {"status_list": {"idx": 5, "uri": STATUS_URI}}
    assert decoded[-65537] == {
        "v": 1,
        "agr": "AGR-RASTAN-2026",
        "h": {"ar": "محمد الأحمد", "lat": "Mohammad Al-Ahmad", "by": 1984},
    }


def test_the_cose_message_is_a_tagged_sign1_with_a_raw_es256_signature() -> None:
    text = encode_card(claims(), KEY)
    compressed = b45decode(text[4:])
    assert compressed == base45.b45decode(text[4:])  # an independent Base45 decoder agrees
    message_bytes = zlib.decompress(compressed)
    assert zlib.compress(message_bytes, 9) == compressed  # the highest zlib level
    outer = cbor2.loads(message_bytes)
    assert outer.tag == 18
    protected, unprotected, _payload, signature = outer.value
    assert cbor2.loads(protected) == {1: -7, 4: kid_for(KEY.public_key())}
    assert unprotected == {}
    assert len(signature) == 64


def test_eddsa_cards_verify() -> None:
    text = encode_card(claims(), ED_KEY)
    result = verify(text, trust_of(ED_KEY), status_list(ED_KEY))
    assert result.valid is True and result.checks["status"] == "valid"
    assert cbor2.loads(decode_sign1(zlib.decompress(b45decode(text[4:]))).protected_bytes)[1] == EDDSA


def test_kid_and_algorithm_of_keys() -> None:
    der = KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert kid_for(KEY.public_key()) == hashlib.sha256(der).digest()[:8]
    assert (alg_for(KEY), alg_for(KEY.public_key()), alg_for(ED_KEY)) == (ES256, ES256, EDDSA)
    with pytest.raises(CoseError, match="P-256"):
        alg_for(ec.generate_private_key(ec.SECP384R1()))


def test_whitespace_around_the_text_is_tolerated() -> None:
    assert verify(" \n\t" + encode_card(claims(), KEY) + "\r\n ").checks["verify"] is True


# Tampering


def test_every_single_character_change_is_rejected() -> None:
    """Each position, each other Base45 character (and a lowercase letter): never a valid different card.

    zlib ignores the unused padding bits after the final deflate block, so a change confined to them
    decodes to the very same signed bytes: that is the same card, not a tampered one, and it is counted.
    """
    text = encode_card(claims(), KEY)
    original = zlib.decompress(b45decode(text[4:]))
    trust, at = trust_of(KEY), NOW + timedelta(hours=1)
    same_card = 0
    for position in range(len(text)):
        for replacement in BASE45_ALPHABET + "a":
            if replacement == text[position]:
                continue
            tampered = text[:position] + replacement + text[position + 1 :]
            result = verify_card(tampered, trust, None, at)
            if result.valid:
                assert zlib.decompress(b45decode(tampered.strip()[4:])) == original, (position, replacement)
                same_card += 1
            else:
                assert result.errors
    assert same_card <= 3 * len(BASE45_ALPHABET)  # only the 3 characters that hold the last deflate byte


def test_a_payload_signed_by_another_key_under_our_kid_fails() -> None:
    forged = card_of_payload(encode_claims(claims()), OTHER_KEY, h4=kid_for(KEY.public_key()))
    assert_rejected(verify(forged), "verify", "signature does not match")


# Time


def test_expired_and_not_yet_valid_cards_fail_the_expiry_check() -> None:
    text = encode_card(claims(), KEY)
    expires_at = NOW + timedelta(days=365)
    assert verify(text, at=NOW).checks["expiry"] is True
    assert verify(text, at=expires_at).checks["expiry"] is True
    expired = verify(text, at=expires_at + timedelta(seconds=1))
    assert_rejected(expired, "expiry", "expired at 2027-11-22T10:00:00Z")
    assert expired.checks["verify"] is True
    early = verify(text, at=NOW - timedelta(seconds=1))
    assert_rejected(early, "expiry", "not valid before 2026-11-22T10:00:00Z")


def test_a_naive_verification_time_is_utc() -> None:
    text = encode_card(claims(), KEY)
    assert verify(text, at=datetime(2026, 11, 22, 9, 59)).checks["expiry"] is False
    assert verify(text, at=datetime(2026, 11, 22, 10, 1)).checks["expiry"] is True


# Keys


def test_an_unknown_kid_fails_verification_and_hides_the_claims() -> None:
    result = verify(encode_card(claims(), OTHER_KEY))
    assert_rejected(result, "verify", "not in the trust list")
    assert result.kid == kid_for(OTHER_KEY.public_key())
    assert result.claims is None and result.checks["status"] is None


def test_after_rotation_the_retired_key_still_verifies_its_cards() -> None:
    old_card = encode_card(claims(issued_at=NOW - timedelta(days=10)), OTHER_KEY)
    new_card = encode_card(claims(), KEY)
    trust = trust_of(OTHER_KEY, KEY, retired={0: NOW - timedelta(days=1)})
    assert verify(old_card, trust).valid is True
    assert verify(new_card, trust).valid is True
    signed_after_retirement = encode_card(claims(), OTHER_KEY)
    assert_rejected(verify(signed_after_retirement, trust), "verify", "after it was retired")


def test_es256_is_bound_to_p256_and_a_bad_signature_never_raises() -> None:
    message = decode_sign1(sign1(b"payload", KEY, b"kid"))
    assert verify_sign1(message, KEY.public_key()) is True
    assert verify_sign1(message, OTHER_KEY.public_key()) is False
    assert verify_sign1(message, ec.generate_private_key(ec.SECP384R1()).public_key()) is False
    assert verify_sign1(message, ED_KEY.public_key()) is False
    for signature in (b"", bytes(64), b"\xff" * 64, message.signature[:63]):
        assert verify_sign1(replace(message, signature=signature), KEY.public_key()) is False
    assert verify_sign1(replace(message, protected={1: PS256}), KEY.public_key()) is False


# Status


def test_status_valid_revoked_and_the_age_of_the_list() -> None:
    text = encode_card(claims(status_index=5), KEY)
    assert verify(text, status=status_list(revoked=(4, 6))).checks["status"] == "valid"
    revoked = verify(text, status=status_list(revoked=(5,)))
    assert revoked.checks["status"] == "revoked" and revoked.valid is False
    assert "status: the card is revoked" in revoked.errors
    assert revoked.as_dict()["status_list"]["age_seconds"] == 3600


def test_a_stale_list_gives_unknown_but_still_reports_revocation() -> None:
    text = encode_card(claims(status_index=5), KEY)
    later = NOW + timedelta(hours=2)  # the list's ttl is one hour
    stale = verify(text, status=status_list(), at=later)
    assert stale.checks["status"] == "unknown" and stale.valid is True
    assert "status unknown: the status list is stale (age 7200 s; ttl 3600 s, exp 2026-11-23T10:00:00Z)" in stale.errors
    assert stale.as_dict()["status_list"] == {
        "uri": STATUS_URI,
        "issued_at": "2026-11-22T10:00:00Z",
        "age_seconds": 7200,
        "stale": True,
    }
    past_exp = verify(text, status=status_list(ttl=10**9), at=NOW + timedelta(days=2))
    assert past_exp.checks["status"] == "unknown" and past_exp.as_dict()["status_list"]["stale"] is True
    assert verify(text, status=status_list(revoked=(5,)), at=later).checks["status"] == "revoked"


def test_unknown_status_without_a_usable_list() -> None:
    text = encode_card(claims(status_index=70), KEY)
    cases = [
        ("no status list was given", None),
        ("not in the trust list", status_list(OTHER_KEY, revoked=(70,))),
        ("does not cover this card", status_list(size=64)),
        ("https://elsewhere.example/1 does not cover this card", status_list(uri="https://elsewhere.example/1")),
        ("not a COSE_Sign1", b"\x00garbage"),
    ]
    for words, document in cases:
        result = verify(text, status=document)
        assert result.checks["status"] == "unknown", words
        assert result.valid is True
        assert any(words in error for error in result.errors), (words, result.errors)


def test_a_pre_read_status_list_gives_the_same_answer_as_its_bytes() -> None:
    text, document = encode_card(claims(status_index=9), KEY), status_list(revoked=(9,))
    view = read_status_list(document, trust_of(KEY))
    assert verify(text, status=view).as_dict() == verify(text, status=document).as_dict()


def test_status_bits_are_least_significant_first_and_grow() -> None:
    bits = StatusBits()
    bits.set(0, True)
    bits.set(9, True)
    assert bits.to_bytes() == b"\x01\x02" and bits.size == 10
    assert bits.is_set(9) and not bits.is_set(8)
    bits.set(9, False)
    assert bits.to_bytes() == b"\x01\x00"
    with pytest.raises(IndexError):
        bits.is_set(10)
    assert StatusBits.from_bytes(b"\x80").is_set(7)


def test_the_status_list_is_the_documented_cwt() -> None:
    document = status_list(revoked=(3,))
    message = decode_sign1(document)
    assert message.protected == {1: -7, 4: kid_for(KEY.public_key()), 16: "application/statuslist+cwt"}
    payload = cbor2.loads(message.payload)
    assert payload[2] == STATUS_URI and payload[6] == int(NOW.timestamp()) and payload[65534] == 3600
    assert payload[4] == int((NOW + timedelta(days=1)).timestamp())
    assert payload[65533]["bits"] == 1 and zlib.decompress(payload[65533]["lst"]) == b"\x08" + bytes(7)
    view = read_status_list(document, trust_of(KEY))
    assert (view.uri, view.issued_at, view.ttl_seconds, view.verified) == (STATUS_URI, NOW, 3600, True)


def test_a_tampered_or_foreign_status_list_is_refused() -> None:
    document = bytearray(status_list())
    document[-70] ^= 1
    with pytest.raises(StatusListError, match="does not verify"):
        read_status_list(bytes(document), trust_of(KEY))
    with pytest.raises(StatusListError, match="not in the trust list"):
        read_status_list(status_list(OTHER_KEY), trust_of(KEY))
    card_message = zlib.decompress(b45decode(encode_card(claims(), KEY)[4:]))  # a signed card, not a list
    with pytest.raises(StatusListError, match="typ"):
        read_status_list(card_message, trust_of(KEY))


# Malformed input


def test_wrong_prefixes_and_truncations_are_rejected_with_a_reason() -> None:
    text = encode_card(claims(), KEY)
    assert_rejected(verify("HC1:" + text[4:]), "unprefix", "not 'AW1:'")
    assert_rejected(verify("aw1:" + text[4:]), "unprefix", "not 'AW1:'")
    assert_rejected(verify(""), "unprefix", "not 'AW1:'")
    assert_rejected(verify(text[4:]), "unprefix", "not 'AW1:'")
    for length in (5, 6, 7, len(text) // 2, len(text) - 3, len(text) - 1):
        result = verify(text[:length])
        assert result.valid is False and result.errors, length
        assert result.checks["verify"] is None


def test_bad_base45_is_rejected_with_a_reason() -> None:
    assert_rejected(verify("AW1:ABCa"), "b45decode", "character 4 ('a') is not a Base45 character")
    assert_rejected(verify("AW1:ABCD"), "b45decode", "not a Base45 length")
    assert_rejected(verify("AW1:GGW"), "b45decode", "above 65535")
    assert_rejected(verify("AW1:::"), "b45decode", "above 255")
    assert_rejected(verify("AW1:ABCé"), "b45decode", "not a Base45 character")


def test_bad_zlib_is_rejected_with_a_reason() -> None:
    message = zlib.decompress(b45decode(encode_card(claims(), KEY)[4:]))
    assert_rejected(verify(CARD_PREFIX + b45encode(message)), "decompress", "not valid zlib data")
    assert_rejected(verify(CARD_PREFIX + b45encode(zlib.compress(message)[:-6])), "decompress", "truncated")
    trailing = CARD_PREFIX + b45encode(zlib.compress(message) + b"\x00")
    assert_rejected(verify(trailing), "decompress", "unexpected bytes after the zlib stream")
    bomb = CARD_PREFIX + b45encode(zlib.compress(bytes(MAX_INFLATED_BYTES * 4), 9))
    assert_rejected(verify(bomb), "decompress", "inflates to more than")


def test_bad_cose_is_rejected_with_a_reason() -> None:
    payload = encode_claims(claims())
    protected = cbor2.dumps({1: -7, 4: kid_for(KEY.public_key())})

    def text_of(message: Any) -> str:
        return encode_qr_text(CARD_PREFIX, message if isinstance(message, bytes) else cbor2.dumps(message))

    cases = {
        "not valid CBOR": b"\xff\xff",
        "unexpected bytes after its CBOR item": cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, b""])) + b"\x00",
        "CBOR tag 17": cbor2.CBORTag(17, [protected, {}, payload, b""]),
        "not tagged as COSE_Sign1": [protected, {}, payload, b""],
        "array of 4 items": cbor2.CBORTag(18, [protected, {}, payload]),
        "protected header must be a byte string": cbor2.CBORTag(18, [{1: -7}, {}, payload, b""]),
        "protected header must hold a CBOR map": cbor2.CBORTag(18, [cbor2.dumps([1]), {}, payload, b""]),
        "unprotected header must be a map": cbor2.CBORTag(18, [protected, [], payload, b""]),
        "payload must be a byte string": cbor2.CBORTag(18, [protected, {}, "text", b""]),
        "signature must be a byte string": cbor2.CBORTag(18, [protected, {}, payload, None]),
        "no kid": cbor2.CBORTag(18, [cbor2.dumps({1: -7}), {}, payload, b""]),
        "not ES256 (-7) or EdDSA (-8)": cbor2.CBORTag(18, [cbor2.dumps({1: -37, 4: b"k"}), {}, payload, b""]),
        "Duplicate map key": cbor2.CBORTag(18, [b"\xa2\x01\x26\x01\x26", {}, payload, b""]),
    }
    for words, message in cases.items():
        assert_rejected(verify(text_of(message)), "cose_decode", words)


def test_bad_signatures_are_rejected_with_a_reason() -> None:
    text = encode_card(claims(), KEY)
    message = decode_sign1(zlib.decompress(b45decode(text[4:])))
    for signature, words in ((bytes(64), "does not match"), (message.signature[:-1], "64 bytes (r || s)")):
        tampered = cbor2.dumps(cbor2.CBORTag(18, [message.protected_bytes, {}, message.payload, signature]))
        assert_rejected(verify(encode_qr_text(CARD_PREFIX, tampered)), "verify", words)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"k1": 42}, "claim iss (1) must be text, not int"),
        ({"k1": None}, "claim iss (1) is missing"),
        ({"k4": "2027-01-01"}, "claim exp (4) must be an integer, not str"),
        ({"k6": True}, "claim iat (6) must be an integer, not bool"),
        ({"k6": 10**30}, "not a representable time"),
        ({"k5": 1}, "nbf (5) must equal iat (6)"),
        ({"k7": b"short"}, "cti (7) must be 16 bytes, not 5"),
        ({"k65535": None}, "claim status (65535) is missing"),
        ({"k65535": {"status_list": {"idx": -1, "uri": "u"}}}, "must not be negative"),
        ({"k65535": {"status_list": {"idx": "1", "uri": "u"}}}, "idx must be an integer"),
        ({"k__65537": {"v": 2, "agr": "A"}}, "version 2 is not supported"),
        ({"k__65537": {"v": 1}}, "claim agr is missing"),
        ({"k__65537": {"v": 1, "agr": "A", "h": {"by": "1980"}}}, "claim h.by must be an integer"),
        ({"k__65537": []}, "awda claims (-65537) must be a map, not list"),
    ],
)
def test_wrong_claims_are_rejected_with_the_claim_named(changes: dict[str, Any], words: str) -> None:
    assert_rejected(verify(card_of_payload(cbor2.dumps(claim_map(**changes)))), "cose_decode", words)


def test_a_claims_payload_that_is_not_a_map_is_rejected() -> None:
    assert_rejected(verify(card_of_payload(cbor2.dumps([1, 2]))), "cose_decode", "must be a CBOR map")
    with pytest.raises(ClaimsError):
        decode_claims(cbor2.dumps("text"))


def test_absurdly_large_or_non_text_input_is_rejected() -> None:
    assert_rejected(verify("AW1:" + "A" * 10_000_000), "unprefix", "longer than a QR code holds")
    assert_rejected(verify("AW1:" + "A" * 4300), "unprefix", "longer than a QR code holds")
    assert_rejected(verify(b"AW1:ABC"), "unprefix", "must be a string, not bytes")


# Fuzzing: nothing raises


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=40),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.integers(-70000, 70000) | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)
fuzz = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(st.text(max_size=600))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = verify(text)
    assert result.valid is False and result.errors
    json.dumps(result.as_dict())


@fuzz
@given(st.text(alphabet=BASE45_ALPHABET, max_size=600))
def test_arbitrary_base45_never_raises(body: str) -> None:
    result = verify(CARD_PREFIX + body)
    assert result.valid is False and result.errors


@fuzz
@given(st.binary(max_size=600), st.booleans())
def test_arbitrary_bytes_never_raise(data: bytes, compressed: bool) -> None:
    result = verify(CARD_PREFIX + b45encode(zlib.compress(data) if compressed else data))
    assert result.valid is False and result.errors


@fuzz
@given(cbor_values, st.sampled_from([None, 18, 61, 1, 2]))
def test_arbitrary_cbor_never_raises(value: Any, tag: int | None) -> None:
    message = cbor2.dumps(value if tag is None else cbor2.CBORTag(tag, value))
    result = verify(encode_qr_text(CARD_PREFIX, message))
    assert result.valid is False and result.errors
    signed = verify(card_of_payload(cbor2.dumps(value)))  # signed, so only the claims are wrong
    assert signed.valid is False and signed.checks["cose_decode"] is False


@fuzz
@given(cbor_values | st.binary(max_size=200))
def test_an_arbitrary_status_list_never_raises(value: Any) -> None:
    """Signed by the trusted key with the right typ, so that only the list's claims are arbitrary."""
    typ = {16: "application/statuslist+cwt"}
    document = sign1(cbor2.dumps(value), KEY, kid_for(KEY.public_key()), typ) if not isinstance(value, bytes) else value
    result = verify(encode_card(claims(), KEY), status=document)
    assert result.checks["status"] == "unknown" and result.valid is True
    assert any(error.startswith("status unknown: ") for error in result.errors)


@fuzz
@given(st.binary(max_size=400))
def test_base45_agrees_with_an_independent_implementation(data: bytes) -> None:
    assert b45encode(data) == base45.b45encode(data).decode()
    assert b45decode(b45encode(data)) == data


@fuzz
@given(st.binary(max_size=300))
def test_inflate_refuses_what_is_not_one_zlib_stream(data: bytes) -> None:
    reference = zlib.decompressobj()
    try:
        expected = reference.decompress(data)
    except zlib.error:
        expected = None
    if expected is None or not reference.eof or reference.unused_data:
        with pytest.raises(CompressionError):
            inflate(data)
    else:
        assert inflate(data) == expected


# Trust lists


def test_a_trust_list_round_trips_through_json(tmp_path: Path) -> None:
    trust = trust_of(KEY, ED_KEY, retired={0: NOW})
    document = trust.to_json()
    assert document["format"] == "awda-trust-list/1"
    assert document["keys"][0]["kid"] == kid_for(KEY.public_key()).hex()
    assert document["keys"][0]["alg"] == "ES256" and document["keys"][1]["alg"] == "EdDSA"
    assert document["keys"][0]["retired_at"] == "2026-11-22T10:00:00Z"
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = load_trust_list(path)
    assert loaded == trust
    assert loaded.key_for(kid_for(ED_KEY.public_key())) is not None
    assert loaded.key_for("not bytes") is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"format": "awda-trust-list/2"}, "expected 'awda-trust-list/1'"),
        ({"issuer": ""}, "issuer must be a non-empty string"),
        ({"generated_at": "yesterday"}, "generated_at ('yesterday') is not an ISO-8601 time"),
        ({"keys": {}}, "keys must be a list"),
        (
            {"keys": [{"kid": "00", "alg": "ES256", "public_key": "AAAA", "created_at": "2026-11-22T00:00:00Z"}]},
            "keys[0].public_key is not",
        ),
    ],
)
def test_a_malformed_trust_list_is_refused_naming_the_field(change: dict[str, Any], words: str) -> None:
    with pytest.raises(TrustListError) as raised:
        TrustList.from_json(trust_of(KEY).to_json() | change)
    assert words in str(raised.value)


def test_a_trust_list_entry_must_match_its_key() -> None:
    for field, value, words in (
        ("kid", "0011223344556677", "is not the kid of its key"),
        ("alg", "EdDSA", "does not fit"),
    ):
        document = trust_of(KEY).to_json()
        document["keys"][0][field] = value
        with pytest.raises(TrustListError, match=words):
            TrustList.from_json(document)


def test_unreadable_trust_list_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TrustListError, match="cannot be read"):
        load_trust_list(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(TrustListError, match="not a JSON file"):
        load_trust_list(tmp_path / "broken.json")


# Benchmark


def test_the_card_benchmark_runs_and_reports_its_ratio() -> None:
    result = run_card_benchmark(cards=20, rounds=1)
    assert set(result) == {
        "cards",
        "valid",
        "revoked",
        "awda_cards_per_second",
        "baseline_verifies_per_second",
        "awda_microseconds_per_card",
        "baseline_microseconds_per_verify",
        "ratio",
        "target_ratio",
        "target_met",
    }
    assert result["cards"] == 20 and result["valid"] == 18 and result["revoked"] == 2
    assert result["ratio"] > 0 and result["target_ratio"] == 0.6
