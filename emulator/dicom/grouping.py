"""Instances into image sets (service.md 3.6) and the image set's metadata document (service.md 4.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.dicom.instance import ProcessedInstance

SCHEMA_VERSION = "1.1"


@dataclass
class ImageSetDraft:
    """The instances one image set will hold, before it has an ID."""

    instances: list[ProcessedInstance] = field(default_factory=list)

    @property
    def levels(self) -> dict[str, dict[str, Any]]:
        """The normalized Patient / Study / Series attributes every instance here agrees on."""
        return self.instances[0].levels

    @property
    def series_instance_uid(self) -> str:
        """The one series this image set belongs to."""
        return self.instances[0].series_instance_uid

    def holds(self, sop_instance_uid: str) -> bool:
        """Whether an instance with this SOP Instance UID is already here."""
        return any(instance.sop_instance_uid == sop_instance_uid for instance in self.instances)


def group_instances(instances: list[ProcessedInstance]) -> list[ImageSetDraft]:
    """One image set per series and set of normalized attributes, in order of first appearance.

    A series whose instances disagree on any normalized attribute (e.g. PatientName) splits; so does a
    repeated SOP Instance UID, because an image set keys its instances by that UID. The guide's
    throughput "optimization" split of large series is not reproduced: its threshold is undocumented.
    """
    drafts: list[ImageSetDraft] = []
    by_key: dict[str, list[ImageSetDraft]] = {}
    for instance in instances:
        candidates = by_key.setdefault(instance.grouping_key, [])
        target = next((draft for draft in candidates if not draft.holds(instance.sop_instance_uid)), None)
        if target is None:
            target = ImageSetDraft()
            candidates.append(target)
            drafts.append(target)
        target.instances.append(instance)
    for draft in drafts:
        draft.instances.sort(key=lambda instance: instance.order_key)
    return drafts


def build_document(datastore_id: str, image_set_id: str, draft: ImageSetDraft) -> dict[str, Any]:
    """The metadata document GetImageSetMetadata returns (after gunzip) for a freshly imported image set."""
    levels = draft.levels
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "DatastoreID": datastore_id,
        "ImageSetID": image_set_id,
        "Patient": {"DICOM": dict(levels["Patient"])},
        "Study": {
            "DICOM": dict(levels["Study"]),
            "Series": {
                draft.series_instance_uid: {
                    "DICOM": dict(levels["Series"]),
                    "Instances": {instance.sop_instance_uid: instance.instance for instance in draft.instances},
                }
            },
        },
    }
