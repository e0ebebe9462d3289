"""UpdateImageSetMetadata's DICOM metadata constraints (docs/service.md#update-constraints), one attribute at a time.

Each rule either refuses an attribute outright or refuses it "unless the force flag is set"; the
caller collects the second kind and decides whether `force` lifts them. Keys are PS3.6 keywords or,
for private elements, the 8-hex tag, as in the metadata document (emulator/dicom/values.py).
pydicom is imported on first use: every endpoint start loads this module, and pydicom (with numpy)
would add most of a second to it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from ahi.emulator.dicom.levels import LEVEL_OF

#: Written by HealthImaging itself; never updatable, `force` or not.
GENERATED_KEYS = frozenset(
    {"SchemaVersion", "DatastoreID", "ImageSetID", "PixelData", "Checksum", "Width", "Height",
     "MinPixelValue", "MaxPixelValue", "FrameSizeInBytes"}
)
#: Members of an instance block beside `DICOM`, all written by the service.
GENERATED_INSTANCE_MEMBERS = frozenset({"ImageFrames", "DICOMVRs", "StoredTransferSyntaxUID", "ChecksumType"})
#: Protected DICOM attributes: updatable only with `force` (newer guides add StudyID; PixelData is generated).
PROTECTED_KEYWORDS = frozenset({"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "StudyID"})
#: The document is keyed by these UIDs, so their values must stay non-empty strings and cannot be removed.
KEY_UIDS = frozenset({"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"})

_HEX_TAG = re.compile(r"[0-9A-Fa-f]{8}")
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"})
_INT_VRS = frozenset({"US", "UL", "SS", "SL", "UV", "SV"})
_FLOAT_VRS = frozenset({"FL", "FD"})
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})


@dataclass(frozen=True)
class Target:
    """A block of the metadata document: Patient, Study, one series, or one instance of a series."""

    level: str
    series_uid: str | None = None
    sop_uid: str | None = None

    def path(self) -> str:
        """Where the block sits in a patch document, for messages."""
        if self.level in ("Patient", "Study"):
            return f"{self.level}.DICOM"
        if self.level == "Series":
            return f"Study.Series.{self.series_uid}.DICOM"
        return f"Study.Series.{self.series_uid}.Instances.{self.sop_uid}.DICOM"

    def describe(self) -> str:
        """The block in words, for `message` texts."""
        if self.level in ("Patient", "Study"):
            return f"the {self.level} level"
        if self.level == "Series":
            return f"Series {self.series_uid}"
        return f"SOP Instance {self.sop_uid} of Series {self.series_uid}"


@dataclass
class Findings:
    """Constraint violations found in a patch: refused outright, or refused unless `force`."""

    refused: list[str] = field(default_factory=list)
    forceable: list[str] = field(default_factory=list)


def is_private(key: str) -> bool:
    """An 8-hex key with an odd group: a private element or private creator."""
    return bool(_HEX_TAG.fullmatch(key)) and int(key[:4], 16) % 2 == 1


def level_of(keyword: str) -> str:
    """The document level a standard keyword is normalized to (emulator/dicom/levels.py)."""
    return LEVEL_OF.get(keyword, "Instance")


def check_update(target: Target, key: str, value: Any, findings: Findings) -> None:
    """Record why `key: value` may not be written into `target` (nothing when it may)."""
    from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword

    where = f"{target.path()}.{key}"
    if not _check_key(target, key, where, findings, removing=False):
        return
    tag = tag_for_keyword(key)
    if tag is None:
        return  # not a DICOM keyword: allowed only with force, already recorded; no VR to check
    if key in KEY_UIDS and not (isinstance(value, str) and value.strip()):
        findings.refused.append(f"{where}: {key} keys the metadata document, so its value must be a non-empty UID string")
        return
    vr = dictionary_VR(tag)
    if vr == "SQ":
        findings.forceable.append(f"{where}: {key} is a sequence (VR SQ); nested attributes cannot be updated")
        if not (isinstance(value, list) and all(isinstance(item, dict) for item in value)) and value is not None:
            findings.refused.append(f"{where}: a sequence value must be a list of objects")
        return
    if dictionary_VM(tag) != "1":
        findings.forceable.append(f"{where}: {key} is multi-valued (VM {dictionary_VM(tag)}); multi-valued attributes cannot be updated")
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and dictionary_VM(tag) == "1":
        findings.forceable.append(f"{where}: {key} takes one value (VM 1), not a list")
    for item in values:
        problem = vr_problem(vr, item)
        if problem is not None:
            findings.forceable.append(f"{where}: the value is not compatible with VR {vr}: {problem}")
            return


def check_removal(target: Target, key: str, findings: Findings) -> None:
    """Record why `key` may not be removed from `target` (nothing when it may)."""
    from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword

    where = f"{target.path()}.{key}"
    if not _check_key(target, key, where, findings, removing=True):
        return
    tag = tag_for_keyword(key)
    if tag is None:
        return
    if key in KEY_UIDS:
        findings.refused.append(
            f"{where}: {key} keys the metadata document and cannot be removed; remove the series or instance instead"
        )
        return
    if dictionary_VR(tag) == "SQ":
        findings.forceable.append(f"{where}: {key} is a sequence (VR SQ); nested attributes cannot be removed")
    elif dictionary_VM(tag) != "1":
        findings.forceable.append(f"{where}: {key} is multi-valued (VM {dictionary_VM(tag)}) and cannot be removed")


def _check_key(target: Target, key: str, where: str, findings: Findings, *, removing: bool) -> bool:
    """Rules on the key alone; False when nothing more can be said about it."""
    from pydicom.datadict import tag_for_keyword

    verb = "removed" if removing else "updated"
    if key in GENERATED_KEYS:
        findings.refused.append(f"{where}: {key} is generated by HealthImaging and cannot be {verb}")
        return False
    if is_private(key):
        if target.level == "Instance":
            findings.forceable.append(f"{where}: {key} is a private attribute and cannot be {verb}")
        else:
            findings.refused.append(
                f"{where}: {key} is a private attribute; private attributes cannot be {verb} at {target.level} level"
            )
        return False
    if tag_for_keyword(key) is None:
        findings.forceable.append(f"{where}: {key} is not a valid DICOM attribute keyword")
        return False
    home = level_of(key)
    if home != target.level:
        findings.refused.append(
            f"{where}: {key} is a {home} level attribute and cannot be {verb} at {target.level} level"
            " (no cross-module updates)"
        )
        return False
    if key in PROTECTED_KEYWORDS:
        findings.forceable.append(f"{where}: {key} is a protected attribute and cannot be {verb}")
    return True


def vr_problem(vr: str, value: Any) -> str | None:
    """Why a JSON value cannot hold one value of `vr` (None when it can; null is an empty value)."""
    if value is None:
        return None
    candidates = [part.strip() for part in vr.split(" or ")]
    problems = [_one_vr_problem(candidate, value) for candidate in candidates]
    return None if any(problem is None for problem in problems) else problems[0]


def _one_vr_problem(vr: str, value: Any) -> str | None:
    if vr in _INT_VRS:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{vr} values are JSON integers"
        return _pydicom_problem(vr, value)
    if vr in _FLOAT_VRS:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else f"{vr} values are JSON numbers"
    if vr in ("IS", "DS"):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return f"{vr} values are strings such as \"12\""
        return _pydicom_problem(vr, str(value).strip() if isinstance(value, str) else str(value))
    if vr == "AT":
        return None if isinstance(value, str) and _HEX_TAG.fullmatch(value) else "AT values are 8 hex digits"
    if vr in _BINARY_VRS:
        if not isinstance(value, str):
            return f"{vr} values are base64 strings"
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return f"{vr} values are base64 strings"
        return None
    if vr in _TEXT_VRS:
        if not isinstance(value, str):
            return f"{vr} values are strings"
        return _pydicom_problem(vr, value)
    return None


def _pydicom_problem(vr: str, value: Any) -> str | None:
    from pydicom import config as pydicom_config
    from pydicom.valuerep import validate_value

    try:
        validate_value(vr, value, pydicom_config.RAISE)
    except (ValueError, TypeError) as error:
        return str(error).split(" Please see")[0]
    return None


def stored_form(key: str, value: Any) -> Any:
    """The value as the document keeps it: IS and DS numbers become their text, as imports store them."""
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(key)
    if tag is None or isinstance(value, bool):
        return value
    if dictionary_VR(tag) in ("IS", "DS"):
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, list):
            return [str(item) if isinstance(item, (int, float)) and not isinstance(item, bool) else item for item in value]
    return value
