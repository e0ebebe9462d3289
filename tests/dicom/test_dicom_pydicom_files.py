"""Every file pydicom ships either becomes an instance or a classified failure; lossless frames round-trip."""

from __future__ import annotations

import os
import warnings
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

from ahi.emulator.dicom.htj2k import decode_frame
from ahi.emulator.dicom.instance import FileOutcome, process_file

FILES = sorted(path for path in get_testdata_files() if os.path.isfile(path))


def outcome_of(name: str) -> FileOutcome:
    path = get_testdata_file(name)
    assert path is not None
    return process_file(name, Path(path).read_bytes())


def reference_frames(path: str) -> np.ndarray | None:
    """pydicom's own pixel_array as frames x rows x cols [x 3], little-endian; None if pydicom cannot decode."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = pydicom.dcmread(path)
            pixels = dataset.pixel_array
        except Exception:  # noqa: BLE001 - such files are checked by their failure line instead
            return None
    frames = int(dataset.get("NumberOfFrames") or 1)
    pixels = pixels.astype(pixels.dtype.newbyteorder("<"))
    return pixels[None] if frames == 1 else pixels


def test_the_bundled_files_are_all_here() -> None:
    assert len(FILES) > 150


@pytest.mark.parametrize("path", FILES, ids=lambda path: Path(path).name)
def test_file_is_imported_or_fails_with_a_reason(path: str) -> None:
    outcome = process_file(Path(path).name, Path(path).read_bytes())
    assert (outcome.instance is None) != (outcome.failure is None)
    if outcome.failure is not None:
        assert outcome.failure.customer, outcome.failure.message
        assert outcome.failure.exception_type == "ValidationException"
        assert len(outcome.failure.message) > 20
        return
    instance = outcome.instance
    assert instance is not None
    reference = reference_frames(path)
    if not instance.frames or reference is None:
        return
    assert len(instance.frames) == len(reference)
    for frame, expected in zip(instance.frames, reference, strict=True):
        decoded = decode_frame(frame.data)
        assert decoded.dtype == expected.dtype
        np.testing.assert_array_equal(decoded, expected)
        full = frame.entry["PixelDataChecksumFromBaseToFullResolution"][-1]
        assert full == {
            "Width": expected.shape[1],
            "Height": expected.shape[0],
            "Checksum": zlib.crc32(np.ascontiguousarray(expected)),
        }
        assert frame.entry["MinPixelValue"] == expected.min()
        assert frame.entry["MaxPixelValue"] == expected.max()
        assert frame.entry["FrameSizeInBytes"] == len(frame.data)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_meta.dcm", "not a DICOM P10 file"),
        ("README.txt", "not a DICOM P10 file"),
        ("MR_truncated.dcm", "truncated: element (7FE0,0010) declares 8192 bytes but only 8130"),
        ("rtplan_truncated.dcm", "truncated"),
        ("meta_missing_tsyntax.dcm", "DICOM attribute TransferSyntaxUID does not exist"),
        ("badVR.dcm", "NumberOfFrames has the invalid value '1A'"),
        ("JPEG2000-embedded-sequence-delimiter.dcm", "The JPEG 2000 header of frame 1 claims 1024 x 3722445056"),
        ("liver_1frame.dcm", "Binary segmentation images"),
        ("DICOMDIR", "DICOM attributes StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID do not exist"),
    ],
)
def test_failure_reasons_name_the_problem(name: str, message: str) -> None:
    outcome = outcome_of(name)
    assert outcome.failure is not None
    assert message in outcome.failure.message


def test_padding_is_a_warning_not_a_failure() -> None:
    instance = outcome_of("MR_small_padded.dcm").instance
    assert instance is not None
    assert [caveat.type for caveat in instance.caveats] == ["PixelDataPadding"]
    assert instance.caveats[0].message.startswith("The file was imported but")


def test_jpeg_extended_12_bit_decodes_through_imagecodecs() -> None:
    """pydicom's plugins reject this 12-bit JPEG; libjpeg-turbo in imagecodecs reads it."""
    instance = outcome_of("JPEG-lossy.dcm").instance
    assert instance is not None
    decoded = decode_frame(instance.frames[0].data)
    assert decoded.shape == (1024, 256) and decoded.dtype == np.uint16
    assert 0 < decoded.max() < 4096


def test_ybr_sources_are_stored_as_rgb() -> None:
    """YBR_FULL_422 JPEG frames are stored as the RGB pydicom's pixel_array gives; metadata keeps the source value."""
    instance = outcome_of("SC_rgb_dcmtk_+eb+cy+np.dcm").instance
    assert instance is not None
    assert instance.instance["DICOM"]["PhotometricInterpretation"] == "YBR_FULL_422"
    decoded = decode_frame(instance.frames[0].data)
    reference = reference_frames(str(get_testdata_file("SC_rgb_dcmtk_+eb+cy+np.dcm")))
    assert reference is not None
    np.testing.assert_array_equal(decoded, reference[0])
