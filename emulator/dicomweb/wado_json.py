"""An instance's metadata for GetDICOMInstanceMetadata and GetDICOMSeriesMetadata (docs/dicomweb.md#metadata).

The DICOM JSON Model of the instance's current attributes (emulator/dicomweb/dicom_json.py), where binary
values over 1 MiB (the devguide's "larger than 1MB") are a BulkDataURI that GetDICOMBulkdata serves, and
PixelData always is one (the document holds no pixels). The stored transfer syntax is given as
AvailableTransferSyntaxUID (0008,3002), which PS3.18 lets metadata carry.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ahi.emulator.dicomweb.dicom_json import dataset
from ahi.emulator.dicomweb.elements import BINARY_VRS, FILE_META_GROUP, PIXEL_DATA, elements

#: Binary values longer than this many bytes are given as a BulkDataURI.
BULK_DATA_THRESHOLD = 1 << 20
AVAILABLE_TRANSFER_SYNTAX = 0x00083002
PIXEL_DATA_PATH = f"{PIXEL_DATA:08X}"

#: A tag path ("00451026", "00540016/0/00181072") -> the BulkDataURI that serves it.
UriFor = Callable[[str], str]


def bulk_data_key(tag_path: str) -> str:
    """The last segment of a BulkDataURI: a digest of the element's tag path (our form; AWS's is opaque)."""
    return hashlib.md5(tag_path.encode("ascii"), usedforsecurity=False).hexdigest()


def instance_json(
    attributes: Mapping[str, Any], vrs: Mapping[str, str], stored_syntax: str, uri_for: UriFor
) -> dict[str, Any]:
    """One instance's metadata object, tags in order."""

    def bulk(tag_path: str, text: str) -> dict[str, Any] | None:
        return {"BulkDataURI": uri_for(tag_path)} if _decoded_length(text) > BULK_DATA_THRESHOLD else None

    encoded = dataset(attributes, vrs, bulk=bulk)
    if stored_syntax:
        encoded[f"{AVAILABLE_TRANSFER_SYNTAX:08X}"] = {"vr": "UI", "Value": [stored_syntax]}
    if "PixelData" in attributes:
        vr = "OW" if int(attributes.get("BitsAllocated") or 8) > 8 else "OB"
        encoded[PIXEL_DATA_PATH] = {"vr": vr, "BulkDataURI": uri_for(PIXEL_DATA_PATH)}
    return dict(sorted(encoded.items()))


def _decoded_length(text: str) -> int:
    return len(text) * 3 // 4 - text.endswith("=") - text.endswith("==")


def bulk_value(attributes: Mapping[str, Any], vrs: Mapping[str, str], key: str) -> bytes | None:
    """The bytes of the binary element (other than PixelData) whose BulkDataURI ends in `key`, or None."""
    for tag_path, text in _binary_elements(attributes, vrs, attributes, ""):
        if bulk_data_key(tag_path) == key:
            return base64.b64decode(text)
    return None


def _binary_elements(
    attributes: Mapping[str, Any], vrs: Mapping[str, str], context: Mapping[str, Any], path: str
) -> Iterator[tuple[str, str]]:
    """(tag path, base64 value) of every non-empty binary element, sequence items included."""
    for element in elements(attributes, vrs, context):
        if element.tag >> 16 == FILE_META_GROUP or element.tag == PIXEL_DATA:
            continue
        tag_path = f"{path}{element.hex}"
        if element.vr == "SQ" and isinstance(element.value, list):
            for index, item in enumerate(element.value):
                yield from _binary_elements(item, {}, context, f"{tag_path}/{index}/")
        elif element.vr in BINARY_VRS and isinstance(element.value, str) and element.value:
            yield tag_path, element.value
