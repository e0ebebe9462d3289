"""One input object through the whole pipeline: parse, check, decode, encode, verify, describe."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from emulator.dicom.failures import FileFailure, ImportCaveat, server_failure
from emulator.dicom.frames import StageTimes, StoredFrame, store_frame
from emulator.dicom.levels import LEVEL_OF, SERIES_ALSO
from emulator.dicom.parse import CaveatCollector, check_identity, read_p10
from emulator.dicom.pixels import decode_frames, has_pixels
from emulator.dicom.transfer_syntaxes import STORED_TRANSFER_SYNTAX_UID
from emulator.dicom.values import encode_dataset

LEVELS = ("Patient", "Study", "Series")


@dataclass
class ProcessedInstance:
    """A file that became an instance: its normalized levels, its instance block and its frames."""

    input_file: str
    sop_instance_uid: str
    series_instance_uid: str
    levels: dict[str, dict[str, Any]]
    instance: dict[str, Any]
    frames: list[StoredFrame]
    caveats: list[ImportCaveat] = field(default_factory=list)

    @property
    def grouping_key(self) -> str:
        """Instances share an image set only when every normalized attribute agrees (service.md 3.6)."""
        return json.dumps(self.levels, sort_keys=True, separators=(",", ":"))

    @property
    def order_key(self) -> tuple[float, str]:
        """InstanceNumber, then SOP Instance UID: the order of instances inside an image set."""
        raw = self.instance["DICOM"].get("InstanceNumber")
        try:
            number = float(raw[0] if isinstance(raw, list) else raw)
        except (TypeError, ValueError):
            number = float("inf")
        return (number, self.sop_instance_uid)


@dataclass
class FileOutcome:
    """What became of one input file: an instance or a failure, and the time each stage took."""

    input_file: str
    instance: ProcessedInstance | None = None
    failure: FileFailure | None = None
    times: StageTimes = field(default_factory=StageTimes)


def process_file(input_file: str, data: bytes) -> FileOutcome:
    """Turn one object's bytes into an instance, or a failure a person can act on; never raises."""
    outcome = FileOutcome(input_file)
    try:
        outcome.instance = _process(input_file, data, outcome.times)
    except FileFailure as failure:
        outcome.failure = failure
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
        outcome.failure = server_failure(exc)
    return outcome


def _process(input_file: str, data: bytes, times: StageTimes) -> ProcessedInstance:
    caveats = CaveatCollector()
    started = time.perf_counter()
    with caveats.capture():
        dataset = read_p10(data)
        # Describe the attributes before anything converts them: IS/DS keep their raw text.
        vrs: dict[str, str] = {}
        little_endian = dataset.original_encoding[1] is not False
        described = encode_dataset(dataset.file_meta, little_endian=True)
        described.update(encode_dataset(dataset, vrs, little_endian=little_endian))
        check_identity(dataset)
        transfer_syntax = str(dataset.file_meta.TransferSyntaxUID)
        times.parse += time.perf_counter() - started
        frames: list[StoredFrame] = []
        if has_pixels(dataset):
            decode_started = time.perf_counter()
            for number, pixels in enumerate(decode_frames(dataset, transfer_syntax), start=1):
                times.decode += time.perf_counter() - decode_started
                frames.append(store_frame(pixels, number, times))
                decode_started = time.perf_counter()
    levels, instance_dicom = split_levels(described)
    instance = {
        "DICOM": instance_dicom,
        "DICOMVRs": {key: vr for key, vr in vrs.items() if key in instance_dicom},
        "StoredTransferSyntaxUID": STORED_TRANSFER_SYNTAX_UID,
        "ChecksumType": "DECOMPRESSED",
        "ImageFrames": [frame.entry for frame in frames],
    }
    return ProcessedInstance(
        input_file=input_file,
        sop_instance_uid=str(dataset.SOPInstanceUID).strip(),
        series_instance_uid=str(dataset.SeriesInstanceUID).strip(),
        levels=levels,
        instance=instance,
        frames=frames,
        caveats=caveats.caveats,
    )


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
