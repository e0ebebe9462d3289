"""A job's DICOM JSON metadata files, read once and applied to each instance before grouping.

The rules (what a file may hold, which mapping wins, what becomes a failure line) are in
docs/import-configuration.md; this module is their one implementation. Overrides are applied before
the instances are grouped, so a changed study- or series-level element groups (and conflicts) the way
it would have had the P10 file carried it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.tag import Tag

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.instance import FileOutcome, ProcessedInstance
from ahi.emulator.dicom.levels import LEVEL_OF, SERIES_ALSO
from ahi.emulator.dicom.limits import mib
from ahi.emulator.dicom.metadata_size import check_instance
from ahi.emulator.dicom.parse import LENGTH_LIMITS
from ahi.emulator.dicom.values import encode_dataset
from ahi.emulator.imports import s3io
from ahi.emulator.imports.metadata_mappings import MetadataMapping
from ahi.emulator.imports.outputs import FAILURE
from ahi.emulator.imports.s3io import InputObject, ObjectTooLarge, S3AccessError, S3Location
from ahi.emulator.store.import_jobs import FileRecord

#: docs/import-configuration.md#the-metadata-files: our bound on one metadata file (public material is silent).
MAX_METADATA_FILE_BYTES = 10 * 1024**2
#: The instance selector inside a file's objects; used to pick the instance, never written.
SOP_INSTANCE_UID = "SOPInstanceUID"
#: Elements a metadata file may not change: the identity the mapping and the store key on, and what
#: describes the stored pixels (changing them would make the frames disagree with their metadata).
PROTECTED: frozenset[str] = frozenset(
    {
        "StudyInstanceUID", "SeriesInstanceUID",
        "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "SamplesPerPixel",
        "PhotometricInterpretation", "PlanarConfiguration", "NumberOfFrames",
        "PixelData", "FloatPixelData", "DoubleFloatPixelData", "ExtendedOffsetTable", "ExtendedOffsetTableLengths",
    }
)  # fmt: skip
_LIMITS = {keyword: (limit, is_count) for keyword, limit, is_count in LENGTH_LIMITS}


class MetadataFileProblem(Exception):
    """A metadata file that cannot be applied; the message says why, without its values."""


@dataclass
class Elements:
    """Encoded elements to set (document keys -> JSON values) and the VRs a reader needs for them."""

    values: dict[str, Any]
    vrs: dict[str, str]
    #: The SOP Instance UID the object names, when it is for one instance only.
    selector: str | None = None


@dataclass
class LoadedMapping:
    """One mapping with its file read: elements for every instance it covers and per SOP Instance UID."""

    mapping: MetadataMapping
    key: str
    shared: list[Elements] = field(default_factory=list)
    by_instance: dict[str, Elements] = field(default_factory=dict)
    problem: str | None = None
    applied: int = 0
    instances_seen: set[str] = field(default_factory=set)

    def failure(self) -> FileFailure:
        """The failure of an instance this broken mapping covers."""
        return FileFailure(
            f"The DICOM JSON metadata of {self.mapping.scope} cannot be applied: {self.problem}. "
            "The file is not imported, so it is never stored without the metadata meant for it"
        )


class MetadataOverrides:
    """Every mapping of one job, study-level ones first so a series-level mapping wins over its study's."""

    def __init__(self, loaded: list[LoadedMapping]) -> None:
        self._loaded = sorted(loaded, key=lambda item: (item.mapping.series_instance_uid is not None, item.mapping.position))
        self.metadata_keys = frozenset(item.key for item in loaded)

    @classmethod
    def load(cls, input_s3_uri: str, mappings: list[MetadataMapping], listed: list[InputObject]) -> MetadataOverrides:
        """Read each mapped file once (a file several mappings share is read once too)."""
        source = S3Location.parse(input_s3_uri)
        sizes = {item.key: item.size for item in listed}
        parsed: dict[str, list[Elements] | MetadataFileProblem] = {}
        loaded: list[LoadedMapping] = []
        for mapping in mappings:
            key = source.prefix + mapping.metadata_file_path
            if key not in parsed:
                try:
                    parsed[key] = _read(source.bucket, key, sizes.get(key))
                except MetadataFileProblem as problem:
                    parsed[key] = problem
            entry = LoadedMapping(mapping, key)
            result = parsed[key]
            if isinstance(result, MetadataFileProblem):
                entry.problem = str(result)
            else:
                for elements in result:
                    if elements.selector is None:
                        entry.shared.append(elements)
                    else:
                        entry.by_instance[elements.selector] = elements
            loaded.append(entry)
        return cls(loaded)

    def apply(self, outcome: FileOutcome) -> FileOutcome:
        """The outcome with every covering mapping applied, or a failure when a covering mapping is broken."""
        instance = outcome.instance
        if instance is None or not self._loaded:
            return outcome
        study = str(instance.levels["Study"].get("StudyInstanceUID") or "").strip()
        covering = [item for item in self._loaded if item.mapping.covers(study, instance.series_instance_uid)]
        if not covering:
            return outcome
        broken = next((item for item in covering if item.problem is not None), None)
        if broken is not None:
            return FileOutcome(outcome.input_file, failure=broken.failure(), times=outcome.times)
        for item in covering:
            item.applied += 1
            for elements in item.shared:
                _set(instance, elements)
            own = item.by_instance.get(instance.sop_instance_uid)
            if own is not None:
                item.instances_seen.add(instance.sop_instance_uid)
                _set(instance, own)
        try:
            instance.metadata_bytes = check_instance(instance.instance, instance.levels)
        except FileFailure as failure:
            return FileOutcome(outcome.input_file, failure=failure, times=outcome.times)
        # A new instance recomputes the grouping key from the changed levels.
        return FileOutcome(outcome.input_file, instance=dataclasses.replace(instance), times=outcome.times)

    def leftover_records(self, done: set[str], resumed: bool) -> list[FileRecord]:
        """Failure lines for metadata files that were broken or applied to nothing, one per file.

        A resumed job does not know which instances earlier runs matched, so it reports broken files only.
        """
        messages: dict[str, list[str]] = {}
        for item in self._loaded:
            if item.problem is not None:
                text = f"{item.mapping.scope} cannot be applied: {item.problem}"
            elif resumed:
                continue
            elif item.applied == 0:
                text = f"{item.mapping.scope} matched no DICOM P10 file of this job, so nothing was changed"
            elif len(item.instances_seen) < len(item.by_instance):
                missing = len(item.by_instance) - len(item.instances_seen)
                text = (
                    f"{item.mapping.scope}: {missing} of its instance objects name a SOP Instance UID that no "
                    "imported file of the mapped study or series has"
                )
            else:
                continue
            messages.setdefault(item.key, []).append(text)
        return [
            FileRecord(key, FAILURE, None, True, {"exceptionType": "ValidationException", "message": "; ".join(texts)})
            for key, texts in messages.items()
            if key not in done
        ]


def _read(bucket: str, key: str, size: int | None) -> list[Elements]:
    """A metadata file's objects, encoded; MetadataFileProblem for anything that keeps it from applying."""
    if size is None:
        raise MetadataFileProblem(f"the metadata file s3://{bucket}/{key} does not exist")
    if size > MAX_METADATA_FILE_BYTES:
        raise MetadataFileProblem(f"the metadata file is {mib(size)}, over the {mib(MAX_METADATA_FILE_BYTES)} we read")
    try:
        with s3io.open_object(bucket, key, MAX_METADATA_FILE_BYTES) as stream:
            raw = stream.read()
    except (S3AccessError, ObjectTooLarge) as error:
        raise MetadataFileProblem(f"the metadata file s3://{bucket}/{key} could not be read") from error
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MetadataFileProblem(f"the metadata file is not JSON ({type(error).__name__} at byte {_position(error)})") from None
    objects = document if isinstance(document, list) else [document]
    if not objects or not all(isinstance(item, dict) for item in objects):
        raise MetadataFileProblem("the metadata file must hold a DICOM JSON object or a non-empty array of them")
    return [_encode(item, number) for number, item in enumerate(objects, start=1)]


def _position(error: Exception) -> int:
    return int(getattr(error, "pos", None) or getattr(error, "start", 0) or 0)


def _encode(item: dict[str, Any], number: int) -> Elements:
    """One DICOM JSON object (PS3.18 annex F) as document keys and values, checked against PROTECTED and the limits."""
    where = f"object {number}"
    for tag_text, element in item.items():
        if not (isinstance(tag_text, str) and len(tag_text) == 8 and all(c in "0123456789abcdefABCDEF" for c in tag_text)):
            raise MetadataFileProblem(f"{where} has the key {tag_text[:16]!r}, not an 8-digit hexadecimal tag")
        if not isinstance(element, dict) or not isinstance(element.get("vr"), str):
            raise MetadataFileProblem(f"{where}: element {tag_text} needs an object with a \"vr\"")
        if "BulkDataURI" in json.dumps(element):
            raise MetadataFileProblem(f"{where}: element {tag_text} uses BulkDataURI; give values inline")
        if Tag(int(tag_text, 16)).group == 0x0002:
            raise MetadataFileProblem(f"{where}: element {tag_text} is file meta information, which an import keeps")
    try:
        dataset = Dataset.from_json(item)
        vrs: dict[str, str] = {}
        values = encode_dataset(dataset, vrs)
    except Exception as error:  # noqa: BLE001 - pydicom raises many types for malformed DICOM JSON
        raise MetadataFileProblem(f"{where} is not valid DICOM JSON ({type(error).__name__})") from None
    selector = values.pop(SOP_INSTANCE_UID, None)
    vrs.pop(SOP_INSTANCE_UID, None)
    protected = sorted(PROTECTED.intersection(values))
    if protected:
        raise MetadataFileProblem(f"{where} sets {', '.join(protected)}, which a metadata file may not change")
    for keyword, value in values.items():
        _check_limit(keyword, value, where)
    return Elements(values, vrs, None if selector is None else str(selector).strip())


def _check_limit(keyword: str, value: Any, where: str) -> None:
    """The import's length limits (docs/service.md#length-limits-at-import) hold for metadata files too."""
    if keyword not in _LIMITS or value is None:
        return
    limit, is_count = _LIMITS[keyword]
    text = "\\".join(str(part) for part in value) if isinstance(value, list) else str(value)
    if is_count:
        try:
            count = int(text)
        except ValueError:
            raise MetadataFileProblem(f"{where}: {keyword} is not a number") from None
        if not 0 <= count <= limit:
            raise MetadataFileProblem(f"{where}: {keyword} is {count}; the import limit is 0-{limit}")
    elif len(text) > limit:
        raise MetadataFileProblem(f"{where}: {keyword} is {len(text)} characters long; the import limit is {limit}")


def _set(instance: ProcessedInstance, elements: Elements) -> None:
    """Write elements at their normalized level, or into the instance block with the VRs it needs."""
    block = instance.instance
    vrs = block.setdefault("DICOMVRs", {})
    for key, value in elements.values.items():
        level = LEVEL_OF.get(key)
        if level is not None:
            instance.levels[level][key] = value
            if key in SERIES_ALSO:
                instance.levels["Series"][key] = value
            continue
        block["DICOM"][key] = value
        if key in elements.vrs:
            vrs[key] = elements.vrs[key]
        else:
            vrs.pop(key, None)
