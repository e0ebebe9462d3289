"""A DICOM Part 10 file of one instance, built from its current attributes and frames (docs/dicomweb.md#getdicominstance).

The dataset is the metadata document's (updates included); the file meta information is rebuilt for
the syntax served: MediaStorageSOPClass/InstanceUID from the dataset, our implementation UID and name,
the source's SourceApplicationEntityTitle and other meta elements kept. Native pixel data (Explicit
VR Little Endian) is OW when BitsAllocated > 8, else OB; one-bit frames are packed back to back.
Encapsulated pixel data carries a Basic Offset Table, one fragment per frame.
"""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pydicom
from pydicom import config as pydicom_config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence

from ahi.emulator.dicom.stored_syntaxes import EXPLICIT_VR_LITTLE_ENDIAN
from ahi.emulator.dicomweb.elements import BINARY_VRS, FILE_META_GROUP, PIXEL_DATA, elements
from ahi.emulator.dicomweb.frame_pixels import decode, frame_in, native_bytes
from ahi.emulator.dicomweb.frames_out import PixelShape, decodes_to_rgb

IMPLEMENTATION_CLASS_UID = f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'ahi-local-endpoint/dicomweb').int}"
IMPLEMENTATION_VERSION_NAME = "AHI_LOCAL_1"
#: File meta elements rebuilt for every file rather than copied from the source's.
_REBUILT_META = frozenset({0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013})
_INT_VRS = frozenset({"US", "UL", "SS", "SL", "UV", "SV"})
_FLOAT_VRS = frozenset({"FL", "FD"})

#: Frame number (1-based) -> the stored frame's bytes.
FrameReader = Callable[[int], bytes]


def part10(
    attributes: Mapping[str, Any],
    vrs: Mapping[str, str],
    stored: str,
    target: str,
    frame_count: int,
    read_frame: FrameReader,
) -> bytes:
    """The whole file: preamble, file meta in `target`, dataset, pixel data in `target`."""
    dataset = build_dataset(attributes, vrs)
    shape = PixelShape.of(dict(attributes))
    if "PixelData" in attributes and frame_count:
        frames = (read_frame(number) for number in range(1, frame_count + 1))
        _set_pixels(dataset, frames, stored, target, shape)
    dataset.file_meta = _file_meta(attributes, vrs, dataset, target)
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, dataset, enforce_file_format=True)
    return buffer.getvalue()


def build_dataset(attributes: Mapping[str, Any], vrs: Mapping[str, str]) -> Dataset:
    """The dataset of the document's attributes (no file meta, no pixel data), values unvalidated."""
    return _dataset(attributes, vrs, attributes, top=True)


def _dataset(attributes: Mapping[str, Any], vrs: Mapping[str, str], context: Mapping[str, Any], *, top: bool) -> Dataset:
    dataset = Dataset()
    for element in elements(attributes, vrs, context):
        if top and (element.tag >> 16 == FILE_META_GROUP or element.tag == PIXEL_DATA):
            continue
        dataset.add(_data_element(element.tag, element.vr, element.value, context))
    return dataset


def _data_element(tag: int, vr: str, value: Any, context: Mapping[str, Any]) -> DataElement:
    # The document's values were read from a file that may break value rules; they are written as they are.
    return DataElement(tag, vr, _value(vr, value, context), validation_mode=pydicom_config.IGNORE)


def _value(vr: str, value: Any, context: Mapping[str, Any]) -> Any:
    if vr == "SQ":
        items = value if isinstance(value, list) else []
        return Sequence([_dataset(item, {}, context, top=False) for item in items if isinstance(item, dict)])
    if value is None:
        return b"" if vr in BINARY_VRS else None
    if vr in BINARY_VRS:
        return base64.b64decode(value) if isinstance(value, str) else b""
    values = value if isinstance(value, list) else [value]
    if vr == "AT":
        converted = [int(str(item), 16) for item in values if item is not None]
    elif vr in _INT_VRS:
        converted = [int(item) for item in values if item is not None]
    elif vr in _FLOAT_VRS:
        converted = [float(item) for item in values if item is not None]
    else:
        text = [("" if item is None else str(item)) for item in values]
        return text[0] if len(text) == 1 else text
    return converted[0] if len(converted) == 1 else converted


def _set_pixels(dataset: Dataset, frames: Iterable[bytes], stored: str, target: str, shape: PixelShape) -> None:
    if target == EXPLICIT_VR_LITTLE_ENDIAN:
        if shape.bits_allocated == 1:
            # PS3.5 8.1.1: one-bit frames follow each other without padding to a byte.
            samples = [decode(frame, stored, shape).ravel() for frame in frames]
            data = native_bytes(np.concatenate(samples) if samples else np.zeros(0, np.uint8), shape)
        else:
            data = b"".join(frame_in(frame, stored, target, shape) for frame in frames)
        if decodes_to_rgb(stored, target, shape):
            dataset.PhotometricInterpretation = "RGB"
            dataset.PlanarConfiguration = 0
        vr = "OW" if shape.bits_allocated > 8 else "OB"
        dataset.add(DataElement(PIXEL_DATA, vr, data + b"\x00" * (len(data) % 2)))
        return
    fragments = [frame_in(frame, stored, target, shape) for frame in frames]
    element = DataElement(PIXEL_DATA, "OB", encapsulate(fragments, has_bot=True), is_undefined_length=True)
    dataset.add(element)


def _file_meta(attributes: Mapping[str, Any], vrs: Mapping[str, str], dataset: Dataset, target: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.get("SOPClassUID", "")
    meta.MediaStorageSOPInstanceUID = dataset.get("SOPInstanceUID", "")
    meta.TransferSyntaxUID = target
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    for element in elements(attributes, vrs, attributes):
        if element.tag >> 16 == FILE_META_GROUP and element.tag not in _REBUILT_META:
            meta.add(_data_element(element.tag, element.vr, element.value, attributes))
    return meta
