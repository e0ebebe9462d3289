"""What an import accepts before it decodes or allocates anything (docs/import-limits.md).

Quotas are the service's own; the frame and inflation limits are ours, chosen above what real
modalities produce, because the guide names none.
"""

from __future__ import annotations

from ahi.emulator.dicom.failures import FileFailure

#: The guide's quota on each DICOM P10 file of an import job.
MAX_FILE_BYTES = 4 * 1024**3
#: The guide's quota on ImageSetMetadata per import, copy or update ("50 MB", read as MiB: the lenient reading).
MAX_METADATA_BYTES = 50 * 1024**2
METADATA_LIMIT_TEXT = "50 MB"
#: One decoded frame. Ours: a 14x17 inch film digitised at 50 um (7112 x 8636 x 16 bit) is 123 MB and
#: a 9000 x 9000 RGB photograph 243 MB; whole-slide images come as tiles of a few MB.
MAX_FRAME_BYTES = 256 * 1024**2
#: All decoded frames of one file. Ours: a 100,000 x 100,000 RGB slide level, tiled, is 30 GB.
MAX_FILE_DECODED_BYTES = 64 * 1024**3
#: A Deflated Explicit VR data set, inflated. Ours: the syntax carries reports and small images.
MAX_INFLATED_BYTES = 256 * 1024**2
#: DICOM elements of one file besides pixel data, nested ones included. Ours: pydicom keeps an object of
#: a few hundred bytes per element; an enhanced CT of 2,000 frames has about 50,000.
MAX_ELEMENTS = 500_000
#: How much of one fragment is read to find its codestream header (JPEG SOF, JPEG 2000 SIZ).
HEADER_SCAN_BYTES = 1024**2


def mib(size: int) -> str:
    """A byte count as a person reads it."""
    if size >= 1024**3:
        return f"{size / 1024**3:.0f} GB"
    return f"{size / 1024**2:.0f} MB" if size >= 1024**2 else f"{size} bytes"


def bytes_per_sample(bits_allocated: int) -> int:
    """Bytes a decoded sample occupies (1-bit data is unpacked to one byte per sample)."""
    return max(1, (bits_allocated + 7) // 8)


def check_frame_claims(rows: int, columns: int, samples: int, bits_allocated: int, frames: int) -> int:
    """Reject a pixel module whose claimed frame or file size is over the limits; the bytes of one frame."""
    if rows < 1 or columns < 1:
        raise FileFailure(f"DICOM attributes Rows x Columns are {rows} x {columns}; an image needs at least 1 x 1")
    if not 1 <= samples <= 4:
        raise FileFailure(f"DICOM attribute SamplesPerPixel is {samples}; 1 to 4 is supported")
    frame_bytes = rows * columns * samples * bytes_per_sample(bits_allocated)
    if frame_bytes > MAX_FRAME_BYTES:
        raise FileFailure(
            f"The image frame claimed by Rows x Columns of {rows} x {columns}, SamplesPerPixel {samples} and "
            f"BitsAllocated {bits_allocated} is {mib(frame_bytes)} decoded, over the frame size limit of "
            f"{mib(MAX_FRAME_BYTES)}"
        )
    if frames * frame_bytes > MAX_FILE_DECODED_BYTES:
        raise FileFailure(
            f"DICOM attribute NumberOfFrames is {frames}: {frames} frames of {mib(frame_bytes)} are over the "
            f"limit of {mib(MAX_FILE_DECODED_BYTES)} of decoded pixel data per file"
        )
    return frame_bytes
