"""The console decodes every stored form the endpoint serves (docs/stored-syntaxes.md) and checks its CRC-32."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file

from ahi.emulator.dicom.instance import ProcessedInstance, process_file
from ahi.services.frames import (
    ChecksumState,
    FrameKey,
    FrameTooLarge,
    decode_and_verify,
    expected_checksum,
    frame_header,
)

KEY = FrameKey("i" * 32, "1", "f" * 32)


def imported(name: str, lossless_format: str | None = None) -> ProcessedInstance:
    path = get_testdata_file(name)
    assert path is not None
    outcome = process_file(name, Path(path).read_bytes(), lossless_format=lossless_format)
    assert outcome.instance is not None, outcome.failure
    return outcome.instance


@pytest.mark.parametrize(
    ("name", "lossless_format", "stored"),
    [
        ("SC_rgb_dcmtk_+eb+cy+np.dcm", None, "1.2.840.10008.1.2.4.50"),
        ("SC_jpeg_no_color_transform.dcm", None, "1.2.840.10008.1.2.4.50"),
        ("SC_rgb_gdcm_KY.dcm", None, "1.2.840.10008.1.2.4.91"),
        ("693_J2KI.dcm", None, "1.2.840.10008.1.2.4.91"),
        ("CT_small.dcm", None, "1.2.840.10008.1.2.4.202"),
        ("CT_small.dcm", "JPEG_2000_LOSSLESS", "1.2.840.10008.1.2.4.90"),
        ("SC_ybr_full_422_uncompressed.dcm", "JPEG_2000_LOSSLESS", "1.2.840.10008.1.2.4.90"),
        ("liver_1frame.dcm", None, "1.2.840.10008.1.2.1"),
    ],
)
def test_each_stored_form_decodes_to_its_checksum(name: str, lossless_format: str | None, stored: str) -> None:
    instance = imported(name, lossless_format)
    assert instance.instance["StoredTransferSyntaxUID"] == stored
    dicom = instance.instance["DICOM"]
    shape = (int(dicom["Rows"]), int(dicom["Columns"]))
    for frame in instance.frames:
        decoded = decode_and_verify(KEY, frame.data, expected_checksum(frame.entry), dicom["PhotometricInterpretation"], shape)
        assert decoded.checksum.state is ChecksumState.OK, decoded.checksum.describe()
        assert decoded.pixels.shape[:2] == shape
        if decoded.pixels.ndim == 3 and stored == "1.2.840.10008.1.2.4.50":
            assert decoded.colour_space == "sRGB", "a JPEG decodes to RGB whatever the metadata says"


def test_a_jpeg_claiming_a_huge_image_is_refused_before_decoding() -> None:
    instance = imported("SC_rgb_jpeg.dcm")
    data = bytearray(instance.frames[0].data)
    header = frame_header(bytes(data))
    assert header is not None and header.components == 3
    at = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, 60000, 60000)
    with pytest.raises(FrameTooLarge):
        decode_and_verify(KEY, bytes(data), None)


def test_binary_segmentation_bits_need_the_frame_shape() -> None:
    instance = imported("liver_1frame.dcm")
    data = instance.frames[0].data
    dicom = instance.instance["DICOM"]
    decoded = decode_and_verify(KEY, data, expected_checksum(instance.frames[0].entry), None, (dicom["Rows"], dicom["Columns"]))
    assert decoded.pixels.dtype == np.uint8 and set(np.unique(decoded.pixels)) <= {0, 1}
    with pytest.raises(ValueError, match="not JPEG 2000"):
        decode_and_verify(KEY, data, None)
