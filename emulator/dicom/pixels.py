"""Decoding an instance's pixel data into frames of native samples, with failures a person can act on.

Colour: frames of three-sample images are stored as RGB, pixel-interleaved. YBR_FULL and YBR_FULL_422
sources are converted to RGB (pydicom's default `pixel_array` output, and what libjpeg hands back for
JPEG), YBR_RCT/YBR_ICT come back as RGB from the JPEG 2000 decoders. The JPEG 2000 family, HTJ2K
included, can signal only RGB or greyscale components (PS3.5 8.2.4 allows no YBR_FULL_422 for it), so an
HTJ2K archive such as HealthImaging's holds RGB; the instance metadata keeps the file's own
PhotometricInterpretation, as it keeps the original TransferSyntaxUID.
"""

from __future__ import annotations

from collections.abc import Iterator

import imagecodecs
import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.pixels import iter_pixels

from emulator.dicom.failures import FileFailure
from emulator.dicom.transfer_syntaxes import JPEG_10918_TRANSFER_SYNTAXES

PIXEL_DATA_TAG = 0x7FE00010
_FLOAT_PIXEL_KEYWORDS = ("FloatPixelData", "DoubleFloatPixelData")
_PIXEL_MODULE = ("Rows", "Columns", "BitsAllocated", "SamplesPerPixel", "PhotometricInterpretation")
_SEGMENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def has_pixels(dataset: Dataset) -> bool:
    """Whether the instance carries image pixel data (instances without it import with no frames)."""
    return PIXEL_DATA_TAG in dataset or any(keyword in dataset for keyword in _FLOAT_PIXEL_KEYWORDS)


def frame_count(dataset: Dataset) -> int:
    """NumberOfFrames, validated (absent means one frame)."""
    raw = dataset.get("NumberOfFrames")
    if raw in (None, ""):
        return 1
    try:
        count = int(str(raw).strip())
    except ValueError:
        raise FileFailure(f"DICOM attribute NumberOfFrames has the invalid value {str(raw)!r}") from None
    if count < 1:
        raise FileFailure(f"DICOM attribute NumberOfFrames is {count}; an image needs at least one frame")
    return count


def check_pixel_module(dataset: Dataset) -> int:
    """Reject pixel data that cannot be stored, before decoding it; returns the number of frames."""
    if any(keyword in dataset for keyword in _FLOAT_PIXEL_KEYWORDS):
        raise FileFailure("Float and double float pixel data are not supported")
    for keyword in _PIXEL_MODULE:
        if dataset.get(keyword) in (None, ""):
            raise FileFailure(f"DICOM attribute {keyword} does not exist")
    if dataset.BitsAllocated == 1 and dataset.get("SOPClassUID") == _SEGMENTATION_SOP_CLASS:
        raise FileFailure("Binary segmentation images (BitsAllocated 1) are not supported")
    if dataset.BitsAllocated not in (1, 8, 16, 32):
        raise FileFailure(f"DICOM attribute BitsAllocated is {dataset.BitsAllocated}; 1, 8, 16 or 32 is supported")
    return frame_count(dataset)


def decode_frames(dataset: Dataset, transfer_syntax: str) -> Iterator[np.ndarray]:
    """Every frame as rows x cols [x 3] native-endian integer samples, one at a time."""
    count = check_pixel_module(dataset)
    done = 0
    try:
        for frame in iter_pixels(dataset):
            yield _native(frame)
            done += 1
    except FileFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - every decoder error becomes a failure line
        if transfer_syntax not in JPEG_10918_TRANSFER_SYNTAXES:
            raise _decode_failure(exc) from None
        yield from _decode_jpeg_with_imagecodecs(dataset, count, done, exc)
        done = count
    if done < count:
        raise FileFailure(f"The file is truncated: it holds {done} of its {count} frames")


def _decode_jpeg_with_imagecodecs(dataset: Dataset, count: int, start: int, cause: Exception) -> Iterator[np.ndarray]:
    """libjpeg-turbo reads some JPEG streams (e.g. 12-bit extended) that pydicom's plugins reject."""
    fragments = generate_frames(dataset.PixelData, number_of_frames=count)
    for index, encoded in enumerate(fragments):
        if index < start:
            continue
        try:
            frame = imagecodecs.jpeg8_decode(encoded)
        except Exception:  # noqa: BLE001
            raise _decode_failure(cause) from None
        yield _native(_apply_signedness(frame, dataset))


def _apply_signedness(frame: np.ndarray, dataset: Dataset) -> np.ndarray:
    """Sign-extend samples of a signed image from BitsStored (a raw decoder returns them unsigned)."""
    if dataset.get("PixelRepresentation") != 1 or frame.dtype.kind != "u":
        return frame
    bits = int(dataset.get("BitsStored") or frame.dtype.itemsize * 8)
    signed = frame.astype(np.dtype(f"i{frame.dtype.itemsize}"))
    shift = frame.dtype.itemsize * 8 - bits
    return (signed << shift) >> shift


def _native(frame: np.ndarray) -> np.ndarray:
    """Native byte order, contiguous, integer samples."""
    if frame.dtype.kind not in "iub":
        raise FileFailure(f"Pixel samples of type {frame.dtype} are not supported")
    if frame.dtype.kind == "b":
        frame = frame.astype(np.uint8)
    if not frame.dtype.isnative:
        frame = frame.astype(frame.dtype.newbyteorder("="))
    return np.ascontiguousarray(frame)


def _decode_failure(exc: Exception) -> FileFailure:
    text = " ".join(str(exc).split())
    if "less than expected" in text:
        return FileFailure(f"The file is truncated: {text}")
    if isinstance(exc, (AttributeError, KeyError)) and "Missing required element" in text:
        keyword = text.split("'")[1] if "'" in text else text
        return FileFailure(f"DICOM attribute {keyword.replace(' ', '')} does not exist")
    return FileFailure(f"The pixel data could not be decoded: {text}")
