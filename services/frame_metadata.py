"""What the frame preview needs from a metadata document: frames in order, pixel model, overlay labels.

The document layout (docs/service.md#the-metadata-document) is
Study.Series.<uid>.Instances.<uid>.{DICOM, ImageFrames}. Values keep DICOM's JSON typing there: DS/IS
as (padded) strings, multi-values as lists, missing as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ahi.services.frames import FrameKey, expected_checksum
from ahi.services.windowing import PixelModel, parse_windows


@dataclass(frozen=True)
class FrameLabels:
    """Overlay text for one frame."""

    patient: str
    series: str
    instance: str


@dataclass(frozen=True)
class FrameRequest:
    """Everything needed to fetch, verify and display one frame."""

    key: FrameKey
    expected_checksum: int | None
    model: PixelModel
    labels: FrameLabels
    sop_instance_uid: str
    rows: int | None = None
    columns: int | None = None


def series_frames(metadata: Mapping[str, Any], version_id: str, series_uid: str | None = None) -> list[FrameRequest]:
    """Every frame of one series (or of all series, by SeriesNumber) in InstanceNumber order, then frame order."""
    image_set_id = str(metadata.get("ImageSetID", ""))
    patient = _patient_label(_dicom(metadata.get("Patient")))
    all_series = (metadata.get("Study") or {}).get("Series") or {}
    chosen = [(series_uid, all_series[series_uid])] if series_uid is not None else sorted(all_series.items(), key=_series_order)
    entries: list[tuple[str, str, Mapping[str, Any], Mapping[str, Any], int, int]] = []
    for uid, series in chosen:
        series_label = _series_label(uid, _dicom(series))
        instances = sorted(((series.get("Instances") or {}).items()), key=_instance_order)
        for sop_uid, instance in instances:
            frames = instance.get("ImageFrames") or []
            for index, frame in enumerate(frames):
                entries.append((series_label, sop_uid, instance, frame, index, len(frames)))
    total = len(entries)
    return [
        _request(image_set_id, version_id, patient, series_label, sop_uid, instance, frame, index, count, position, total)
        for position, (series_label, sop_uid, instance, frame, index, count) in enumerate(entries, start=1)
    ]


def pixel_model(instance_dicom: Mapping[str, Any]) -> PixelModel:
    """Photometric interpretation, rescale, windows, bits and pixel aspect of one instance."""
    spacing = _floats(instance_dicom.get("PixelSpacing"))
    aspect = spacing[0] / spacing[1] if len(spacing) >= 2 and spacing[0] > 0 and spacing[1] > 0 else 1.0
    return PixelModel(
        photometric=str(_first(instance_dicom.get("PhotometricInterpretation")) or "MONOCHROME2").strip(),
        rescale_slope=_float(instance_dicom.get("RescaleSlope"), 1.0),
        rescale_intercept=_float(instance_dicom.get("RescaleIntercept"), 0.0),
        windows=parse_windows(
            instance_dicom.get("WindowCenter"), instance_dicom.get("WindowWidth"), instance_dicom.get("VOILUTFunction")
        ),
        bits_stored=_int(instance_dicom.get("BitsStored")),
        pixel_aspect=aspect,
    )


def _request(
    image_set_id: str,
    version_id: str,
    patient: str,
    series_label: str,
    sop_uid: str,
    instance: Mapping[str, Any],
    frame: Mapping[str, Any],
    index: int,
    count: int,
    position: int,
    total: int,
) -> FrameRequest:
    dicom = _dicom(instance)
    number = _int(dicom.get("InstanceNumber"))
    name = f"Instance {number}" if number is not None else f"Instance {sop_uid[-12:]}"
    frame_part = f" · frame {index + 1}/{count}" if count > 1 else ""
    return FrameRequest(
        key=FrameKey(image_set_id, str(version_id), str(frame.get("ID", ""))),
        expected_checksum=expected_checksum(frame),
        model=pixel_model(dicom),
        labels=FrameLabels(patient, series_label, f"{name}{frame_part} · {position}/{total}"),
        sop_instance_uid=sop_uid,
        rows=_int(dicom.get("Rows")),
        columns=_int(dicom.get("Columns")),
    )


def _dicom(level: Any) -> Mapping[str, Any]:
    return (level or {}).get("DICOM") or {}


def _patient_label(patient: Mapping[str, Any]) -> str:
    name = _person_name(patient.get("PatientName")) or "(no name)"
    patient_id = _first(patient.get("PatientID"))
    return f"{name} ({patient_id})" if patient_id else name


def _series_label(uid: str, series: Mapping[str, Any]) -> str:
    number = _int(series.get("SeriesNumber"))
    parts = [f"Series {number}" if number is not None else f"Series {uid[-12:]}"]
    parts += [str(_first(series.get(key))).strip() for key in ("Modality", "SeriesDescription") if _first(series.get(key))]
    return " · ".join(parts)


def _series_order(item: tuple[str, Mapping[str, Any]]) -> tuple[int, str]:
    number = _int(_dicom(item[1]).get("SeriesNumber"))
    return (number if number is not None else 1 << 31, item[0])


def _instance_order(item: tuple[str, Mapping[str, Any]]) -> tuple[int, str]:
    number = _int(_dicom(item[1]).get("InstanceNumber"))
    return (number if number is not None else 1 << 31, item[0])


def _person_name(value: Any) -> str:
    value = _first(value)
    if isinstance(value, Mapping):
        value = value.get("Alphabetic") or ""
    return str(value or "").strip()


def _first(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    if isinstance(value, str) and "\\" in value:
        return value.split("\\")[0]
    return value


def _float(value: Any, default: float) -> float:
    try:
        return float(str(_first(value)).strip()) if _first(value) not in (None, "") else default
    except ValueError:
        return default


def _int(value: Any) -> int | None:
    number = _float(value, float("nan"))
    return None if number != number else int(number)


def _floats(value: Any) -> list[float]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split("\\")
    numbers = []
    for item in items:
        try:
            numbers.append(float(str(item).strip()))
        except ValueError:
            continue
    return numbers
