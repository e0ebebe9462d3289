"""The writes the durability test keeps making while the endpoint is killed under them.

Two threads: one starts import jobs and tags the data store, one updates, copies and deletes image
sets. Each stops at its first transport error (the endpoint died) and records only what was answered.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from durability_ledger import ABSENT, AckedUpdate, Ledger
from durable_inputs import INPUT_BUCKET, INPUT_PREFIX, OUTPUT_BUCKET

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
TAG_KEYS = ("k0", "k1", "k2", "k3")
MANIFEST = "job-output-manifest.json"


class EndpointGone(Exception):
    """The endpoint stopped answering (killed): the thread's life is over."""


def answered(call: Callable[..., Any], **params: Any) -> Any:
    """The call's result; EndpointGone on a transport failure (refused, reset, closed, timed out)."""
    try:
        return call(**params)
    except BotoCoreError as exc:
        raise EndpointGone(type(exc).__name__) from exc


def start_job(mi: Any, datastore_id: str) -> str:
    response = answered(
        mi.start_dicom_import_job,
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://{INPUT_BUCKET}/{INPUT_PREFIX}",
        outputS3Uri=f"s3://{OUTPUT_BUCKET}/out/",
    )
    return str(response["jobId"])


def manifest_image_sets(s3: Any, output_s3_uri: str) -> list[str] | None:
    """The image set ids a job's manifest lists; None when the manifest is not in S3 (an earlier life wrote it)."""
    bucket, _, folder = output_s3_uri.removeprefix("s3://").partition("/")
    try:
        # The body is read under `answered` too: a kill can cut it off once the headers have come.
        body = answered(answered(s3.get_object, Bucket=bucket, Key=folder + MANIFEST)["Body"].read)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "NoSuchBucket"):
            return None
        raise
    return [entry["imageSetId"] for entry in json.loads(body)["jobSummary"]["imageSetsSummary"]]


class Workload:
    """The writers of one life of the endpoint; `run` until `stop` is set or the endpoint dies."""

    def __init__(self, mi: Any, s3: Any, datastore_id: str, datastore_arn: str, ledger: Ledger, seed: int) -> None:
        self.mi, self.s3 = mi, s3
        self.datastore_id, self.datastore_arn = datastore_id, datastore_arn
        self.ledger = ledger
        self.seed = seed
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.harvested: set[str] = set()
        self._threads = [
            threading.Thread(target=self._guarded, args=(self.imports_and_tags, seed), daemon=True),
            threading.Thread(target=self._guarded, args=(self.image_set_writes, seed + 1), daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(30)
            assert not thread.is_alive(), "a workload thread hung after the endpoint died"

    def _guarded(self, body: Callable[[random.Random], None], seed: int) -> None:
        try:
            body(random.Random(seed))
        except EndpointGone:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)

    def imports_and_tags(self, rng: random.Random) -> None:
        count = 0
        while not self.stop.is_set():
            if count % 10 == 0:
                self.ledger.add("jobs", start_job(self.mi, self.datastore_id))
            key = rng.choice(TAG_KEYS)
            if rng.random() < 0.2:
                self.ledger.tag_sent(key, ABSENT)
                answered(self.mi.untag_resource, resourceArn=self.datastore_arn, tagKeys=[key])
                self.ledger.tag_acknowledged(key, ABSENT)
            else:
                value = f"value-{self.seed}-{count}"
                self.ledger.tag_sent(key, value)
                answered(self.mi.tag_resource, resourceArn=self.datastore_arn, tags={key: value})
                self.ledger.tag_acknowledged(key, value)
            count += 1
            time.sleep(0.01)

    def image_set_writes(self, rng: random.Random) -> None:
        count = 0
        while not self.stop.is_set():
            if count % 10 == 0:
                self.harvest()
            originals = self.ledger.snapshot("originals")
            if not originals:
                time.sleep(0.05)
                count += 1
                continue
            roll = rng.random()
            try:
                if roll < 0.5:
                    self.update(rng.choice(originals), f"marker-{self.seed}-{count}")
                elif roll < 0.8:
                    self.copy(rng.choice(originals))
                else:
                    self.delete_a_copy(rng)
            except ClientError as error:  # LOCKED by another write, already deleted: the service said no
                if error.response["Error"]["Code"] not in ("ConflictException", "ResourceNotFoundException"):
                    raise
            count += 1
            time.sleep(0.01)

    def harvest(self) -> None:
        """Learn image set ids from the manifests of jobs that completed in this life."""
        for job_id in self.ledger.snapshot("jobs"):
            if job_id in self.harvested:
                continue
            job = answered(self.mi.get_dicom_import_job, datastoreId=self.datastore_id, jobId=job_id)["jobProperties"]
            if job["jobStatus"] not in ("COMPLETED", "FAILED"):
                continue
            self.harvested.add(job_id)
            for image_set_id in manifest_image_sets(self.s3, job["outputS3Uri"]) or []:
                self.ledger.add("originals", image_set_id)

    def latest(self, image_set_id: str) -> dict[str, Any] | None:
        """GetImageSet when the image set is ACTIVE (writable), else None."""
        properties = answered(self.mi.get_image_set, datastoreId=self.datastore_id, imageSetId=image_set_id)
        return properties if properties["imageSetState"] == "ACTIVE" else None

    def update(self, image_set_id: str, marker: str) -> None:
        current = self.latest(image_set_id)
        if current is None:
            return
        patch = {"SchemaVersion": "1.1", "Study": {"DICOM": {"StudyDescription": marker}}}
        response = answered(
            self.mi.update_image_set_metadata,
            datastoreId=self.datastore_id,
            imageSetId=image_set_id,
            latestVersionId=current["versionId"],
            updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(patch).encode()}},
        )
        self.ledger.add("updates", AckedUpdate(image_set_id, int(response["latestVersionId"]), marker))

    def copy(self, image_set_id: str) -> None:
        current = self.latest(image_set_id)
        if current is None:
            return
        response = answered(
            self.mi.copy_image_set,
            datastoreId=self.datastore_id,
            sourceImageSetId=image_set_id,
            copyImageSetInformation={"sourceImageSet": {"latestVersionId": current["versionId"]}},
        )
        self.ledger.add("copies", response["destinationImageSetProperties"]["imageSetId"])

    def delete_a_copy(self, rng: random.Random) -> None:
        candidates = sorted(set(self.ledger.snapshot("copies")) - set(self.ledger.snapshot("deletes")))
        if not candidates:
            return
        image_set_id = rng.choice(candidates)
        if self.latest(image_set_id) is None:
            return
        self.ledger.add("delete_attempts", image_set_id)
        answered(self.mi.delete_image_set, datastoreId=self.datastore_id, imageSetId=image_set_id)
        self.ledger.add("deletes", image_set_id)
