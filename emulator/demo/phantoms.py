"""Deterministic synthetic DICOM P10 files (numpy + pydicom) for tests, the bench and the demo seed.

Every writer returns `(file name, bytes)` pairs; the same arguments always give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)

PhantomFile = tuple[str, bytes]

# The JPEG 2000 encoder logs one INFO line per tile: noise in `ahi local --demo`'s output.
logging.getLogger("openjpeg").setLevel(logging.WARNING)

_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
_CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
_MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
_US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
_US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
_IMPLEMENTATION_UID = "2.25.237925519178716203596052963574932093446"

#: A head after the 3D Shepp-Logan geometry (Kak & Slaney) with plausible CT numbers (docs/console-help.md) instead of its
#: attenuation differences: each ellipsoid paints its tissue over the ones before it.
#: Centre x, y, z; semi-axes a, b, c; rotation (deg); HU. Values: air -1000, fat -100, soft tissue 40,
#: bone 700 (diploe) to 1500 (cortical tables), grey matter 40, white matter 25, CSF 10.
_HEAD = (
    (0.0, 0.0, 0.0, 0.75, 0.97, 0.94, 0, 40.0),  # scalp
    (0.0, 0.0, 0.0, 0.725, 0.95, 0.92, 0, -100.0),  # subcutaneous fat
    (0.0, 0.0, 0.0, 0.69, 0.92, 0.90, 0, 1500.0),  # outer table of the skull
    (0.0, -0.009, 0.0, 0.678, 0.899, 0.89, 0, 750.0),  # diploe
    (0.0, -0.0184, 0.0, 0.6624, 0.874, 0.88, 0, 1400.0),  # inner table
    (0.0, -0.0184, 0.0, 0.645, 0.855, 0.87, 0, 40.0),  # cortex (grey matter)
    (0.0, -0.0184, 0.0, 0.56, 0.76, 0.78, 0, 25.0),  # white matter
    (0.22, 0.0, -0.25, 0.11, 0.31, 0.22, -18, 10.0),  # right lateral ventricle (CSF)
    (-0.22, 0.0, -0.25, 0.16, 0.41, 0.28, 18, 10.0),  # left lateral ventricle (CSF)
    (0.0, 0.35, -0.25, 0.21, 0.25, 0.41, 0, 42.0),  # deep grey nuclei
    (0.0, 0.1, -0.25, 0.046, 0.046, 0.05, 0, 70.0),  # small haemorrhage
    (0.0, -0.1, -0.25, 0.046, 0.046, 0.05, 0, 300.0),  # calcification (shows in the bone window)
    (-0.08, -0.605, -0.25, 0.046, 0.023, 0.05, 0, 55.0),
    (0.0, -0.606, -0.25, 0.023, 0.023, 0.02, 0, 55.0),
    (0.06, -0.605, -0.25, 0.023, 0.046, 0.02, 0, 55.0),
)


def uid(*parts: object) -> str:
    """A deterministic UID under the 2.25 (UUID-derived) root."""
    digest = hashlib.sha256("/".join(str(part) for part in parts).encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def shepp_logan_hu(size: int, z: float) -> np.ndarray:
    """One axial slice (z in -1..1) of the phantom head in Hounsfield units, air -1000."""
    axis = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    x, y = np.meshgrid(axis, -axis)
    image = np.full((size, size), -1000.0, dtype=np.float32)
    for cx, cy, cz, a, b, c, degrees, value in _HEAD:
        dz = ((z - cz) / c) ** 2
        if dz >= 1.0:
            continue
        theta = np.deg2rad(degrees)
        xr = (x - cx) * np.cos(theta) + (y - cy) * np.sin(theta)
        yr = -(x - cx) * np.sin(theta) + (y - cy) * np.cos(theta)
        image[(xr / a) ** 2 + (yr / b) ** 2 <= 1.0 - dz] = value
    return image


@dataclass(frozen=True)
class Subject:
    """Who and which study a phantom series belongs to."""

    patient_id: str = "AHI-DEMO-001"
    patient_name: str = "Phantom^Shepp^Logan"
    birth_date: str = "19700101"
    sex: str = "O"
    study_key: str = "study-1"
    accession: str = "ACC0001"
    study_date: str = "20240315"
    study_time: str = "093000"
    study_description: str = "Synthetic phantom study"

    @property
    def study_uid(self) -> str:
        """The study's deterministic UID."""
        return uid("study", self.patient_id, self.study_key)


def _base(subject: Subject, sop_class: str, sop_uid: str, series_uid: str, modality: str) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = subject.study_date
    ds.StudyTime = subject.study_time
    ds.SeriesDate = subject.study_date
    ds.AccessionNumber = subject.accession
    ds.Modality = modality
    ds.Manufacturer = "ahi phantoms"
    ds.InstitutionName = "Loopback General"
    ds.ReferringPhysicianName = "Referrer^Demo"
    ds.StudyDescription = subject.study_description
    ds.PatientName = subject.patient_name
    ds.PatientID = subject.patient_id
    ds.PatientBirthDate = subject.birth_date
    ds.PatientSex = subject.sex
    ds.StudyInstanceUID = subject.study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.FrameOfReferenceUID = uid("for", series_uid)
    return ds


def _set_pixels(ds: Dataset, pixels: np.ndarray, *, bits_stored: int, photometric: str) -> None:
    ds.Rows, ds.Columns = pixels.shape[-3:-1] if photometric == "RGB" else pixels.shape[-2:]
    ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
    ds.PhotometricInterpretation = photometric
    if photometric == "RGB":
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.PixelData = np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder("<")).tobytes()


def _write(ds: Dataset, transfer_syntax: UID = ExplicitVRLittleEndian) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = _IMPLEMENTATION_UID
    meta.ImplementationVersionName = "AHI_PHANTOM_1"
    ds.file_meta = meta
    if transfer_syntax != ExplicitVRLittleEndian:
        ds.compress(
            transfer_syntax,
            encoding_plugin="pylibjpeg" if transfer_syntax == JPEG2000Lossless else "",
            generate_instance_uid=False,
        )
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _axial_slices(
    subject: Subject, series_key: str, modality: str, sop_class: str, slices: int, extent: float
) -> Iterator[tuple[int, float, Dataset]]:
    """(index, z in -extent..extent, dataset with identity and InstanceNumber) for each slice of a series."""
    series_uid = uid("series", subject.study_uid, series_key)
    for index in range(slices):
        z = -extent + 2 * extent * index / max(slices - 1, 1)
        ds = _base(subject, sop_class, uid(modality.lower(), series_uid, index), series_uid, modality)
        ds.InstanceNumber = index + 1
        yield index, z, ds


def ct_series(
    slices: int = 8, size: int = 512, *, subject: Subject = Subject(), series_key: str = "ct", seed: int = 1
) -> list[PhantomFile]:
    """Axial CT of the phantom head: 16-bit signed, slope 1 / intercept -1024, brain window."""
    rng = np.random.default_rng(seed)
    files = []
    for index, z, ds in _axial_slices(subject, series_key, "CT", _CT_IMAGE, slices, 0.6):
        hu = shepp_logan_hu(size, z) + rng.normal(0.0, 6.0, (size, size)).astype(np.float32)
        stored = np.clip(np.rint(hu + 1024.0), -2048, 4095).astype(np.int16)
        ds.SeriesNumber = 2
        ds.SeriesDescription = "Head axial 5mm"
        ds.BodyPartExamined = "HEAD"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SliceThickness = "5"
        ds.PixelSpacing = ["0.5", "0.5"]
        ds.ImagePositionPatient = ["-128", "-128", f"{index * 5.0:.1f}"]
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ds.WindowCenter = "40"
        ds.WindowWidth = "80"
        _set_pixels(ds, stored, bits_stored=16, photometric="MONOCHROME2")
        files.append((f"ct/{series_key}-{index + 1:04d}.dcm", _write(ds)))
    return files


_T1_HU = (-1000.0, -100.0, 10.0, 25.0, 40.0, 70.0, 700.0, 1500.0)
_T1_SIGNAL = (0.0, 1900.0, 300.0, 1500.0, 1100.0, 1300.0, 250.0, 80.0)


def mr_series(
    slices: int = 6, size: int = 256, *, subject: Subject = Subject(), series_key: str = "mr", seed: int = 2
) -> list[PhantomFile]:
    """T1-like MR of the same head: 12 bits stored in 16, unsigned, JPEG 2000 lossless."""
    rng = np.random.default_rng(seed)
    files = []
    for index, z, ds in _axial_slices(subject, series_key, "MR", _MR_IMAGE, slices, 0.5):
        hu = shepp_logan_hu(size, z)
        # T1 contrast by tissue: fat bright, white matter brighter than grey, CSF and bone dark.
        signal = np.interp(hu, _T1_HU, _T1_SIGNAL) + rng.normal(0, 20, hu.shape)
        stored = np.clip(np.rint(signal), 0, 4095).astype(np.uint16)
        ds.SeriesNumber = 3
        ds.SeriesDescription = "T1 axial"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M"]
        ds.ScanningSequence = "SE"
        ds.MagneticFieldStrength = "1.5"
        ds.WindowCenter = "1000"
        ds.WindowWidth = "2000"
        _set_pixels(ds, stored, bits_stored=12, photometric="MONOCHROME2")
        files.append((f"mr/{series_key}-{index + 1:04d}.dcm", _write(ds, JPEG2000Lossless)))
    return files


def _ultrasound_rgb(rows: int, cols: int, phase: float) -> np.ndarray:
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    radius = np.hypot(x - cols / 2, y)
    angle = np.arctan2(x - cols / 2, y + 1e-3)
    sector = (radius < rows * 0.95) & (np.abs(angle) < 0.7)
    speckle = (np.sin(radius * 0.9 + phase) * np.cos(angle * 40) + 1.0) * 90
    grey = np.where(sector, speckle, 0).astype(np.float32)
    rgb = np.stack([grey, grey, grey], axis=-1)
    doppler = sector & (np.hypot(x - cols / 2, y - rows * 0.5) < rows * 0.12)
    rgb[doppler] = (np.array([200.0, 30.0, 40.0]) + 40 * np.sin(phase)).clip(0, 255)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def ultrasound_rgb(*, subject: Subject = Subject(), rows: int = 240, cols: int = 320) -> list[PhantomFile]:
    """One RGB ultrasound image with a colour-Doppler blob, 8-bit, pixel-interleaved."""
    series_uid = uid("series", subject.study_uid, "us")
    ds = _base(subject, _US_IMAGE, uid("us", series_uid, 0), series_uid, "US")
    ds.SeriesNumber = 4
    ds.SeriesDescription = "Doppler"
    ds.InstanceNumber = 1
    _set_pixels(ds, _ultrasound_rgb(rows, cols, 0.0), bits_stored=8, photometric="RGB")
    return [("us/doppler-0001.dcm", _write(ds))]


def multiframe_cine(*, subject: Subject = Subject(), frames: int = 12, size: int = 128) -> list[PhantomFile]:
    """One multi-frame instance: an 8-bit grey ultrasound cine loop, RLE lossless."""
    series_uid = uid("series", subject.study_uid, "cine")
    ds = _base(subject, _US_MULTIFRAME, uid("cine", series_uid, 0), series_uid, "US")
    ds.SeriesNumber = 5
    ds.SeriesDescription = "Cine loop"
    ds.InstanceNumber = 1
    ds.NumberOfFrames = frames
    ds.FrameTime = "40"
    ds.FrameIncrementPointer = 0x00181063
    cine = np.stack([_ultrasound_rgb(size, size, 0.5 * index)[..., 0] for index in range(frames)])
    _set_pixels(ds, cine, bits_stored=8, photometric="MONOCHROME2")
    return [("cine/cine-0001.dcm", _write(ds, RLELossless))]


def split_series(*, subject: Subject = Subject(), size: int = 64) -> list[PhantomFile]:
    """One CT series whose last two instances carry another PatientName: it must split into two image sets."""
    files = ct_series(4, size, subject=subject, series_key="split")
    renamed = Subject(**{**subject.__dict__, "patient_name": "Phantom^Renamed"})
    other = ct_series(4, size, subject=renamed, series_key="split")
    return files[:2] + [(name.replace("split-", "split-renamed-"), data) for name, data in other[2:]]


def broken_files(*, subject: Subject = Subject()) -> list[PhantomFile]:
    """Files an import must fail, each for a different reason a person can act on."""
    good = ct_series(1, 64, subject=subject, series_key="broken")[0][1]
    files: list[PhantomFile] = [
        ("broken/not-dicom.dcm", b"This is a radiology report in plain text, not a DICOM file.\n" * 4),
        ("broken/truncated.dcm", good[: len(good) // 2]),
        ("broken/unsupported-syntax.dcm", _with_transfer_syntax(good, "1.2.840.10008.1.2.4.100")),
        ("broken/missing-transfer-syntax.dcm", _with_transfer_syntax(good, None)),
        ("broken/missing-series-uid.dcm", _edited(good, lambda ds: delattr(ds, "SeriesInstanceUID"))),
        ("broken/patient-id-too-long.dcm", _edited(good, lambda ds: setattr(ds, "PatientID", "P" * 70))),
    ]
    return files


def _with_transfer_syntax(data: bytes, transfer_syntax: str | None) -> bytes:
    """Declare another transfer syntax (pixels encapsulated as one fragment), or none at all."""
    ds = pydicom.dcmread(io.BytesIO(data))
    if transfer_syntax is None:
        del ds.file_meta.TransferSyntaxUID
    else:
        ds.file_meta.TransferSyntaxUID = transfer_syntax
        ds.PixelData = encapsulate([ds.PixelData])
        ds["PixelData"].VR = "OB"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=False, implicit_vr=False, little_endian=True)
    return buffer.getvalue()


def _edited(data: bytes, change: Callable[[Dataset], None]) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    pydicom_log = logging.getLogger("pydicom")
    level = pydicom_log.level
    pydicom_log.setLevel(logging.ERROR)  # the edits break value rules on purpose
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            change(ds)
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
    finally:
        pydicom_log.setLevel(level)
    return buffer.getvalue()
