"""An instance rebuilt from its metadata document, as WADO-RS serves it (docs/dicomweb.md#getdicominstance,
docs/dicomweb.md#metadata): the Part 10 file and the DICOM JSON both carry what the source file held."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels.utils import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from ahi.emulator.dicom.instance import process_file
from ahi.emulator.dicom.stored_syntaxes import EXPLICIT_VR_LITTLE_ENDIAN
from ahi.emulator.dicomweb.frames_out import PixelShape, servable
from ahi.emulator.dicomweb.part10 import part10
from ahi.emulator.dicomweb.wado_json import BULK_DATA_THRESHOLD, bulk_data_key, bulk_value, instance_json

BIG = bytes(range(256)) * (BULK_DATA_THRESHOLD // 256 + 2)


def source() -> bytes:
    """A small signed CT with the elements a rebuild can get wrong."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = (generate_uid() for _ in range(3))
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Yamada^Tarou=山田^太郎"
    ds.PatientID = "REBUILD-1"
    ds.Modality = "CT"
    ds.InstanceNumber = "7"
    ds.SliceThickness = "2.50"
    ds.FrameIncrementPointer = 0x00181063
    ds.add_new(0x00091010, "LO", "ACME 1.0")  # private creator
    ds.add_new(0x00091011, "DS", "3.5")
    ds.add_new(0x00091012, "OB", BIG)  # over the bulk data threshold
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-A0100", "SRT", "Brain"
    item.add_new(0x00291010, "LO", "ACME 1.0")
    item.add_new(0x00291011, "LO", "private text in an item")
    item.add_new(0x00291012, "OB", b"\x01\x02\x03\x04")
    ds.AnatomicRegionSequence = Sequence([item])
    pixels = (np.arange(64, dtype=np.int16).reshape(8, 8) - 32) * 7
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 8, 8, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SmallestImagePixelValue = int(pixels.min())  # US or SS: signed here
    ds.PixelData = pixels.tobytes()
    return part10_file(ds)


def part10_file(ds: Dataset) -> bytes:
    """`ds` as an Explicit VR Little Endian Part 10 file."""
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def imported(data: bytes) -> tuple[dict[str, Any], dict[str, str], str, list[bytes]]:
    """The document attributes, VRs, stored syntax and stored frames an import makes of a file."""
    frames: list[bytes] = []
    outcome = process_file("rebuild.dcm", data, on_frame=lambda frame: frames.append(frame.data))
    assert outcome.instance is not None, outcome.failure
    levels, block = outcome.instance.levels, outcome.instance.instance
    attributes = {**levels["Patient"], **levels["Study"], **levels["Series"], **block["DICOM"]}
    return attributes, block["DICOMVRs"], block["StoredTransferSyntaxUID"], frames


def test_the_part10_file_carries_the_source_elements_and_pixels() -> None:
    data = source()
    attributes, vrs, stored, frames = imported(data)
    rebuilt = pydicom.dcmread(
        io.BytesIO(part10(attributes, vrs, stored, EXPLICIT_VR_LITTLE_ENDIAN, len(frames), lambda n: frames[n - 1]))
    )
    original = pydicom.dcmread(io.BytesIO(data))
    assert rebuilt.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
    for keyword in ("PatientName", "InstanceNumber", "SliceThickness", "FrameIncrementPointer", "SmallestImagePixelValue"):
        assert rebuilt[keyword].value == original[keyword].value, keyword
    assert rebuilt["SmallestImagePixelValue"].VR == "SS"
    assert rebuilt[0x00091011].value == "3.5" and rebuilt[0x00091012].value == BIG
    item = rebuilt.AnatomicRegionSequence[0]
    assert item.CodeMeaning == "Brain"
    # Inside an item the document keeps no VR: private text comes back as UN holding its bytes.
    assert item[0x00291011].VR == "UN" and item[0x00291011].value.rstrip(b" ") == b"private text in an item"
    assert item[0x00291012].value == b"\x01\x02\x03\x04"
    assert np.array_equal(rebuilt.pixel_array, original.pixel_array)


def test_the_dicom_json_reads_back_as_the_source_dataset() -> None:
    data = source()
    attributes, vrs, stored, _ = imported(data)
    uris: dict[str, str] = {}

    def uri_for(tag_path: str) -> str:
        uris[tag_path] = f"http://endpoint/bulkdata/{bulk_data_key(tag_path)}"
        return uris[tag_path]

    metadata = instance_json(attributes, vrs, stored, uri_for)
    assert metadata["00100010"]["Value"] == [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎"}]
    assert metadata["00091011"] == {"vr": "DS", "Value": [3.5]} and metadata["00180050"]["Value"] == [2.5]
    assert metadata["00091012"] == {"vr": "OB", "BulkDataURI": uris["00091012"]}
    assert set(uris) == {"00091012", "7FE00010"}
    assert bulk_value(attributes, vrs, bulk_data_key("00091012")) == BIG
    assert bulk_value(attributes, vrs, bulk_data_key("00091013")) is None

    inline = {tag: element for tag, element in metadata.items() if "BulkDataURI" not in element}
    read = pydicom.Dataset.from_json(json.dumps(inline))
    original = pydicom.dcmread(io.BytesIO(data))
    assert read.PatientName == original.PatientName and read.SOPInstanceUID == original.SOPInstanceUID
    assert read.AnatomicRegionSequence[0][0x00291012].value == b"\x01\x02\x03\x04"
    assert read.SmallestImagePixelValue == original.SmallestImagePixelValue


def test_one_bit_segmentation_frames_are_packed_back_to_back() -> None:
    """Stored one frame per byte run; a file packs them without padding (PS3.5 8.1.1), and has no HTJ2K form."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = (generate_uid() for _ in range(3))
    ds.Modality, ds.PatientID, ds.SegmentationType = "SEG", "SEG-1", "BINARY"
    masks = np.random.default_rng(3).integers(0, 2, (3, 5, 5), dtype=np.uint8)  # 25 bits a frame
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 5, 5, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.NumberOfFrames = 3
    ds.PixelData = pack_bits(masks)
    attributes, vrs, stored, frames = imported(part10_file(ds))
    assert stored == EXPLICIT_VR_LITTLE_ENDIAN and [len(frame) for frame in frames] == [4, 4, 4]
    for asked in (EXPLICIT_VR_LITTLE_ENDIAN, "*"):
        target = servable(stored, asked, PixelShape.of(attributes))
        assert target == EXPLICIT_VR_LITTLE_ENDIAN
        rebuilt = pydicom.dcmread(io.BytesIO(part10(attributes, vrs, stored, target, 3, lambda n: frames[n - 1])))
        assert len(rebuilt.PixelData) == 10 and np.array_equal(rebuilt.pixel_array, masks)
    assert servable(stored, "1.2.840.10008.1.2.4.202", PixelShape.of(attributes)) is None
