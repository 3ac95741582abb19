"""The web pages benchmark runs end to end on two tiny registries (its timing is not asserted: machines are noisy)."""

from __future__ import annotations

from bench.pages import PAGES, run


def test_pages_benchmark_requests_every_page_on_both_registries() -> None:
    result = run(households=300, small=100, rounds=1, seed=3)
    assert [page["page"] for page in result["pages"]] == list(PAGES)
    assert all(page["small_ms"] > 0 and page["large_ms"] > 0 and page["ratio"] > 0 for page in result["pages"])
    deepest = next(page for page in result["pages"] if page["page"] == "households_deepest")
    assert deepest["small_request"] == "GET /households?offset=50"
    assert deepest["large_request"] == "GET /households?offset=250"
