"""The DICOMweb index: studies, series and instances of every live image set's latest readable version.

QIDO-RS searches it and WADO-RS resolves an instance through it (docs/dicomweb.md#the-instance-index).
`refresh` rewrites one image set's rows from its document; the store's write paths call it in the
same transaction as the write (import, update, copy, promotion, delete), so a search never sees an
image set half written. A version still being written (LOCKED, no document yet) leaves the rows of
the version before it in place.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from ahi.emulator.store.documents import decode_document

#: `dicomweb_studies.scope` of the rows aggregating a study's primary image sets.
PRIMARY_SCOPE = ""
#: Image sets a start indexes per transaction while it works through the backlog of an older state.
BACKLOG_BATCH = 200

#: Column -> document keyword, per level of the metadata document.
PATIENT_COLUMNS = {
    "patient_id": "PatientID",
    "patient_name": "PatientName",
    "patient_birth_date": "PatientBirthDate",
    "patient_sex": "PatientSex",
}
STUDY_COLUMNS = {
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "accession_number": "AccessionNumber",
    "study_id": "StudyID",
    "referring_physician_name": "ReferringPhysicianName",
    "study_description": "StudyDescription",
}
SERIES_COLUMNS = {
    "modality": "Modality",
    "series_number": "SeriesNumber",
    "series_description": "SeriesDescription",
    "pps_start_date": "PerformedProcedureStepStartDate",
    "pps_start_time": "PerformedProcedureStepStartTime",
}
INSTANCE_COLUMNS = {
    "sop_class_uid": "SOPClassUID",
    "instance_number": "InstanceNumber",
    "image_rows": "Rows",
    "image_columns": "Columns",
    "bits_allocated": "BitsAllocated",
    "number_of_frames": "NumberOfFrames",
}
#: Columns holding integers (IS or US values), so that they sort as numbers.
INTEGER_COLUMNS = frozenset(
    {"series_number", "instance_number", "image_rows", "image_columns", "bits_allocated", "number_of_frames"}
)
_STUDY_ROW = ("updated_ms", *PATIENT_COLUMNS, *STUDY_COLUMNS)


def _text(value: Any) -> str | None:
    """A document value as the index holds it: multiple values joined with backslashes, None when empty."""
    if value is None:
        return None
    if isinstance(value, list):
        return "\\".join("" if item is None else str(item) for item in value) or None
    if isinstance(value, dict):
        return None
    return str(value).strip() or None


def _integer(value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return int(float(text.split("\\")[0]))
    except ValueError:
        return None


def _columns(block: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    return {
        column: (_integer if column in INTEGER_COLUMNS else _text)(block.get(keyword))
        for column, keyword in columns.items()
    }


def refresh(
    tx: sqlite3.Connection,
    image_set_id: str,
    document: dict[str, Any] | None = None,
    version: int | None = None,
) -> None:
    """Rewrite one image set's rows (call inside the write's transaction, after the write).

    `document` and `version` spare reading the document when the caller holds the latest one; without
    them the latest version with a readable document is indexed. A deleted image set loses its rows.
    """
    image_set = tx.execute(
        "SELECT datastore_id, is_primary, deleted_at, CAST(ROUND(updated_at * 1000) AS INTEGER) AS updated_ms"
        " FROM image_sets WHERE image_set_id = ?",
        (image_set_id,),
    ).fetchone()
    if image_set is None:
        return
    datastore_id = image_set["datastore_id"]
    own = ("datastore_id = ? AND scope = ?", (datastore_id, image_set_id))
    before = {row[0] for row in tx.execute(f"SELECT study_uid FROM dicomweb_studies WHERE {own[0]}", own[1])}
    tx.execute(f"DELETE FROM dicomweb_studies WHERE {own[0]}", own[1])
    for table in ("dicomweb_series", "dicomweb_instances"):
        tx.execute(f"DELETE FROM {table} WHERE image_set_id = ?", (image_set_id,))
    if image_set["deleted_at"] is None:
        if document is None or version is None:
            version, document = _readable(tx, image_set_id)
        if document is not None and version is not None:
            study_uid = _insert(
                tx, image_set_id, datastore_id, version, bool(image_set["is_primary"]), image_set["updated_ms"], document
            )
            if study_uid is not None:
                before.add(study_uid)
    for study_uid in before:
        _aggregate_primary(tx, datastore_id, study_uid)


def _readable(tx: sqlite3.Connection, image_set_id: str) -> tuple[int | None, dict[str, Any] | None]:
    row = tx.execute(
        "SELECT version, metadata FROM image_set_versions WHERE image_set_id = ? AND metadata IS NOT NULL"
        " ORDER BY version DESC LIMIT 1",
        (image_set_id,),
    ).fetchone()
    if row is None:
        return None, None
    return int(row[0]), decode_document(bytes(row[1]))


def _insert(
    tx: sqlite3.Connection,
    image_set_id: str,
    datastore_id: str,
    version: int,
    is_primary: bool,
    updated_ms: int,
    document: dict[str, Any],
) -> str | None:
    """The rows of one document; returns its study UID (None when it has none: nothing is indexed)."""
    study = document.get("Study", {})
    study_uid = _text(study.get("DICOM", {}).get("StudyInstanceUID"))
    if study_uid is None:
        return None
    shared = {
        "datastore_id": datastore_id,
        "study_uid": study_uid,
        "is_primary": int(is_primary),
        "updated_ms": updated_ms,
        **_columns(document.get("Patient", {}).get("DICOM", {}), PATIENT_COLUMNS),
        **_columns(study.get("DICOM", {}), STUDY_COLUMNS),
    }
    modalities: set[str] = set()
    instance_total = 0
    series_blocks = study.get("Series", {})
    for series_uid, series in series_blocks.items():
        instances = series.get("Instances", {})
        series_row = {
            **shared,
            **_columns(series.get("DICOM", {}), SERIES_COLUMNS),
            "image_set_id": image_set_id,
            "series_uid": series_uid,
            "version": version,
            "instance_count": len(instances),
        }
        if series_row["modality"]:
            modalities.add(series_row["modality"])
        instance_total += len(instances)
        _insert_row(tx, "dicomweb_series", series_row)
        tx.executemany(
            _insert_sql(
                "dicomweb_instances",
                ("image_set_id", "series_uid", "sop_uid", "datastore_id", "version", "is_primary", "study_uid",
                 *INSTANCE_COLUMNS),
            ),
            [
                {
                    "image_set_id": image_set_id,
                    "series_uid": series_uid,
                    "sop_uid": sop_uid,
                    "datastore_id": datastore_id,
                    "version": version,
                    "is_primary": int(is_primary),
                    "study_uid": study_uid,
                    **_columns(instance.get("DICOM", {}), INSTANCE_COLUMNS),
                }
                for sop_uid, instance in instances.items()
            ],
        )
    study_row = {
        **{name: shared[name] for name in ("datastore_id", "study_uid", "is_primary", *_STUDY_ROW)},
        "scope": image_set_id,
        "modalities": "\\".join(sorted(modalities)) or None,
        "series_count": len(series_blocks),
        "instance_count": instance_total,
    }
    _insert_row(tx, "dicomweb_studies", study_row)
    return study_uid


def _insert_sql(table: str, columns: Iterable[str]) -> str:
    names = list(columns)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + name for name in names)})"


def _insert_row(tx: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    tx.execute(_insert_sql(table, row), row)


def _aggregate_primary(tx: sqlite3.Connection, datastore_id: str, study_uid: str) -> None:
    """Rebuild the row of a study's primary image sets (none when it has no primary image set left).

    Primary image sets of one study agree on the Patient and Study elements (docs/primary-image-sets.md);
    the most recently updated one gives them.
    """
    tx.execute(
        "DELETE FROM dicomweb_studies WHERE datastore_id = ? AND scope = ? AND study_uid = ?",
        (datastore_id, PRIMARY_SCOPE, study_uid),
    )
    members = tx.execute(
        "SELECT * FROM dicomweb_studies INDEXED BY dicomweb_studies_members WHERE datastore_id = ? AND study_uid = ? AND is_primary = 1"
        " AND scope != '' ORDER BY updated_ms DESC, scope",
        (datastore_id, study_uid),
    ).fetchall()
    if not members:
        return
    newest = members[0]
    modalities = {value for member in members for value in (member["modalities"] or "").split("\\") if value}
    row = {
        **{name: newest[name] for name in _STUDY_ROW},
        "datastore_id": datastore_id,
        "study_uid": study_uid,
        "scope": PRIMARY_SCOPE,
        "is_primary": 1,
        "modalities": "\\".join(sorted(modalities)) or None,
        "series_count": sum(member["series_count"] for member in members),
        "instance_count": sum(member["instance_count"] for member in members),
    }
    _insert_row(tx, "dicomweb_studies", row)


def record_warnings(tx: sqlite3.Connection, datastore_id: str, warnings: Iterable[tuple[str, list[int]]]) -> None:
    """Keep the warning reason codes an import gave instances (SOP Instance UID, codes); none clears them."""
    for sop_uid, codes in warnings:
        if codes:
            tx.execute(
                "INSERT OR REPLACE INTO dicomweb_instance_warnings (datastore_id, sop_uid, codes) VALUES (?, ?, ?)",
                (datastore_id, sop_uid, json.dumps(sorted(set(codes)))),
            )
        else:
            tx.execute(
                "DELETE FROM dicomweb_instance_warnings WHERE datastore_id = ? AND sop_uid = ?", (datastore_id, sop_uid)
            )


def warnings_of(conn: sqlite3.Connection, datastore_id: str, sop_uids: Iterable[str]) -> dict[str, list[int]]:
    """SOP Instance UID -> the warning reason codes its import recorded, for those that have some."""
    rows = conn.execute(
        "SELECT sop_uid, codes FROM dicomweb_instance_warnings WHERE datastore_id = ?"
        " AND sop_uid IN (SELECT value FROM json_each(?))",
        (datastore_id, json.dumps(list(sop_uids))),
    ).fetchall()
    return {row[0]: json.loads(row[1]) for row in rows}


def index_backlog(store_transaction: Any) -> int:
    """Index the image sets an older state directory holds (migration 0014's backlog); returns how many.

    `store_transaction` is `Store.transaction`; each batch is its own transaction, so a start that is
    stopped half way goes on where it stopped.
    """
    done = 0
    while True:
        with store_transaction() as tx:
            batch = [
                row[0]
                for row in tx.execute("SELECT image_set_id FROM dicomweb_index_backlog LIMIT ?", (BACKLOG_BATCH,))
            ]
            for image_set_id in batch:
                refresh(tx, image_set_id)
            tx.executemany("DELETE FROM dicomweb_index_backlog WHERE image_set_id = ?", [(item,) for item in batch])
        done += len(batch)
        if len(batch) < BACKLOG_BATCH:
            return done


def _scope_sql(image_set_id: str | None) -> tuple[str, dict[str, Any]]:
    """Which image sets a lookup sees: that one (primary or not) when given, else the primary ones."""
    if image_set_id is None:
        return "i.is_primary = 1", {}
    return "i.image_set_id = :image_set_id", {"image_set_id": image_set_id}


def find_instance(
    conn: sqlite3.Connection,
    account_id: str,
    region: str,
    datastore_id: str,
    study_uid: str,
    series_uid: str,
    sop_uid: str,
    image_set_id: str | None,
) -> tuple[str, int] | None:
    """(image set id, version) holding this instance, or None.

    Without `image_set_id` only primary image sets are looked at; with it, that image set, which must
    hold the instance under this study and series.
    """
    scope, params = _scope_sql(image_set_id)
    row = conn.execute(
        "SELECT i.image_set_id, i.version FROM dicomweb_instances AS i"
        " JOIN image_sets AS s ON s.image_set_id = i.image_set_id"
        " WHERE i.datastore_id = :datastore AND i.sop_uid = :sop AND i.series_uid = :series AND i.study_uid = :study"
        f" AND {scope} AND s.account_id = :account AND s.region = :region"
        " ORDER BY s.updated_at DESC LIMIT 1",
        {
            **params,
            "datastore": datastore_id,
            "sop": sop_uid,
            "series": series_uid,
            "study": study_uid,
            "account": account_id,
            "region": region,
        },
    ).fetchone()
    return None if row is None else (row[0], int(row[1]))


def series_image_sets(
    conn: sqlite3.Connection,
    account_id: str,
    region: str,
    datastore_id: str,
    study_uid: str,
    series_uid: str,
    image_set_id: str | None,
) -> list[tuple[str, int]]:
    """(image set id, version) of the image sets holding this series, oldest first (same rule as `find_instance`)."""
    scope, params = _scope_sql(image_set_id)
    rows = conn.execute(
        "SELECT i.image_set_id, i.version FROM dicomweb_series AS i JOIN image_sets AS s ON s.image_set_id = i.image_set_id"
        " WHERE i.datastore_id = :datastore AND i.series_uid = :series AND i.study_uid = :study"
        f" AND {scope} AND s.account_id = :account AND s.region = :region ORDER BY s.seq",
        {**params, "datastore": datastore_id, "series": series_uid, "study": study_uid, "account": account_id,
         "region": region},
    ).fetchall()
    return [(row[0], int(row[1])) for row in rows]
