"""Every file pydicom ships either becomes an instance or a classified failure; frames round-trip as stored."""

from __future__ import annotations

import os
import warnings
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

from ahi.emulator.dicom.frame_codecs import client_decode, unpack_bits
from ahi.emulator.dicom.instance import FileOutcome, ProcessedInstance, process_file
from ahi.emulator.dicom.stored_syntaxes import EXPLICIT_VR_LITTLE_ENDIAN, JPEG_BASELINE

FILES = sorted(path for path in get_testdata_files() if os.path.isfile(path))


def outcome_of(name: str) -> FileOutcome:
    path = get_testdata_file(name)
    assert path is not None
    return process_file(name, Path(path).read_bytes())


def reference_frames(path: str) -> np.ndarray | None:
    """pydicom's own decode as frames x rows x cols [x 3], little-endian; None if pydicom cannot decode.

    JPEG Baseline through pydicom's Pillow plugin (libjpeg-turbo, what the stored JPEG's checksum follows).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = pydicom.dcmread(path)
            plugin = "pillow" if dataset.file_meta.TransferSyntaxUID == JPEG_BASELINE else ""
            pixels = pydicom.pixels.pixel_array(dataset, decoding_plugin=plugin)
        except Exception:  # noqa: BLE001 - such files are checked by their failure line instead
            return None
    frames = int(dataset.get("NumberOfFrames") or 1)
    pixels = pixels.astype(pixels.dtype.newbyteorder("<"))
    return pixels[None] if frames == 1 else pixels


def stored_pixels(instance: ProcessedInstance, data: bytes) -> np.ndarray:
    """A stored frame decoded as a client decodes its content type."""
    dicom = instance.instance["DICOM"]
    stored = instance.instance["StoredTransferSyntaxUID"]
    if stored == EXPLICIT_VR_LITTLE_ENDIAN:
        return unpack_bits(data, dicom["Rows"], dicom["Columns"])
    return client_decode(data, stored, dicom["PhotometricInterpretation"], dicom["BitsAllocated"])


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
        decoded = stored_pixels(instance, frame.data)
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
    decoded = stored_pixels(instance, instance.frames[0].data)
    assert decoded.shape == (1024, 256) and decoded.dtype == np.uint16
    assert 0 < decoded.max() < 4096


def test_transcoded_ybr_sources_are_stored_and_described_as_rgb() -> None:
    """A YBR_FULL_422 native frame becomes RGB pixels, and the metadata says RGB, interleaved."""
    name = "SC_ybr_full_422_uncompressed.dcm"
    instance = outcome_of(name).instance
    assert instance is not None
    assert instance.instance["StoredTransferSyntaxUID"] == "1.2.840.10008.1.2.4.202"
    assert instance.instance["DICOM"]["PhotometricInterpretation"] == "RGB"
    assert instance.instance["DICOM"]["PlanarConfiguration"] == 0
    reference = reference_frames(str(get_testdata_file(name)))
    assert reference is not None
    np.testing.assert_array_equal(stored_pixels(instance, instance.frames[0].data), reference[0])


def test_kept_jpeg_keeps_its_bytes_and_its_photometric_interpretation() -> None:
    name = "SC_rgb_dcmtk_+eb+cy+np.dcm"
    instance = outcome_of(name).instance
    assert instance is not None
    assert instance.instance["StoredTransferSyntaxUID"] == JPEG_BASELINE
    assert instance.instance["DICOM"]["PhotometricInterpretation"] == "YBR_FULL_422"
    dataset = pydicom.dcmread(str(get_testdata_file(name)))
    source = next(pydicom.encaps.generate_frames(dataset.PixelData, number_of_frames=1))
    assert instance.frames[0].data == source.removesuffix(b"\x00"), "the JPEG stream, without the fragment's pad"
    assert instance.frames[0].data.endswith(b"\xff\xd9")


def test_binary_segmentation_keeps_its_bits() -> None:
    instance = outcome_of("liver_1frame.dcm").instance
    assert instance is not None
    assert instance.instance["StoredTransferSyntaxUID"] == EXPLICIT_VR_LITTLE_ENDIAN
    dataset = pydicom.dcmread(str(get_testdata_file("liver_1frame.dcm")))
    assert instance.frames[0].data == dataset.PixelData[: len(instance.frames[0].data)]
