"""Decoding an instance's pixel data into frames of native samples, with failures a person can act on.

Colour: frames of three-sample images that are transcoded are stored as RGB, pixel-interleaved. YBR_FULL
and YBR_FULL_422 sources are converted to RGB (pydicom's default `pixel_array` output, and what libjpeg
hands back for JPEG), YBR_RCT/YBR_ICT come back as RGB from the JPEG 2000 decoders. The JPEG 2000 family,
HTJ2K included, can signal only RGB or greyscale components (PS3.5 8.2.4 allows no YBR_FULL_422 for it), so
the instance metadata of a transcoded colour instance says RGB with PlanarConfiguration 0: served pixels
and metadata agree (docs/stored-syntaxes.md#colour). Frames kept in their original encoding keep the
file's PhotometricInterpretation, which describes that encoding.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import imagecodecs
import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.pixels import get_decoder
from pydicom.pixels.utils import as_pixel_options, get_expected_length
from pydicom.uid import UID

from ahi.emulator.dicom.codestreams import FrameShape, check_frame_header, scan_size, starts_codestream
from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.fragments import fragments
from ahi.emulator.dicom.limits import check_frame_claims, mib
from ahi.emulator.dicom.parse import P10
from ahi.emulator.dicom.transfer_syntaxes import JPEG_10918_TRANSFER_SYNTAXES

PIXEL_DATA_TAG = 0x7FE00010
_FLOAT_PIXEL_KEYWORDS = ("FloatPixelData", "DoubleFloatPixelData")
_PIXEL_MODULE = ("Rows", "Columns", "BitsAllocated", "SamplesPerPixel", "PhotometricInterpretation")
_SHAPE = ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated")


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
    if dataset.BitsAllocated not in (1, 8, 16, 32):
        raise FileFailure(f"DICOM attribute BitsAllocated is {dataset.BitsAllocated}; 1, 8, 16 or 32 is supported")
    return frame_count(dataset)


@dataclass(frozen=True)
class PixelPlan:
    """What decoding will produce, checked against the limits before anything is decoded."""

    count: int
    shape: FrameShape
    frame_bytes: int
    value_offset: int


def plan_pixels(p10: P10, transfer_syntax: str) -> PixelPlan:
    """Check the pixel module's claims, then each frame's codestream header or the native length."""
    dataset = p10.dataset
    count = check_pixel_module(dataset)
    shape = FrameShape(*(_whole_number(dataset, keyword) for keyword in _SHAPE))
    frame_bytes = check_frame_claims(shape.rows, shape.columns, shape.samples, shape.bits_allocated, count)
    element = dataset._dict[PIXEL_DATA_TAG]
    value_offset = int(getattr(element, "value_tell", -1))
    if value_offset < 0:
        raise FileFailure("The pixel data could not be located in the file")
    if UID(transfer_syntax).is_encapsulated:
        _check_fragments(p10, transfer_syntax, shape, frame_bytes, count, value_offset)
    else:
        _check_native_length(dataset, int(element.length), count)
    return PixelPlan(count, shape, frame_bytes, value_offset)


def _whole_number(dataset: Dataset, keyword: str) -> int:
    value = dataset.get(keyword)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FileFailure(f"DICOM attribute {keyword} has the invalid value {str(value)!r}") from None


def _check_fragments(
    p10: P10, transfer_syntax: str, shape: FrameShape, frame_bytes: int, count: int, value_offset: int
) -> None:
    """Every frame's header fits the pixel module, no fragment is larger than any frame could need."""
    # Lossless coders can expand incompressible data slightly; twice the decoded size is beyond any of them.
    largest = 2 * frame_bytes + 1024**2
    seen = frames = 0
    for offset, length in fragments(p10.stream, value_offset, p10.size):
        seen += 1
        if length > largest:
            raise FileFailure(
                f"A pixel data fragment holds {mib(length)}, more than a frame of {shape.rows} x {shape.columns} "
                f"could need ({mib(largest)}); the frame is not decoded"
            )
        p10.stream.seek(offset)
        head = p10.stream.read(scan_size(length))
        if starts_codestream(head, transfer_syntax):
            frames += 1
            check_frame_header(head, length, transfer_syntax, shape, frames)
    if seen < count:
        raise FileFailure(
            f"The file is truncated: DICOM attribute NumberOfFrames is {count} but the encapsulated pixel data "
            f"holds {seen} fragment(s)"
        )


def _check_native_length(dataset: Dataset, length: int, count: int) -> None:
    """Native frames must all be there; more than they need (beyond the even-length pad) is a caveat."""
    expected = get_expected_length(dataset, "bytes")
    if length < expected:
        raise FileFailure(
            f"The file is truncated: its pixel data holds {length} bytes where {count} frame(s) of the declared "
            f"pixel module need {expected}"
        )
    excess = length - expected - expected % 2
    if excess > 0:
        # The decoder reads frames from the stream and never sees the surplus, so it is reported here.
        warnings.warn(f"The pixel data holds {excess} bytes of excess padding after its frames", stacklevel=2)


def decode_frames(p10: P10, transfer_syntax: str, plan: PixelPlan) -> Iterator[np.ndarray]:
    """Every frame as rows x cols [x 3] native-endian integer samples, read and decoded one at a time."""
    done = 0
    try:
        for frame in _iter_pixels(p10, transfer_syntax, plan):
            yield native(frame)
            done += 1
    except FileFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - every decoder error becomes a failure line
        if transfer_syntax not in JPEG_10918_TRANSFER_SYNTAXES:
            raise _decode_failure(exc) from None
        yield from _decode_jpeg_with_imagecodecs(p10, plan, done, exc)
        done = plan.count
    if done < plan.count:
        raise FileFailure(f"The file is truncated: it holds {done} of its {plan.count} frames")


def encoded_frames(p10: P10, plan: PixelPlan) -> Iterator[bytes]:
    """Each frame's encoded bytes (its fragments joined), read from the stream one frame at a time."""
    p10.stream.seek(plan.value_offset)
    count = 0
    try:
        for encoded in generate_frames(p10.stream, number_of_frames=plan.count):
            count += 1
            yield encoded
    except FileFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed item list is the file's fault
        raise _decode_failure(exc) from None
    if count < plan.count:
        raise FileFailure(f"The file is truncated: it holds {count} of its {plan.count} frames")


def _iter_pixels(p10: P10, transfer_syntax: str, plan: PixelPlan) -> Iterator[np.ndarray]:
    """pydicom's decoders fed from the stream, frame by frame, with the options of the data set as parsed.

    What `iter_pixels(dataset)` does, without loading the whole (deferred) pixel data value; and unlike
    `iter_pixels(file)`, the options come from the full parse, which tolerates files whose VR encoding
    changes midway.
    """
    dataset = p10.dataset
    options = as_pixel_options(dataset)
    options["transfer_syntax_uid"] = UID(transfer_syntax)
    options["pixel_keyword"] = "PixelData"
    options["pixel_vr"] = _pixel_vr(dataset, transfer_syntax)
    p10.stream.seek(plan.value_offset)
    for frame, _ in get_decoder(UID(transfer_syntax)).iter_array(p10.stream, validate=True, raw=False, **options):
        yield frame


def _pixel_vr(dataset: Dataset, transfer_syntax: str) -> str:
    vr = dataset._dict[PIXEL_DATA_TAG].VR
    if vr in ("OB", "OW"):
        return str(vr)
    # Implicit VR: PS3.5 A.1 encodes native pixel data as OW (OB only for encapsulated).
    return "OB" if UID(transfer_syntax).is_encapsulated else "OW"


def _decode_jpeg_with_imagecodecs(p10: P10, plan: PixelPlan, start: int, cause: Exception) -> Iterator[np.ndarray]:
    """libjpeg-turbo reads some JPEG streams (e.g. 12-bit extended) that pydicom's plugins reject."""
    p10.stream.seek(plan.value_offset)
    for index, encoded in enumerate(generate_frames(p10.stream, number_of_frames=plan.count)):
        if index < start:
            continue
        try:
            frame = imagecodecs.jpeg8_decode(encoded)
        except Exception:  # noqa: BLE001
            raise _decode_failure(cause) from None
        yield native(_apply_signedness(frame, p10.dataset))


def _apply_signedness(frame: np.ndarray, dataset: Dataset) -> np.ndarray:
    """Sign-extend samples of a signed image from BitsStored (a raw decoder returns them unsigned)."""
    if dataset.get("PixelRepresentation") != 1 or frame.dtype.kind != "u":
        return frame
    bits = int(dataset.get("BitsStored") or frame.dtype.itemsize * 8)
    signed = frame.astype(np.dtype(f"i{frame.dtype.itemsize}"))
    shift = frame.dtype.itemsize * 8 - bits
    return (signed << shift) >> shift


def native(frame: np.ndarray) -> np.ndarray:
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
