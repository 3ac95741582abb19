"""Card verification rate of awda against raw `cryptography` ES256 verify of the same signatures, in the same run.

    .venv/bin/python bench/cards.py [--cards 2000] [--rounds 5] [--json]

awda's rate is the whole pipeline, text in and result out: prefix, Base45, zlib, COSE and claims
decoding, the ES256 signature with the trust list's key, expiry, and the card's bit in a status
list that was read (and its signature checked) once. The baseline verifies the same signatures,
DER-encoded beforehand, over the same Sig_structure bytes with the same public key.

The cards are timed in blocks of 100, both sides in turn, over several rounds; each side keeps its
best time per block, so that a busy spell on a shared machine distorts neither side.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from awda.cards.claims import CARD_PREFIX, CardClaims, Holder, encode_card
from awda.cards.cose import decode_sign1
from awda.cards.qrtext import b45decode, inflate, unprefix
from awda.cards.statuslist import StatusBits, StatusListView, read_status_list, sign_status_list
from awda.cards.trust import TrustedKey, TrustList
from awda.cards.verify import verify_card

TARGET_RATIO = 0.6
ISSUER = "awda benchmark issuer"
STATUS_URI = "https://awda.example/cards/status/1"
REVOKE_EVERY = 10  # one card in ten is revoked, so both answers of the status check are exercised
ROUNDS = 5
BLOCK = 100  # cards per timed block: both sides run each block in turn, every round, and keep their best time
ISSUED_AT = datetime(2026, 11, 22, 9, tzinfo=UTC)


def build_cards(count: int) -> tuple[list[str], TrustList, bytes, ec.EllipticCurvePrivateKey]:
    """`count` cards with holder data (the longest kind), their trust list and a signed status list."""
    key = ec.generate_private_key(ec.SECP256R1())
    bits = StatusBits(count)
    texts = []
    for index in range(count):
        claims = CardClaims(
            issuer=ISSUER,
            card_id=uuid.uuid4(),
            agreement_code="AGR-RASTAN-2026",
            issued_at=ISSUED_AT,
            expires_at=ISSUED_AT + timedelta(days=365),
            status_index=index,
            status_uri=STATUS_URI,
            holder=Holder(name_ar="محمد عبد الله الأحمد", name_lat="Mohammad Abdullah Al-Ahmad", birth_year=1984),
        )
        texts.append(encode_card(claims, key))
        bits.set(index, index % REVOKE_EVERY == 0)
    trust = TrustList(ISSUER, ISSUED_AT, (TrustedKey.for_public_key(key.public_key(), ISSUED_AT),))
    status_list = sign_status_list(bits, STATUS_URI, ISSUED_AT, ISSUED_AT + timedelta(days=2), 86_400, key)
    return texts, trust, status_list, key


def baseline_inputs(texts: Sequence[str]) -> list[tuple[bytes, bytes]]:
    """(DER signature, Sig_structure) of each card, extracted outside the timed loop."""
    inputs = []
    for text in texts:
        message = decode_sign1(inflate(b45decode(unprefix(text, CARD_PREFIX))))
        half = len(message.signature) // 2
        r, s = int.from_bytes(message.signature[:half], "big"), int.from_bytes(message.signature[half:], "big")
        inputs.append((encode_dss_signature(r, s), message.to_be_signed()))
    return inputs


def best_seconds(sides: dict[str, Callable[[slice], object]], count: int, rounds: int) -> dict[str, float]:
    """Each side's total over `count` items, from its best time for each block (noise only ever slows)."""
    starts = range(0, count, BLOCK)
    best = {name: [float("inf")] * len(starts) for name in sides}
    for _ in range(rounds):
        for block, start in enumerate(starts):
            for name, work in sides.items():  # alternate, so a slow spell of the machine hits both sides
                started = time.perf_counter()
                work(slice(start, start + BLOCK))
                best[name][block] = min(best[name][block], time.perf_counter() - started)
    return {name: sum(times) for name, times in best.items()}


def run(cards: int, rounds: int = ROUNDS) -> dict[str, Any]:
    texts, trust, status_list_bytes, key = build_cards(cards)
    status_list: StatusListView = read_status_list(status_list_bytes, trust)
    public_key = key.public_key()
    signatures = baseline_inputs(texts)
    at = ISSUED_AT + timedelta(hours=1)
    algorithm = ec.ECDSA(hashes.SHA256())

    def awda(block: slice) -> list[Any]:
        return [verify_card(text, trust, status_list, at) for text in texts[block]]

    def baseline(block: slice) -> None:
        for signature, signed in signatures[block]:
            public_key.verify(signature, signed, algorithm)

    results = awda(slice(None))
    seconds = best_seconds({"baseline": baseline, "awda": awda}, cards, rounds)
    awda_seconds, baseline_seconds = seconds["awda"], seconds["baseline"]
    ratio = (cards / awda_seconds) / (cards / baseline_seconds)
    return {
        "cards": cards,
        "valid": sum(result.valid for result in results),
        "revoked": sum(result.checks["status"] == "revoked" for result in results),
        "awda_cards_per_second": round(cards / awda_seconds),
        "baseline_verifies_per_second": round(cards / baseline_seconds),
        "awda_microseconds_per_card": round(awda_seconds / cards * 1e6, 1),
        "baseline_microseconds_per_verify": round(baseline_seconds / cards * 1e6, 1),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.cards, arguments.rounds)
    if arguments.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['cards']} cards: awda full verification {result['awda_cards_per_second']}/s, raw ES256 verify "
            f"{result['baseline_verifies_per_second']}/s, ratio {result['ratio']} (target {TARGET_RATIO})"
        )


if __name__ == "__main__":
    main()
