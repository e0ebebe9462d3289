"""Reading one P10 object with pydicom and rejecting what the service would reject before pixels."""

from __future__ import annotations

import logging
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomFileLike
from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian

from ahi.emulator.dicom.failures import FileFailure, ImportCaveat
from ahi.emulator.dicom.source import inflate_into, size_of, spooled
from ahi.emulator.dicom.structure import survey
from ahi.emulator.dicom.transfer_syntaxes import SUPPORTED_TRANSFER_SYNTAXES

_UNDEFINED_LENGTH = 0xFFFFFFFF
#: Values longer than this stay in the stream until used (pixel data is read frame by frame).
DEFER_BYTES = 64 * 1024
_DEFLATED = "1.2.840.10008.1.2.1.99"
_REQUIRED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")

#: docs/service.md#length-limits-at-import: (keyword, limit, whether the limit is on the value rather than its length).
LENGTH_LIMITS: tuple[tuple[str, int, bool], ...] = (
    ("PatientID", 64, False),
    ("PatientName", 256, False),
    ("PatientBirthDate", 18, False),
    ("PatientSex", 16, False),
    ("StudyInstanceUID", 64, False),
    ("StudyID", 16, False),
    ("StudyDescription", 64, False),
    ("NumberOfStudyRelatedSeries", 10000, True),
    ("NumberOfStudyRelatedInstances", 10000, True),
    ("AccessionNumber", 16, False),
    ("StudyDate", 18, False),
    ("StudyTime", 28, False),
)

#: pydicom's warnings that describe a file that still imports; shown as WARNING lines (codes are ours).
_CAVEAT_PATTERNS: tuple[tuple[str, int, str], ...] = (
    ("excess padding", 45331, "PixelDataPadding"),
    ("Expected explicit VR, but found implicit VR", 45332, "TransferSyntaxMismatch"),
    ("Expected implicit VR, but found explicit VR", 45332, "TransferSyntaxMismatch"),
    ("Invalid value for VR", 45333, "InvalidAttributeValue"),
)


class CaveatCollector:
    """Turns pydicom's warnings during one file's processing into import caveats."""

    def __init__(self) -> None:
        self.caveats: list[ImportCaveat] = []

    def add(self, caveat: ImportCaveat) -> None:
        """Record a caveat once."""
        if caveat not in self.caveats:
            self.caveats.append(caveat)

    @contextmanager
    def capture(self) -> Iterator[None]:
        """Collect the warnings this thread raises inside the block (pydicom also logs them; silence that).

        Only this thread's: files are read on several threads beside the console's, and
        `warnings.catch_warnings` swaps process-wide state, so one thread's block took another's warnings
        (a clean file reported a caveat) or lost its own.
        """
        _route_warnings()
        logger = logging.getLogger("pydicom")
        previous = logger.level
        logger.setLevel(logging.CRITICAL)
        caught: list[str] = []
        outer, _capturing.sink = getattr(_capturing, "sink", None), caught
        try:
            yield
        finally:
            _capturing.sink = outer
            logger.setLevel(previous)
        for text in caught:
            self.add(_caveat_for(text))


_capturing = threading.local()
_route_lock = threading.Lock()


def _route_warnings() -> None:
    """Once per process: UserWarnings raised on a thread inside `capture` go to that thread's list.

    Every other warning, and every warning of other threads, goes to the hook that was there before.
    UserWarnings are always delivered (not once per code location) so the second file with the same
    problem is reported too.
    """
    with _route_lock:
        if getattr(warnings.showwarning, "_ahi_routed", False):
            return
        shown = warnings.showwarning

        def route(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None) -> None:
            sink = getattr(_capturing, "sink", None)
            if sink is not None and issubclass(category, UserWarning):
                sink.append(str(message))
                return
            shown(message, category, filename, lineno, file, line)

        route._ahi_routed = True  # type: ignore[attr-defined]
        warnings.showwarning = route
        warnings.filterwarnings("always", category=UserWarning, module=r"(pydicom|ahi\.emulator\.dicom)(\.|$)")


def _caveat_for(text: str) -> ImportCaveat:
    for needle, code, kind in _CAVEAT_PATTERNS:
        if needle in text:
            return ImportCaveat(code, kind, f"The file was imported but {text[0].lower()}{text[1:]}")
    return ImportCaveat(45339, "NonConformantDICOM", f"The file was imported but the DICOM reader reported: {text}")


@dataclass
class P10:
    """A parsed file: its data set (large values deferred) and the seekable P10 stream they are read from.

    For Deflated Explicit VR the stream is the inflated rebuild (declared Explicit VR Little Endian),
    while `dataset.file_meta` keeps the file's own File Meta Information.
    """

    dataset: Dataset
    stream: BinaryIO
    size: int


def read_p10(source: BinaryIO, resources: ExitStack) -> P10:
    """Parse a DICOM P10 stream, or raise a FileFailure saying what is wrong with it.

    Values over DEFER_BYTES (pixel data among them) stay in the stream until asked for; anything
    opened here (an inflated copy) is closed with `resources`.
    """
    size = size_of(source)
    if size == 0:
        raise FileFailure("The file is empty; it is not a DICOM P10 file.")
    source.seek(0)
    try:
        read_preamble(source, False)
        meta = _read_file_meta_info(source)
    except InvalidDicomError:
        raise FileFailure(
            "The file is not a DICOM P10 file: it lacks the 128-byte preamble, the 'DICM' prefix "
            "or the File Meta Information."
        ) from None
    except (EOFError, OSError, struct.error) as exc:
        raise FileFailure(f"The file is truncated: it ends inside its File Meta Information ({exc}).") from None
    transfer_syntax = meta.get("TransferSyntaxUID")
    if not transfer_syntax:
        raise FileFailure("DICOM attribute TransferSyntaxUID does not exist")
    if transfer_syntax not in SUPPORTED_TRANSFER_SYNTAXES:
        raise FileFailure(
            f"Transfer syntax {transfer_syntax} ({pydicom.uid.UID(transfer_syntax).name}) is not supported; "
            "see the supported transfer syntaxes of the DICOM import."
        )
    stream, start = source, source.tell()
    syntax = pydicom.uid.UID(transfer_syntax)
    if transfer_syntax == _DEFLATED:
        stream = resources.enter_context(spooled())
        start = _inflated_p10(source, meta, stream)
        size = size_of(stream)
    survey(stream, start, size, implicit=syntax.is_implicit_VR, little=syntax.is_little_endian)
    stream.seek(0)
    dataset = pydicom.dcmread(stream, force=False, defer_size=DEFER_BYTES)
    if transfer_syntax == _DEFLATED:
        dataset.file_meta = meta
    else:
        _check_complete(dataset, size)
    return P10(dataset, stream, size)


def _inflated_p10(source: BinaryIO, meta: FileMetaDataset, target: BinaryIO) -> int:
    """Write the P10 file a deflated one stands for: same File Meta (but Explicit VR LE), data set inflated.

    Returns where the data set starts.
    """
    rebuilt = FileMetaDataset()
    for element in meta:
        rebuilt.add(element)
    rebuilt.TransferSyntaxUID = ExplicitVRLittleEndian
    writer = DicomFileLike(target)
    writer.is_little_endian, writer.is_implicit_VR = True, False
    writer.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(writer, rebuilt, enforce_standard=False)
    start = target.tell()
    inflate_into(source, target)
    return start


def _check_complete(dataset: Dataset, size: int) -> None:
    """pydicom stops quietly at end of data; a file whose last element does not end the file is truncated."""
    last = None
    for tag in dataset._dict:
        last = dataset._dict[tag]
    if not isinstance(last, RawDataElement):
        return
    deferred = last.value is None and last.length not in (0, _UNDEFINED_LENGTH)
    if last.value is None and last.length == _UNDEFINED_LENGTH:
        return  # deferred encapsulated pixel data: its items are walked (and checked) before decoding
    value = last.value or b""
    if last.length == _UNDEFINED_LENGTH:
        end = last.value_tell + len(value) + 8
    else:
        present = min(last.length, size - last.value_tell) if deferred else len(value)
        if present < last.length:
            raise FileFailure(
                f"The file is truncated: element ({last.tag.group:04X},{last.tag.element:04X}) declares "
                f"{last.length} bytes but only {present} are present."
            )
        end = last.value_tell + last.length
    if end < size:
        raise FileFailure(
            f"The file is truncated: {size - end} unreadable bytes follow the last complete element "
            f"({last.tag.group:04X},{last.tag.element:04X})."
        )


def _text_of(value: object) -> str:
    """A text value as the file holds it: multiple values joined by backslashes."""
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return "\\".join(str(item) for item in value)
    return str(value)


def check_identity(dataset: Dataset) -> None:
    """The UIDs every instance needs, and the length limits of docs/service.md#length-limits-at-import."""
    missing = [keyword for keyword in _REQUIRED_UIDS if not str(dataset.get(keyword) or "").strip()]
    if len(missing) == 1:
        raise FileFailure(f"DICOM attribute {missing[0]} does not exist")
    if missing:
        raise FileFailure(f"DICOM attributes {', '.join(missing)} do not exist")
    for keyword, limit, is_count in LENGTH_LIMITS:
        element = dataset.get(keyword)
        if element is None or element == "":
            continue
        if is_count:
            try:
                count = int(element)
            except (TypeError, ValueError):
                raise FileFailure(f"DICOM attribute {keyword} has the invalid value {element!r}") from None
            if count > limit:
                raise FileFailure(f"DICOM attribute {keyword} is {count}; the import limit is 0-{limit}")
            continue
        length = len(_text_of(element))
        if length > limit:
            raise FileFailure(f"DICOM attribute {keyword} is {length} characters long; the import limit is {limit}")
