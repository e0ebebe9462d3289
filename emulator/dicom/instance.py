"""One input object through the whole pipeline: parse, check, decode, encode, verify, describe."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ahi.emulator.dicom.budget import DECODE_BUDGET
from ahi.emulator.dicom.failures import FileFailure, ImportCaveat, server_failure
from ahi.emulator.dicom.frame_codecs import client_decode, kept_bytes, pack_bits
from ahi.emulator.dicom.frames import StageTimes, StoredFrame, keep_frame, store_frame
from ahi.emulator.dicom.levels import LEVEL_OF, SERIES_ALSO
from ahi.emulator.dicom.metadata_size import check_estimate, check_instance
from ahi.emulator.dicom.parse import P10, CaveatCollector, check_identity, read_p10
from ahi.emulator.dicom.pixels import PixelPlan, decode_frames, encoded_frames, has_pixels, native, plan_pixels
from ahi.emulator.dicom.spill import MetadataSpill, Ref
from ahi.emulator.dicom.stored_syntaxes import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    HTJ2K_LOSSLESS_RPCL,
    JPEG_2000_LOSSLESS,
    STORED_FORMS,
    is_transcoded,
    stored_syntax,
)
from ahi.emulator.dicom.values import encode_dataset

LEVELS = ("Patient", "Study", "Series")


@dataclass
class ProcessedInstance:
    """A file that became an instance: its normalized levels, its instance block and its frames.

    Between processing and commit a job parks `levels` and `instance` on disk (`park`), keeping only
    what grouping, ordering and the quota need: the grouping key, the order key, the sizes.
    """

    input_file: str
    sop_instance_uid: str
    series_instance_uid: str
    levels: dict[str, dict[str, Any]]
    instance: dict[str, Any]
    frames: list[StoredFrame]
    caveats: list[ImportCaveat] = field(default_factory=list)
    #: Compact JSON bytes of the instance block: its share of the image set's metadata document.
    metadata_bytes: int = 0
    #: Instances share an image set only when every normalized attribute agrees: a digest of them all.
    grouping_key: str = field(init=False, default="")
    #: InstanceNumber, then SOP Instance UID: the order of instances inside an image set.
    order_key: tuple[float, str] = field(init=False, default=(0.0, ""))
    #: The suffix of every frame file of this instance (its stored syntax's, emulator/dicom/stored_syntaxes.py).
    frame_suffix: str = ".jph"
    #: (frame ID, stored size) of each frame, kept when the frames' entries are parked.
    frame_sizes: list[tuple[str, int]] = field(init=False, default_factory=list)
    parked: tuple[MetadataSpill, Ref, Ref] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        levels = json.dumps(self.levels, sort_keys=True, separators=(",", ":")).encode("utf-8")
        self.grouping_key = hashlib.sha256(levels).hexdigest()
        raw = self.instance["DICOM"].get("InstanceNumber")
        try:
            number = float(raw[0] if isinstance(raw, list) else raw)
        except (TypeError, ValueError):
            number = float("inf")
        self.order_key = (number, self.sop_instance_uid)
        self.frame_sizes = [(frame.frame_id, int(frame.entry["FrameSizeInBytes"])) for frame in self.frames]

    def park(self, spill: MetadataSpill) -> None:
        """Move the levels and the instance block (frame entries included) to `spill`."""
        self.parked = (spill, spill.put(self.levels), spill.put(self.instance))
        self.levels, self.instance, self.frames = {}, {}, []

    def restore(self) -> None:
        """Bring parked levels and instance block back into memory."""
        if self.parked is not None:
            spill, levels, instance = self.parked
            self.levels, self.instance = spill.get(levels), spill.get(instance)
            self.parked = None

    def release(self) -> None:
        """Drop the levels and instance block once committed."""
        self.levels, self.instance = {}, {}


@dataclass
class FileOutcome:
    """What became of one input file: an instance or a failure, and the time each stage took."""

    input_file: str
    instance: ProcessedInstance | None = None
    failure: FileFailure | None = None
    times: StageTimes = field(default_factory=StageTimes)


FrameSink = Callable[[StoredFrame], None]


def process_file(
    input_file: str, data: bytes | BinaryIO, on_frame: FrameSink | None = None, lossless_format: str | None = None
) -> FileOutcome:
    """Turn one object (its bytes or a seekable stream) into an instance, or a failure a person can act on.

    Never raises. `on_frame` receives each stored frame as soon as it is verified (the import writes it
    to disk and drops its bytes), so a file's frames are never all in memory at once. `lossless_format`
    is the data store's `losslessStorageFormat` (HTJ2K when None).
    """
    outcome = FileOutcome(input_file)
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    try:
        with ExitStack() as resources:
            outcome.instance = _process(input_file, source, outcome.times, on_frame, resources, lossless_format)
    except FileFailure as failure:
        outcome.failure = failure
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
        outcome.failure = server_failure(exc)
    return outcome


def _process(
    input_file: str,
    source: BinaryIO,
    times: StageTimes,
    on_frame: FrameSink | None,
    resources: ExitStack,
    lossless_format: str | None,
) -> ProcessedInstance:
    caveats = CaveatCollector()
    started = time.perf_counter()
    with caveats.capture():
        p10 = read_p10(source, resources)
        dataset = p10.dataset
        check_estimate(dataset)
        # Describe the attributes before anything converts them: IS/DS keep their raw text.
        vrs: dict[str, str] = {}
        little_endian = dataset.original_encoding[1] is not False
        described = encode_dataset(dataset.file_meta, little_endian=True)
        described.update(encode_dataset(dataset, vrs, little_endian=little_endian))
        check_identity(dataset)
        transfer_syntax = str(dataset.file_meta.TransferSyntaxUID)
        stored = _stored_syntax(transfer_syntax, dataset, lossless_format)
        times.parse += time.perf_counter() - started
        frames: list[StoredFrame] = []
        if has_pixels(dataset):
            plan = plan_pixels(p10, transfer_syntax)
            if is_transcoded(stored):
                frames = _store_frames(p10, transfer_syntax, stored, plan, times, on_frame)
            else:
                frames = _keep_frames(p10, transfer_syntax, stored, plan, times, on_frame)
            if is_transcoded(stored):
                _describe_transcoded_colour(described)
    levels, instance_dicom = split_levels(described)
    instance = {
        "DICOM": instance_dicom,
        "DICOMVRs": {key: vr for key, vr in vrs.items() if key in instance_dicom},
        "StoredTransferSyntaxUID": stored,
        "ChecksumType": "DECOMPRESSED",
        "ImageFrames": [frame.entry for frame in frames],
    }
    size = check_instance(instance, levels)
    return ProcessedInstance(
        input_file=input_file,
        sop_instance_uid=str(dataset.SOPInstanceUID).strip(),
        series_instance_uid=str(dataset.SeriesInstanceUID).strip(),
        levels=levels,
        instance=instance,
        frames=frames,
        caveats=caveats.caveats,
        metadata_bytes=size,
        frame_suffix=STORED_FORMS[stored].suffix,
    )


def _stored_syntax(transfer_syntax: str, dataset: Any, lossless_format: str | None) -> str:
    """The stored syntax; 32-bit samples stay HTJ2K in a JPEG 2000 Lossless data store.

    OpenJPEG, the only JPEG 2000 Part 1 encoder installed, is exact only up to about 25 bits per sample;
    OpenJPH encodes all 32 (docs/stored-syntaxes.md#32-bit-frames).
    """
    stored = stored_syntax(transfer_syntax, dataset, lossless_format)
    if stored == JPEG_2000_LOSSLESS and dataset.get("BitsAllocated") == 32:
        return HTJ2K_LOSSLESS_RPCL
    return stored


def _describe_transcoded_colour(described: dict[str, Any]) -> None:
    """Transcoded colour frames hold interleaved RGB, so the metadata says so (docs/stored-syntaxes.md#colour)."""
    if described.get("SamplesPerPixel") != 3:
        return
    described["PhotometricInterpretation"] = "RGB"
    if "PlanarConfiguration" in described:
        described["PlanarConfiguration"] = 0


def _keep_frames(
    p10: P10, transfer_syntax: str, stored: str, plan: PixelPlan, times: StageTimes, on_frame: FrameSink | None
) -> list[StoredFrame]:
    """Store each frame's original bytes; its checksum is taken on what a client decodes from them."""
    photometric = str(p10.dataset.get("PhotometricInterpretation") or "")
    shape = plan.shape
    expected = (shape.rows, shape.columns) if shape.samples == 1 else (shape.rows, shape.columns, shape.samples)
    native_bits = stored == EXPLICIT_VR_LITTLE_ENDIAN
    source = decode_frames(p10, transfer_syntax, plan) if native_bits else encoded_frames(p10, plan)

    def keep(item: Any, number: int) -> StoredFrame:
        started = time.perf_counter()
        if native_bits:
            pixels, data = item, pack_bits(item)
        else:
            data = kept_bytes(item, stored)
            pixels = _client_pixels(data, stored, photometric, shape.bits_allocated, number)
        times.decode += time.perf_counter() - started
        if pixels.shape != expected:
            raise FileFailure(
                f"Frame {number} decodes to {' x '.join(map(str, pixels.shape))} samples where Rows, "
                f"Columns and SamplesPerPixel say {' x '.join(map(str, expected))}"
            )
        return keep_frame(data, pixels, times, stored)

    return _each_frame(source, plan, times, on_frame, keep)


def _client_pixels(data: bytes, stored: str, photometric: str, bits_allocated: int, number: int) -> Any:
    try:
        return native(client_decode(data, stored, photometric, bits_allocated))
    except FileFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - every decoder error becomes a failure line
        text = " ".join(str(exc).split())
        raise FileFailure(f"The pixel data of frame {number} could not be decoded: {text}") from None


def _store_frames(
    p10: P10, transfer_syntax: str, stored: str, plan: PixelPlan, times: StageTimes, on_frame: FrameSink | None
) -> list[StoredFrame]:
    """Decode, store and verify frame after frame."""
    return _each_frame(
        decode_frames(p10, transfer_syntax, plan),
        plan,
        times,
        on_frame,
        lambda pixels, number: store_frame(pixels, number, times, stored),
    )


def _each_frame(
    source: Iterator[Any],
    plan: PixelPlan,
    times: StageTimes,
    on_frame: FrameSink | None,
    build: Callable[[Any, int], StoredFrame],
) -> list[StoredFrame]:
    """`build` (item, frame number) each frame `source` yields, inside the process-wide decoded-bytes budget.

    The item is dropped before the budget is released, so at most the budget's worth of decoded frames is alive.
    """
    frames: list[StoredFrame] = []
    while True:
        with DECODE_BUDGET.hold(plan.frame_bytes):
            started = time.perf_counter()
            item = next(source, None)
            times.decode += time.perf_counter() - started
            if item is None:
                return frames
            frame = build(item, len(frames) + 1)
            del item
        if on_frame is not None:
            on_frame(frame)
        frames.append(frame)


def split_levels(described: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Move normalized attributes to their level; what remains is the instance's own DICOM block."""
    levels: dict[str, dict[str, Any]] = {level: {} for level in LEVELS}
    instance: dict[str, Any] = {}
    for key, value in described.items():
        level = LEVEL_OF.get(key)
        if level is None:
            instance[key] = value
            continue
        levels[level][key] = value
        if key in SERIES_ALSO:
            levels["Series"][key] = value
    return levels, instance
