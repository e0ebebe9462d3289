"""One image set search run on every data store of a region, in parallel (docs/fleet.md#image-sets-across-data-stores).

SearchImageSets takes one data store, so each store is searched on its own, a page at a time; the pages
are merged in the search's sort order. Each summary keeps its data store, and a store that cannot be
searched is reported by ID without hiding the others' results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ahi.services.errors import AwsCallError

if TYPE_CHECKING:
    from ahi.services.imagesets import ImageSetService, ImageSetSummary

#: Data stores searched at once.
SEARCH_WORKERS = 4
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class StoresPage:
    """A page from each store searched: merged summaries, the stores with more to load, the stores that failed."""

    summaries: list[ImageSetSummary]
    next_tokens: dict[str, str] = field(default_factory=dict)
    errors: dict[str, AwsCallError] = field(default_factory=dict)


def _sort_key(criteria: Mapping[str, Any]) -> tuple[Any, bool]:
    """The merge order: the search's own sort, else the service's default (updatedAt, newest first)."""
    sort = criteria.get("sort") or {}
    field_name, descending = sort.get("sortField", "updatedAt"), sort.get("sortOrder", "DESC") == "DESC"

    def key(summary: ImageSetSummary) -> Any:
        if field_name == "DICOMStudyDateAndTime":
            return f"{summary.dicom.get('DICOMStudyDate') or ''}{summary.dicom.get('DICOMStudyTime') or ''}"
        value = summary.created_at if field_name == "createdAt" else summary.updated_at
        return value or _OLDEST

    return key, descending


def search_stores(
    service: ImageSetService,
    datastore_ids: Sequence[str],
    criteria: Mapping[str, Any],
    tokens: Mapping[str, str] | None = None,
    workers: int = SEARCH_WORKERS,
) -> StoresPage:
    """The first page of every store, or (with `tokens`) the next page of each store that has one."""
    wanted = [(store, tokens[store]) for store in datastore_ids if store in tokens] if tokens is not None else [(store, None) for store in datastore_ids]
    page = StoresPage([])
    if not wanted:
        return page

    def one(store: str, token: str | None) -> Any:
        try:
            return service.search(store, criteria, token)
        except AwsCallError as error:
            return error

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(wanted))), thread_name_prefix="search") as pool:
        results = list(pool.map(lambda item: one(*item), wanted))
    for (store, _), result in zip(wanted, results):
        if isinstance(result, AwsCallError):
            page.errors[store] = result
            continue
        page.summaries += result.summaries
        if result.next_token:
            page.next_tokens[store] = result.next_token
    key, descending = _sort_key(criteria)
    page.summaries.sort(key=key, reverse=descending)
    return page
