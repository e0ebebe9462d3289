"""Storage tiers as the console shows them: names, the access warning, and a data store's count per tier.

GetImageSet and SearchImageSets summaries carry `storageTier` and `lastAccessedAt` (docs/storage-tiers.md).
Reading an image set's metadata or pixels, copying it or updating it moves it back to Frequent Access;
the console says so before such a read of an image set in Archive Instant Access (docs/version-diff.md#tiers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # image sets pull in pydicom and numpy, which the first screen never loads (docs/startup.md)
    from ahi.services.imagesets import ImageSetState, ImageSetSummary, SearchPage

Tiered = TypeVar("Tiered", "ImageSetSummary", "ImageSetState")

FREQUENT = "FREQUENT_ACCESS"
ARCHIVE = "ARCHIVE_INSTANT_ACCESS"
NAMES = {FREQUENT: "Frequent Access", ARCHIVE: "Archive Instant Access"}
SHORT_NAMES = {FREQUENT: "Frequent", ARCHIVE: "Archive IA"}
#: The most image sets a per-tier count reads (100 pages of 50): past it the count says it stopped.
#: SearchImageSets has no tier filter, so a count is a walk of the whole store; our choice of bound
#: keeps it under a minute on the service's default SearchImageSets rate.
COUNT_LIMIT = 5000


def tier_name(tier: str | None) -> str:
    """`Archive Instant Access`; an unknown value as sent, none as `—`."""
    if not tier:
        return "—"
    return NAMES.get(tier, tier)


def short_tier_name(tier: str | None) -> str:
    """The name for a narrow table column."""
    if not tier:
        return "—"
    return SHORT_NAMES.get(tier, tier)


def access_notice(image_set_id: str, tier: str | None) -> str | None:
    """The one-line warning for an action that counts as access, or None when it moves nothing."""
    if tier != ARCHIVE:
        return None
    return f"This read moves image set {image_set_id} from {NAMES[ARCHIVE]} to {NAMES[FREQUENT]}"


def touched(image_set: Tiered) -> Tiered:
    """The image set (a search summary or a version's state) as an access leaves it: in Frequent Access."""
    if image_set.storage_tier != ARCHIVE:
        return image_set
    return replace(image_set, storage_tier=FREQUENT, raw={**image_set.raw, "storageTier": FREQUENT})


@dataclass
class TierCount:
    """Image sets per tier so far; `done` once the walk ended, `complete` when it saw every image set."""

    by_tier: dict[str, int] = field(default_factory=dict)
    seen: int = 0
    pages: int = 0
    done: bool = False
    complete: bool = False
    limit: int = COUNT_LIMIT

    def add(self, page: SearchPage) -> None:
        for summary in page.summaries:
            key = summary.storage_tier or ""
            self.by_tier[key] = self.by_tier.get(key, 0) + 1
        self.seen += len(page.summaries)
        self.pages += 1

    def rows(self) -> list[tuple[str, int]]:
        """(tier name, count) in a fixed order: both tiers always, then any other value seen."""
        names = [FREQUENT, ARCHIVE] + sorted(t for t in self.by_tier if t not in NAMES)
        return [(tier_name(t) if t else "no tier", self.by_tier.get(t, 0)) for t in names]


def count_tiers(
    search: Callable[[str | None], SearchPage],
    limit: int = COUNT_LIMIT,
    progress: Callable[[TierCount], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> TierCount:
    """Walk every page of a store's search (`search(next_token)`), counting per tier, until the end or `limit`
    image sets; `progress` is told after each page, and `stop()` ends the walk early (not complete)."""
    count = TierCount(limit=limit)
    token: str | None = None
    while True:
        page = search(token)
        count.add(page)
        token = page.next_token
        if not token:
            count.complete = True
            break
        if count.seen >= limit or (stop is not None and stop()):
            break
        if progress is not None:
            progress(count)
    count.done = True
    if progress is not None:
        progress(count)
    return count
