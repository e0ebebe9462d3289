"""Times a response shows are the times the endpoint stored: fed back as search bounds they find their image set."""

from __future__ import annotations

from typing import Any

from imageset_flows import copy_to_new, image_set, update, wait_unlocked  # noqa: F401 - image_set is a fixture


def _between(mi: Any, datastore_id: str, key: str, at: Any) -> list[str]:
    criteria = {"filters": [{"operator": "BETWEEN", "values": [{key: at}, {key: at}]}]}
    pages = mi.get_paginator("search_image_sets").paginate(datastoreId=datastore_id, searchCriteria=criteria)
    return [summary["imageSetId"] for page in pages for summary in page["imageSetsMetadataSummaries"]]


def test_times_from_get_image_set_find_their_image_set(mi: Any, image_set: tuple[str, str]) -> None:
    datastore_id, image_set_id = image_set
    copy_id = copy_to_new(mi, datastore_id, image_set_id)
    update(mi, datastore_id, copy_id, "1", updatable={"Patient": {"DICOM": {"PatientName": "Precise^Time"}}})
    wait_unlocked(mi, datastore_id, copy_id)

    for target in (image_set_id, copy_id):
        shown = mi.get_image_set(datastoreId=datastore_id, imageSetId=target)
        assert shown["createdAt"].microsecond % 1000 == 0
        assert shown["updatedAt"].microsecond % 1000 == 0
        assert target in _between(mi, datastore_id, "createdAt", shown["createdAt"])
        assert target in _between(mi, datastore_id, "updatedAt", shown["updatedAt"])
