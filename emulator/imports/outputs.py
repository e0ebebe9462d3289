"""The job folder's files, exactly as docs/clients.md#import-job-output shows them: manifest plus three ndjson files.

Every file is written for every completed job, empty when nothing belongs in it, so a client that
reads `failureOutputS3Uri + "failure.ndjson"` never meets NoSuchKey (the guide is silent here).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ahi.emulator.imports.s3io import S3Location
from ahi.emulator.store.import_jobs import FileRecord, ImportJob

SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
MANIFEST = "job-output-manifest.json"


def job_folder(output_s3_uri: str, datastore_id: str, job_id: str) -> str:
    """The per-job folder under the caller's outputS3Uri: `<datastoreId>-DicomImport-<jobId>/`."""
    base = output_s3_uri if output_s3_uri.endswith("/") else output_s3_uri + "/"
    return f"{base}{datastore_id}-DicomImport-{job_id}/"


def _lines(objects: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in objects).encode("utf-8")


def output_files(
    job: ImportJob, records: list[FileRecord], image_sets: list[tuple[str, int, bool]]
) -> dict[str, bytes]:
    """Object key (relative to the job folder) -> body, for a job whose every file is recorded."""
    primary = {image_set_id: is_primary for image_set_id, _, is_primary in image_sets}
    # The version the job wrote: 1 for an image set it created, later for one it added instances to.
    written = {image_set_id: version for image_set_id, version, _ in image_sets}
    successes = [record for record in records if record.outcome == SUCCESS]
    failures = [record for record in records if record.outcome == FAILURE]
    matched = Counter(record.image_set_id for record in successes)
    folder = job.output_s3_uri
    summary = {
        "jobId": job.job_id,
        "datastoreId": job.datastore_id,
        "inputS3Uri": job.input_s3_uri,
        "outputS3Uri": folder,
        "successOutputS3Uri": f"{folder}SUCCESS/",
        "failureOutputS3Uri": f"{folder}FAILURE/",
        "warningsOutputS3Uri": f"{folder}WARNING/",
        "numberOfScannedFiles": len(records),
        "numberOfImportedFiles": len(successes),
        "numberOfFilesWithCustomerError": sum(1 for record in failures if record.customer_error),
        "numberOfFilesWithServerError": sum(1 for record in failures if not record.customer_error),
        "numberOfGeneratedImageSets": len(image_sets),
        "imageSetsSummary": [
            {
                "imageSetId": image_set_id,
                "imageSetVersion": version,
                "isPrimary": is_primary,
                "numberOfMatchedSOPInstances": matched[image_set_id],
            }
            for image_set_id, version, is_primary in image_sets
        ],
    }
    success_lines = [
        {
            "inputFile": record.input_file,
            "importResponse": {"imageSetId": record.image_set_id, "isPrimary": primary.get(record.image_set_id, True)},
        }
        for record in successes
    ]
    warning_lines = [
        {
            "inputFile": record.input_file,
            "importResponse": {
                "imageSetId": record.image_set_id,
                "imageSetVersion": written.get(record.image_set_id, 1),
                "isPrimary": primary.get(record.image_set_id, True),
                "warnings": record.detail,
            },
        }
        for record in successes
        if record.detail
    ]
    failure_lines = [{"inputFile": record.input_file, "exception": record.detail} for record in failures]
    return {
        MANIFEST: json.dumps({"jobSummary": summary}, indent=2).encode("utf-8"),
        "SUCCESS/success.ndjson": _lines(success_lines),
        "FAILURE/failure.ndjson": _lines(failure_lines),
        "WARNING/warning.ndjson": _lines(warning_lines),
    }


def folder_location(job: ImportJob) -> S3Location:
    """The job folder as a bucket and key prefix."""
    return S3Location.parse(job.output_s3_uri)
