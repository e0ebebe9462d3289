"""SIGKILL `ahi local` at random points during imports, updates, copies, deletes and tagging; nothing acknowledged is lost.

Each life of the endpoint runs the workload (durability_workload.py) for a random time, then dies by
SIGKILL and starts again on the same state directory and port. The last life runs until every job has
ended and every lock has settled, then the invariants are checked through the API and in the store:

- every import job ends COMPLETED or FAILED; a completed job's records name every input file once and
  exactly the image sets that exist for it (three, one per series: a resumed job adds no duplicate);
  and its manifest in S3, whichever life wrote it, lists exactly those image sets (moto's S3 is saved
  in the state directory: docs/local-world.md);
- no image set without all its frames: every frame row has its file at its size, and every frame the
  metadata lists comes back from GetImageFrame at its size;
- no version lost: versions run 1..latest without gaps, and every acknowledged update's version is
  listed and carries the value that update wrote;
- acknowledged copies exist with their frames; acknowledged deletes are DELETED;
- tags are as last acknowledged (or as a write in flight at the kill left them).
"""

from __future__ import annotations

import gzip
import json
import random
import sqlite3
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

from durability_ledger import Ledger
from durability_workload import Workload, manifest_image_sets, start_job
from durable_inputs import INPUT_PREFIX, SERIES, input_files, put_inputs_into_moto
from local_process import start_local

SEED = 20240611
#: Seconds of kill cycles; the whole test stays well under a minute.
BUDGET_SECONDS = 15.0
MIN_LIVES, MAX_LIVES = 5, 14
#: How long a wait for jobs or locks may poll: generous, as a machine running the suite on both cores is slow.
SETTLE_SECONDS = 60.0


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


def all_jobs(mi: Any, datastore_id: str) -> list[dict[str, Any]]:
    pages = mi.get_paginator("list_dicom_import_jobs").paginate(datastoreId=datastore_id)
    return [job for page in pages for job in page["jobSummaries"]]


def test_sigkill_at_random_points_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    state, logs = tmp_path / "state", tmp_path / "logs"
    child = start_local(logs, "--state-dir", str(state), before=put_inputs_into_moto)
    port = child.port
    mi = child.client()
    datastore_id = mi.create_datastore(datastoreName="durable", clientToken="durable")["datastoreId"]
    wait_for(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE",
             10, "the data store")
    datastore_arn = mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreArn"]
    ledger = Ledger()
    first_job = start_job(mi, datastore_id)
    ledger.add("jobs", first_job)
    wait_for(lambda: mi.get_dicom_import_job(datastoreId=datastore_id, jobId=first_job)["jobProperties"]["jobStatus"]
             == "COMPLETED", SETTLE_SECONDS, "the first job")

    lives, started = 0, time.monotonic()
    while lives < MAX_LIVES and (lives < MIN_LIVES or time.monotonic() - started < BUDGET_SECONDS):
        workload = Workload(child.client(), child.client("s3"), datastore_id, datastore_arn, ledger, rng.randrange(1 << 30))
        workload.start()
        time.sleep(rng.uniform(0.1, 1.5))
        child.kill()
        workload.join()
        assert not workload.errors, f"seed {SEED}, life {lives}: " + "".join(traceback.format_exception(workload.errors[0]))
        child = start_local(logs, "--state-dir", str(state), "--port", str(port), before=put_inputs_into_moto)
        lives += 1
    print(f"{lives} kills in {time.monotonic() - started:.1f} s")

    mi, s3 = child.client(attempts=3), child.client("s3", attempts=3)
    try:
        ledger.add("jobs", start_job(mi, datastore_id))  # one job certain to write its manifest in this life
        jobs = wait_for(lambda: settled_jobs(mi, datastore_id), SETTLE_SECONDS, "every import job to end")
        database = state / "state.sqlite3"
        wait_for(lambda: not locks_left(database), SETTLE_SECONDS, "every image set lock to settle")
        store = StoreView.read(database)
        check_jobs(mi, s3, jobs, ledger, store)
        check_frames_on_disk(store, state)
        check_versions(mi, datastore_id, ledger, store)
        check_copies_and_deletes(mi, datastore_id, ledger)
        check_frames_over_the_api(mi, datastore_id, store)
        check_tags(mi, datastore_arn, ledger)
        assert lives >= MIN_LIVES and len(ledger.jobs) > lives, "the workload did too little to mean anything"
        assert ledger.updates and ledger.copies, "no update or copy was acknowledged"
    finally:
        assert child.stop() == 0
    assert "Traceback" not in child.stderr(), child.stderr()[-3000:]


def settled_jobs(mi: Any, datastore_id: str) -> list[dict[str, Any]] | None:
    jobs = all_jobs(mi, datastore_id)
    return jobs if all(job["jobStatus"] in ("COMPLETED", "FAILED") for job in jobs) else None


def locks_left(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM image_set_locks").fetchone()[0])


class StoreView:
    """The store's own record, read once the endpoint has settled (SQLite allows a reader beside it)."""

    def __init__(self, rows: dict[str, list[sqlite3.Row]]) -> None:
        self.jobs = {row["job_id"]: row for row in rows["jobs"]}
        self.image_sets = {row["image_set_id"]: row for row in rows["image_sets"]}
        self.versions: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for row in rows["versions"]:
            self.versions[row["image_set_id"]].append(row)
        self.frames: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for row in rows["frames"]:
            self.frames[row["image_set_id"]].append(row)
        self.records: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for row in rows["records"]:
            self.records[row["job_id"]].append(row)

    @classmethod
    def read(cls, database: Path) -> StoreView:
        queries = {
            "jobs": "SELECT job_id, status, message, ended_at FROM import_jobs",
            "image_sets": "SELECT image_set_id, latest_version, import_job_id, deleted_at FROM image_sets",
            "versions": "SELECT image_set_id, version, state, workflow_status FROM image_set_versions ORDER BY version",
            "frames": "SELECT image_set_id, frame_id, path, size FROM image_frames",
            "records": "SELECT job_id, input_file, outcome, image_set_id FROM import_job_files",
        }
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            conn.row_factory = sqlite3.Row
            conn.execute("BEGIN")
            return cls({name: conn.execute(sql).fetchall() for name, sql in queries.items()})

    def image_sets_of_job(self, job_id: str) -> set[str]:
        return {image_set_id for image_set_id, row in self.image_sets.items() if row["import_job_id"] == job_id}


def check_jobs(
    mi: Any, s3: Any, jobs: list[dict[str, Any]], ledger: Ledger, store: StoreView
) -> None:
    listed = {job["jobId"]: job for job in jobs}
    assert set(ledger.jobs) <= set(listed), "an acknowledged StartDICOMImportJob was lost"
    assert set(listed) == set(store.jobs)
    inputs = {INPUT_PREFIX + name for name, _ in input_files()}
    for job_id, job in listed.items():
        # The input survives every kill (durable_inputs.py), so nothing may make a job fail.
        assert job["jobStatus"] == "COMPLETED", f"job {job_id} ended {job['jobStatus']}: {store.jobs[job_id]['message']}"
        records = store.records[job_id]
        assert {record["input_file"] for record in records} == inputs, f"job {job_id} does not report every file once"
        reported = {record["image_set_id"] for record in records if record["outcome"] == "SUCCESS"}
        existing = store.image_sets_of_job(job_id)
        assert reported == existing and len(existing) == SERIES, f"job {job_id}: records {reported} vs image sets {existing}"
        # Outputs are saved before the job is marked COMPLETED, so a completed job's manifest survived every kill.
        properties = mi.get_dicom_import_job(datastoreId=job["datastoreId"], jobId=job_id)["jobProperties"]
        listed_in_manifest = manifest_image_sets(s3, properties["outputS3Uri"])
        assert listed_in_manifest is not None, f"job {job_id}: its manifest was lost"
        assert set(listed_in_manifest) == existing, f"job {job_id}: manifest {listed_in_manifest} vs {existing}"
    print(f"{len(listed)} jobs, every manifest read from S3")


def check_frames_on_disk(store: StoreView, state: Path) -> None:
    root = state / "frames"
    for image_set_id, row in store.image_sets.items():
        if row["deleted_at"] is not None:
            continue
        frames = store.frames[image_set_id]
        assert frames, f"image set {image_set_id} has no frames"
        for frame in frames:
            path = root / frame["path"]
            assert path.is_file() and path.stat().st_size == frame["size"], f"image set {image_set_id}: frame {path}"
    referenced = {frame["path"] for rows in store.frames.values() for frame in rows}
    on_disk = {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
    print(f"{len(on_disk - referenced)} frame files on disk that no frame row references (space, not data, lost)")


def check_versions(mi: Any, datastore_id: str, ledger: Ledger, store: StoreView) -> None:
    for image_set_id, row in store.image_sets.items():
        numbers = [version["version"] for version in store.versions[image_set_id]]
        assert numbers == list(range(1, row["latest_version"] + 1)), f"image set {image_set_id} versions {numbers}"
        assert all(version["state"] != "LOCKED" for version in store.versions[image_set_id])
    for update in ledger.updates:
        listed = mi.get_paginator("list_image_set_versions").paginate(datastoreId=datastore_id, imageSetId=update.image_set_id)
        versions = {int(v["versionId"]): v for page in listed for v in page["imageSetPropertiesList"]}
        assert update.version in versions, f"acknowledged version {update.version} of {update.image_set_id} is lost"
        assert versions[update.version]["ImageSetWorkflowStatus"] == "UPDATED", versions[update.version]
        document = metadata(mi, datastore_id, update.image_set_id, str(update.version))
        assert document["Study"]["DICOM"]["StudyDescription"] == update.marker


def check_copies_and_deletes(mi: Any, datastore_id: str, ledger: Ledger) -> None:
    deleted, attempted = set(ledger.deletes), set(ledger.delete_attempts)
    for image_set_id in set(ledger.copies):
        state = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetState"]
        if image_set_id in deleted:
            assert state == "DELETED", f"acknowledged delete of {image_set_id}: {state}"
        elif image_set_id in attempted:
            assert state in ("ACTIVE", "DELETED"), state
        else:
            assert state == "ACTIVE", f"acknowledged copy {image_set_id} is {state}"


def check_frames_over_the_api(mi: Any, datastore_id: str, store: StoreView) -> None:
    for image_set_id, row in store.image_sets.items():
        if row["deleted_at"] is not None:
            continue
        document = metadata(mi, datastore_id, image_set_id, None)
        frames = [
            frame
            for series in document["Study"]["Series"].values()
            for instance in series["Instances"].values()
            for frame in instance.get("ImageFrames", [])
        ]
        assert frames, f"image set {image_set_id} lists no frames"
        for frame in frames:
            blob = mi.get_image_frame(
                datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": frame["ID"]}
            )["imageFrameBlob"].read()
            assert len(blob) == frame["FrameSizeInBytes"], f"image set {image_set_id} frame {frame['ID']}"


def check_tags(mi: Any, datastore_arn: str, ledger: Ledger) -> None:
    tags = mi.list_tags_for_resource(resourceArn=datastore_arn)["tags"]
    for key, history in ledger.tags.items():
        assert tags.get(key) in history.allowed(), f"tag {key}: {tags.get(key)!r}, acknowledged {history.acknowledged!r}"


def metadata(mi: Any, datastore_id: str, image_set_id: str, version: str | None) -> dict[str, Any]:
    extra = {"versionId": version} if version else {}
    response = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id, **extra)
    return json.loads(gzip.decompress(response["imageSetMetadataBlob"].read()))


def test_ledger_accepts_only_acknowledged_or_in_flight_tag_values() -> None:
    ledger = Ledger()
    ledger.tag_sent("k", "a")
    ledger.tag_acknowledged("k", "a")
    ledger.tag_sent("k", "b")
    assert ledger.tags["k"].allowed() == {"a", "b"}
    ledger.tag_acknowledged("k", "b")
    assert ledger.tags["k"].allowed() == {"b"}
