"""HTJ2K sources (none in pydicom's corpus): `.203` is kept as its codestream, `.201`/`.202` are re-encoded
(docs/stored-syntaxes.md)."""

from __future__ import annotations

import io

import imagecodecs
import numpy as np
import openjpeg
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, generate_uid

from ahi.emulator.dicom.htj2k import encode_codestream, wrap_jph
from ahi.emulator.dicom.instance import ProcessedInstance, process_file


def frames_of(count: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 4096, (count, 24, 20), dtype=np.uint16)


def p10(syntax: str, fragments: list[bytes]) -> bytes:
    """A minimal multi-frame CT-like instance whose encapsulated pixel data holds `fragments`."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.2")
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = UID(syntax)
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = generate_uid(), generate_uid()
    dataset.PatientID, dataset.PatientName = "HTJ2K-1", "Source^Syntax"
    dataset.Modality = "CT"
    dataset.Rows, dataset.Columns, dataset.NumberOfFrames = 24, 20, len(fragments)
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 12, 11, 0
    dataset.PixelData = encapsulate(fragments)
    dataset["PixelData"].VR = "OB"
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def imported(data: bytes) -> ProcessedInstance:
    outcome = process_file("htj2k.dcm", data)
    assert outcome.instance is not None, outcome.failure
    return outcome.instance


@pytest.mark.parametrize("boxed", [False, True], ids=["codestream", "jph-file"])
def test_htj2k_203_is_kept_as_a_bare_codestream(boxed: bool) -> None:
    pixels = frames_of(3)
    codestreams = [encode_codestream(frame) for frame in pixels]
    fragments = [wrap_jph(stream, frame) if boxed else stream for stream, frame in zip(codestreams, pixels, strict=True)]
    instance = imported(p10("1.2.840.10008.1.2.4.203", fragments))
    assert instance.instance["StoredTransferSyntaxUID"] == "1.2.840.10008.1.2.4.203"
    assert instance.frame_suffix == ".jhc"
    for frame, stream, expected in zip(instance.frames, codestreams, pixels, strict=True):
        assert frame.data == stream, "image/jphc is the codestream itself"
        np.testing.assert_array_equal(openjpeg.decode(frame.data), expected)


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202"])
def test_lossless_htj2k_sources_are_re_encoded_as_rpcl_jph(syntax: str) -> None:
    pixels = frames_of(2)
    instance = imported(p10(syntax, [imagecodecs.htj2k_encode(frame, reversible=True) for frame in pixels]))
    assert instance.instance["StoredTransferSyntaxUID"] == "1.2.840.10008.1.2.4.202"
    assert instance.frame_suffix == ".jph"
    for frame, expected in zip(instance.frames, pixels, strict=True):
        assert frame.data[4:8] == b"jP  "
        np.testing.assert_array_equal(openjpeg.decode(frame.data), expected)
