"""The synthetic phantoms: deterministic, of the promised kinds, and broken where they should be."""

from __future__ import annotations

import io

import numpy as np
import pydicom

from ahi.emulator.demo import phantoms
from ahi.emulator.dicom.instance import process_file


def test_phantoms_are_deterministic() -> None:
    assert phantoms.ct_series(2, 64) == phantoms.ct_series(2, 64)
    assert phantoms.mr_series(2, 64) == phantoms.mr_series(2, 64)
    assert phantoms.broken_files() == phantoms.broken_files()


def test_ct_is_16_bit_signed_with_rescale_and_window() -> None:
    name, data = phantoms.ct_series(1)[0]
    dataset = pydicom.dcmread(io.BytesIO(data))
    assert name.endswith(".dcm")
    assert (dataset.Rows, dataset.Columns, dataset.BitsAllocated, dataset.PixelRepresentation) == (512, 512, 16, 1)
    assert (dataset.RescaleSlope, dataset.RescaleIntercept) == (1, -1024)
    assert dataset.WindowCenter == 40 and dataset.WindowWidth == 80
    hu = dataset.pixel_array.astype(np.int32) - 1024
    assert hu.min() < -900 and hu.max() > 500, "air outside, bone in the skull"


def test_mr_ultrasound_and_cine() -> None:
    mr = pydicom.dcmread(io.BytesIO(phantoms.mr_series(1)[0][1]))
    assert (mr.BitsStored, mr.PixelRepresentation, mr.file_meta.TransferSyntaxUID) == (12, 0, "1.2.840.10008.1.2.4.90")
    assert mr.pixel_array.max() < 4096
    us = pydicom.dcmread(io.BytesIO(phantoms.ultrasound_rgb()[0][1]))
    assert (us.SamplesPerPixel, us.PhotometricInterpretation) == (3, "RGB")
    cine = pydicom.dcmread(io.BytesIO(phantoms.multiframe_cine()[0][1]))
    assert cine.NumberOfFrames == 12 and cine.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"


def test_every_phantom_imports() -> None:
    files = (
        phantoms.ct_series(2, 64) + phantoms.mr_series(2, 64) + phantoms.ultrasound_rgb() + phantoms.multiframe_cine()
    )
    for name, data in files:
        outcome = process_file(name, data)
        assert outcome.instance is not None, (name, outcome.failure)
        assert outcome.instance.frames


def test_broken_files_fail_each_for_its_reason() -> None:
    reasons = {name: process_file(name, data).failure for name, data in phantoms.broken_files()}
    messages = {name.split("/")[-1]: failure.message for name, failure in reasons.items() if failure is not None}
    assert len(messages) == len(reasons)
    assert "not a DICOM P10 file" in messages["not-dicom.dcm"]
    assert "truncated" in messages["truncated.dcm"]
    assert "1.2.840.10008.1.2.4.100" in messages["unsupported-syntax.dcm"]
    assert "not supported" in messages["unsupported-syntax.dcm"]
    assert messages["missing-transfer-syntax.dcm"] == "DICOM attribute TransferSyntaxUID does not exist"
    assert messages["missing-series-uid.dcm"] == "DICOM attribute SeriesInstanceUID does not exist"
    assert "PatientID is 70 characters long; the import limit is 64" in messages["patient-id-too-long.dcm"]
