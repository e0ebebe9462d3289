"""What an imported frame is stored as, and the content type GetImageFrame answers with (docs/stored-syntaxes.md).

Some sources keep their original encoding (JPEG baseline, JPEG 2000 lossy-allowed, HTJ2K lossy-allowed,
binary segmentations in Explicit VR Little Endian); every other frame is transcoded to the data store's
`losslessStorageFormat`. The stored form is recorded per instance as `StoredTransferSyntaxUID` and per
frame file as its name's suffix, from which GetImageFrame takes its `Content-Type`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Annotations only: GetImageFrame imports this module, and serving a frame must not load pydicom.
    from pydicom.dataset import Dataset

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG_2000 = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"
SEGMENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"

#: CreateDatastore `losslessStorageFormat` (botocore's enum) to the syntax transcoded frames are stored in.
LOSSLESS_FORMATS: dict[str, str] = {"HTJ2K": HTJ2K_LOSSLESS_RPCL, "JPEG_2000_LOSSLESS": JPEG_2000_LOSSLESS}
DEFAULT_LOSSLESS_FORMAT = "HTJ2K"

#: Sources stored as they arrive (the current guide's table marks them; .203 per its pixel-verification page).
KEPT_AS_IS = frozenset({JPEG_BASELINE, JPEG_2000, HTJ2K})


@dataclass(frozen=True)
class StoredForm:
    """One stored syntax: its frame files' suffix and the content type they are served with."""

    uid: str
    suffix: str
    content_type: str


#: GetImageFrame content types as botocore 1.44.5's model documents them; `.90` (JPEG 2000 Lossless, a
#: data store's alternative format) is not in that list: a bare codestream, so `image/j2c` like `.91` (our choice).
STORED_FORMS: dict[str, StoredForm] = {
    HTJ2K_LOSSLESS_RPCL: StoredForm(HTJ2K_LOSSLESS_RPCL, ".jph", "image/jph"),
    HTJ2K: StoredForm(HTJ2K, ".jhc", "image/jphc"),
    JPEG_2000: StoredForm(JPEG_2000, ".j2c", "image/j2c"),
    JPEG_2000_LOSSLESS: StoredForm(JPEG_2000_LOSSLESS, ".j2k", "image/j2c"),
    JPEG_BASELINE: StoredForm(JPEG_BASELINE, ".jpg", "image/jpeg"),
    EXPLICIT_VR_LITTLE_ENDIAN: StoredForm(EXPLICIT_VR_LITTLE_ENDIAN, ".bin", "application/octet-stream"),
}
_BY_SUFFIX = {form.suffix: form for form in STORED_FORMS.values()}


def is_binary_segmentation(dataset: Dataset) -> bool:
    """A Segmentation instance with one-bit samples (SegmentationType BINARY)."""
    return dataset.get("SOPClassUID") == SEGMENTATION_SOP_CLASS and dataset.get("BitsAllocated") == 1


def stored_syntax(source: str, dataset: Dataset, lossless_format: str | None) -> str:
    """The transfer syntax an instance's frames are stored in, given its source syntax and the data store's format."""
    if source in KEPT_AS_IS:
        return source
    if source == EXPLICIT_VR_LITTLE_ENDIAN and is_binary_segmentation(dataset):
        return source
    return LOSSLESS_FORMATS[lossless_format or DEFAULT_LOSSLESS_FORMAT]


def is_transcoded(stored: str) -> bool:
    """Whether frames are re-encoded (decoded pixels become the stored frame) rather than kept."""
    return stored in LOSSLESS_FORMATS.values()


def content_type_of(path: str) -> str:
    """The GetImageFrame content type of a stored frame file; frames stored before suffixes varied are HTJ2K."""
    dot = path.rfind(".")
    form = _BY_SUFFIX.get(path[dot:]) if dot >= 0 else None
    return (form or STORED_FORMS[HTJ2K_LOSSLESS_RPCL]).content_type
