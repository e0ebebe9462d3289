"""The ImageSetMetadata size quota at import: measured on compact JSON, estimated before any value is read.

The estimate comes from element lengths alone (deferred values stay in the file), so a file whose
attributes alone are over the quota fails before one of them is decoded or base64-encoded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # pydicom is loaded by the import pipeline; the store's quota check (json_size) must not pull it into
    # every endpoint start.
    from pydicom.dataset import Dataset

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.limits import MAX_METADATA_BYTES, METADATA_LIMIT_TEXT, mib

_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_UNDEFINED_LENGTH = 0xFFFFFFFF
#: JSON an element costs besides its value: `"00291010":` and a comma.
_PER_ELEMENT = 12


def json_size(value: Any) -> int:
    """Bytes of `value` as the stored document's compact UTF-8 JSON."""
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def over_quota(what: str) -> FileFailure:
    """The failure for a file whose metadata would not fit the quota."""
    return FileFailure(
        f"The file's DICOM attributes make {what}, over the ImageSetMetadata size quota of {METADATA_LIMIT_TEXT}; "
        "the file is not imported"
    )


def estimate(dataset: Dataset) -> int:
    """A lower bound on the JSON bytes of a data set's elements, from their lengths (pixel data excluded)."""
    from pydicom.sequence import Sequence

    total = 0
    for tag, element in dataset._dict.items():
        if tag in _PIXEL_TAGS:
            continue
        total += _PER_ELEMENT
        value = element.value
        if isinstance(value, Sequence):
            total += sum(estimate(item) for item in value)
            continue
        if value is None:  # deferred: the length is all that was read
            length = 0 if element.length == _UNDEFINED_LENGTH else int(element.length)
        elif isinstance(value, (bytes, bytearray, str)):
            length = len(value)
        else:
            length = len(str(value))
        if element.VR in _BINARY_VRS:
            length = length * 4 // 3
        total += length
        if total > MAX_METADATA_BYTES:
            break
    return total


def check_estimate(dataset: Dataset) -> None:
    """Fail a file whose attributes alone are over the quota, before they are read and encoded."""
    size = estimate(dataset)
    if size > MAX_METADATA_BYTES:
        raise over_quota(f"a metadata document of more than {mib(MAX_METADATA_BYTES)}")


def check_instance(instance: dict[str, Any], levels: dict[str, Any]) -> int:
    """Fail an instance whose block and levels alone are over the quota; the compact size of its block."""
    size = json_size(instance)
    if size + json_size(levels) > MAX_METADATA_BYTES:
        raise over_quota(f"an instance block of {mib(size)}")
    return size


def over_image_set_quota(series_instance_uid: str) -> FileFailure:
    """The failure for an instance that does not fit beside the ones before it in its image set."""
    return FileFailure(
        f"The image set of series {series_instance_uid} would hold more than {METADATA_LIMIT_TEXT} of metadata "
        f"with this instance, over the ImageSetMetadata size quota of {METADATA_LIMIT_TEXT}; the file is not "
        "imported"
    )
