"""EU DCC conformance: every case in ../shared/data/dgc/cases (or tests/data/dgc), by its README's rules.

Each tested flag (EXPECTEDUNPREFIX, EXPECTEDB45DECODE, EXPECTEDCOMPRESSION, EXPECTEDVERIFY,
EXPECTEDEXPIRATIONCHECK, EXPECTEDDECODE) is checked the way the upstream runner checks it: on the
case's own intermediate fields (a flag whose input fields are absent is not tested). A second test
runs the whole `HC1:` text through `verify_hcert` and checks it agrees.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from awda.cards.cose import CardFormatError, Sign1, decode_sign1
from awda.cards.hcert import (
    HCERT_PREFIX,
    HcertError,
    hcert_expiry_problem,
    hcert_of,
    hcert_payload,
    hcert_signature_problem,
    load_certificate_file,
    verify_hcert,
)
from awda.cards.qrtext import BASE45_ALPHABET, b45decode, inflate, unprefix
from tests.shared_data import reference_data

DGC_FOLDER = reference_data("dgc")
CASES = sorted((DGC_FOLDER / "cases").glob("*.json"))
assert CASES, f"the EU DCC test cases are missing: expected them in {DGC_FOLDER / 'cases'}"

# Each flag, the pipeline check it corresponds to, and the case fields its rule needs.
FLAGS: dict[str, tuple[str, frozenset[str]]] = {
    "EXPECTEDUNPREFIX": ("unprefix", frozenset({"PREFIX", "BASE45"})),
    "EXPECTEDB45DECODE": ("b45decode", frozenset({"BASE45", "COMPRESSED"})),
    "EXPECTEDCOMPRESSION": ("decompress", frozenset({"COMPRESSED", "COSE"})),
    "EXPECTEDVERIFY": ("verify", frozenset({"COSE", "CERTIFICATE"})),
    "EXPECTEDEXPIRATIONCHECK": ("expiry", frozenset({"COSE"})),
    "EXPECTEDDECODE": ("decode", frozenset({"CBOR"})),
}


def load_case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def fields_of(case: Mapping[str, Any]) -> set[str]:
    return set(case) | ({"CERTIFICATE"} if "CERTIFICATE" in case.get("TESTCTX", {}) else set())


def certificate_der(case: Mapping[str, Any]) -> bytes:
    return base64.b64decode(case["TESTCTX"]["CERTIFICATE"])


def validation_clock(case: Mapping[str, Any]) -> datetime:
    """TESTCTX.VALIDATIONCLOCK (the wall clock without one, as upstream); a clock without a zone is UTC."""
    text = case.get("TESTCTX", {}).get("VALIDATIONCLOCK")
    moment = datetime.fromisoformat(text) if text else datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def cose_message(case: Mapping[str, Any]) -> Sign1:
    return decode_sign1(bytes.fromhex(case["COSE"]), dcc_quirks=True)


def expected_flags(case: Mapping[str, Any]) -> dict[str, bool]:
    """The tested flags, exactly as upstream; unknown keys (typos such as EXPTECTEDEXPIRED) are ignored."""
    results = case.get("EXPECTEDRESULTS", {})
    return {flag: bool(results[flag]) for flag in FLAGS if isinstance(results.get(flag), bool)}


# The README's rule for each flag, on the case's own fields; False on any error.


def unprefix_matches(case: Mapping[str, Any]) -> bool:
    return bool(unprefix(case["PREFIX"], HCERT_PREFIX) == case["BASE45"])


def b45decode_matches(case: Mapping[str, Any]) -> bool:
    return b45decode(case["BASE45"]) == bytes.fromhex(case["COMPRESSED"])


def compression_matches(case: Mapping[str, Any]) -> bool:
    return inflate(bytes.fromhex(case["COMPRESSED"])) == bytes.fromhex(case["COSE"])


def signature_verifies(case: Mapping[str, Any]) -> bool:
    return hcert_signature_problem(cose_message(case), certificate_der(case)) is None


def within_validity(case: Mapping[str, Any]) -> bool:
    return hcert_expiry_problem(hcert_payload(cose_message(case)), validation_clock(case)) is None


def message_of(case: Mapping[str, Any]) -> Sign1:
    """The COSE field, or else the message the PREFIX text carries (some cases hold no COSE)."""
    if "COSE" in case:
        return cose_message(case)
    return decode_sign1(inflate(b45decode(unprefix(case["PREFIX"], HCERT_PREFIX))), dcc_quirks=True)


def payload_matches_cbor(case: Mapping[str, Any]) -> bool:
    payload = hcert_payload(message_of(case))
    expected = cbor2.loads(bytes.fromhex(case["CBOR"]))
    return bool(expected == hcert_of(payload) or expected == payload)


RULES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "EXPECTEDUNPREFIX": unprefix_matches,
    "EXPECTEDB45DECODE": b45decode_matches,
    "EXPECTEDCOMPRESSION": compression_matches,
    "EXPECTEDVERIFY": signature_verifies,
    "EXPECTEDEXPIRATIONCHECK": within_validity,
    "EXPECTEDDECODE": payload_matches_cbor,
}


def observed(rule: Callable[[Mapping[str, Any]], bool], case: Mapping[str, Any]) -> bool:
    try:
        return rule(case)
    except (CardFormatError, cbor2.CBORError, ValueError):
        return False


def case_ids(path: Path) -> str:
    return path.stem


@pytest.mark.parametrize("path", CASES, ids=case_ids)
def test_each_step_matches_the_expected_flags(path: Path) -> None:
    case = load_case(path)
    present = fields_of(case)
    expected = {flag: value for flag, value in expected_flags(case).items() if FLAGS[flag][1] <= present}
    found = {flag: observed(RULES[flag], case) for flag in expected}
    assert found == expected


@pytest.mark.parametrize("path", CASES, ids=case_ids)
def test_the_whole_text_verifies_as_expected(path: Path) -> None:
    case = load_case(path)
    if not {"PREFIX", "CERTIFICATE"} <= fields_of(case):
        pytest.skip("the case holds no HC1: text or no certificate")
    expected = expected_flags(case)
    result = verify_hcert(case["PREFIX"], certificate_der(case), validation_clock(case))
    assert set(result.checks) == {check for check, _ in FLAGS.values()} | {"cose_decode", "status"}
    assert result.checks["status"] is None
    for flag, value in expected.items():
        check = result.checks[FLAGS[flag][0]]
        if check is None:  # an earlier step failed: only a case with a failing flag may stop early
            assert not all(expected.values()), f"{flag}: the pipeline stopped before this step: {result.errors}"
        elif value:
            assert check is True, f"{flag}: {result.errors}"
    carries_cose = "COSE" in case and observed(lambda c: message_of({"PREFIX": c["PREFIX"]}) == cose_message(c), case)
    for flag in ("EXPECTEDVERIFY", "EXPECTEDEXPIRATIONCHECK"):
        if carries_cose and flag in expected:  # the text carries the very message the flag is about
            assert result.checks[FLAGS[flag][0]] is expected[flag], result.errors
    if all(expected.values()) and "EXPECTEDVERIFY" in expected:
        assert result.claims is not None


def test_intermediate_values_chain_in_every_case_expected_to() -> None:
    """PREFIX == "HC1:" + BASE45, base45(BASE45) == COMPRESSED, inflate(COMPRESSED) == COSE."""
    chain_flags = ("EXPECTEDUNPREFIX", "EXPECTEDB45DECODE", "EXPECTEDCOMPRESSION")
    chained = 0
    for path in CASES:
        case = load_case(path)
        expected = expected_flags(case)
        if not {"PREFIX", "BASE45", "COMPRESSED", "COSE"} <= set(case) or not all(
            expected.get(flag) for flag in chain_flags
        ):
            continue
        assert unprefix(case["PREFIX"], HCERT_PREFIX) == case["BASE45"], path.name
        assert b45decode(case["BASE45"]) == bytes.fromhex(case["COMPRESSED"]), path.name
        assert inflate(bytes.fromhex(case["COMPRESSED"])) == bytes.fromhex(case["COSE"]), path.name
        chained += 1
    assert chained > 0


def test_base45_agrees_with_an_independent_implementation_on_every_case() -> None:
    for path in CASES:
        text = load_case(path).get("BASE45")
        if text is None:
            continue
        try:
            reference: bytes | None = base45.b45decode(text)
        except ValueError:
            reference = None
        try:
            ours: bytes | None = b45decode(text)
        except CardFormatError:
            ours = None
        assert ours == reference, path.name


def test_a_certificate_file_may_hold_base64_der_pem_or_der(tmp_path: Path) -> None:
    case = load_case(CASES[0])
    der = certificate_der(case)
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    for name, content in (
        ("cert.b64", case["TESTCTX"]["CERTIFICATE"].encode() + b"\n"),
        ("cert.pem", pem),
        ("cert.der", der),
    ):
        (tmp_path / name).write_bytes(content)
        assert load_certificate_file(tmp_path / name) == der
    (tmp_path / "junk.txt").write_text("not a certificate", encoding="utf-8")
    with pytest.raises(HcertError, match="neither base64 DER nor PEM"):
        load_certificate_file(tmp_path / "junk.txt")
    (tmp_path / "short.b64").write_text("AAAA", encoding="utf-8")
    with pytest.raises(HcertError, match=r"not a DER X\.509 certificate"):
        load_certificate_file(tmp_path / "short.b64")
    with pytest.raises(HcertError, match="cannot be read"):
        load_certificate_file(tmp_path / "missing.b64")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.text(alphabet=BASE45_ALPHABET, max_size=300).map(lambda body: HCERT_PREFIX + body))
def test_verify_hcert_never_raises(text: str) -> None:
    case = load_case(CASES[0])
    result = verify_hcert(text, certificate_der(case), validation_clock(case))
    assert result.valid is False and result.errors
