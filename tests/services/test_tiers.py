"""Storage tier helpers (services.tiers): names, the access notice, and the bounded per-tier count."""

from __future__ import annotations

from ahi.services.imagesets import ImageSetSummary, SearchPage
from ahi.services.tiers import ARCHIVE, FREQUENT, TierCount, access_notice, count_tiers, short_tier_name, tier_name


def page(tiers: list[str | None], token: str | None) -> SearchPage:
    summaries = [ImageSetSummary(f"{i:032x}", "ds", 1, None, None, storage_tier=tier) for i, tier in enumerate(tiers)]
    return SearchPage(summaries, token)


def test_names() -> None:
    assert tier_name(ARCHIVE) == "Archive Instant Access" and tier_name(FREQUENT) == "Frequent Access"
    assert tier_name(None) == "—" and tier_name("GLACIER_SOMEDAY") == "GLACIER_SOMEDAY"
    assert short_tier_name(ARCHIVE) == "Archive IA" and short_tier_name(None) == "—"


def test_the_notice_names_the_move_only_for_archive_instant_access() -> None:
    assert access_notice("abc", ARCHIVE) == "This read moves image set abc from Archive Instant Access to Frequent Access"
    assert access_notice("abc", FREQUENT) is None
    assert access_notice("abc", None) is None


def test_the_count_walks_every_page_and_reports_progress() -> None:
    pages = {None: page([FREQUENT, ARCHIVE], "t1"), "t1": page([ARCHIVE, None], "t2"), "t2": page([FREQUENT], None)}
    asked: list[str | None] = []
    seen: list[tuple[int, bool]] = []

    def search(token: str | None) -> SearchPage:
        asked.append(token)
        return pages[token]

    count = count_tiers(search, progress=lambda c: seen.append((c.seen, c.done)))
    assert asked == [None, "t1", "t2"]
    assert count.complete and count.done and count.seen == 5 and count.pages == 3
    assert count.rows() == [("Frequent Access", 2), ("Archive Instant Access", 2), ("no tier", 1)]
    assert seen == [(2, False), (4, False), (5, True)]


def test_the_count_stops_at_its_limit_and_says_it_is_not_complete() -> None:
    asked: list[str | None] = []

    def endless(token: str | None) -> SearchPage:
        asked.append(token)
        return page([ARCHIVE] * 2, f"t{len(asked)}")

    count = count_tiers(endless, limit=5)
    assert len(asked) == 3 and count.seen == 6 and count.done and not count.complete
    assert dict(count.rows())["Archive Instant Access"] == 6


def test_the_count_ends_when_asked_to_stop() -> None:
    count = count_tiers(lambda token: page([FREQUENT], "more"), stop=lambda: True)
    assert count.pages == 1 and not count.complete


def test_an_empty_store_counts_zero_in_both_tiers() -> None:
    assert TierCount().rows() == [("Frequent Access", 0), ("Archive Instant Access", 0)]
