"""Many clients writing at once lose nothing and never get a 500; a kill -9 loses nothing committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from imageset_flows import metadata, new_datastore, update, wait_unlocked
from import_runs import run_import

from ahi.emulator.arns import image_set_arn
from ahi.emulator.config import EndpointConfig
from ahi.emulator.demo import phantoms

THREADS = 16
SERIES = ("axial", "coronal", "sagittal", "oblique")
UPDATES_PER_THREAD = 3
TAGS_PER_THREAD = 4
COPIES_PER_THREAD = 2
DEADLINE_SECONDS = 60
STARTUP_SECONDS = 30
ACCOUNT = "123456789012"
#: The only error a contended write may get: the image set is LOCKED or its version moved on.
RETRYABLE = {"ConflictException"}


@dataclass
class Ledger:
    """What the service acknowledged (HTTP 200), and every error it answered."""

    updates: list[tuple[str, str, str]] = field(default_factory=list)  # image set, version, value
    tags: list[tuple[str, str]] = field(default_factory=list)  # image set, tag key
    copies: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, item: Any) -> None:
        with self.lock:
            getattr(self, kind).append(item)


def retrying(ledger: Ledger, call: Callable[[], Any], deadline: float) -> Any:
    """Run `call` until it succeeds; a Conflict is retried, any other error is recorded and ends the attempt."""
    while time.monotonic() < deadline:
        try:
            return call()
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in RETRYABLE:
                ledger.record("unexpected", f"{code} {error.response['ResponseMetadata']['HTTPStatusCode']}")
                return None
            time.sleep(0.005)
    ledger.record("unexpected", "deadline")
    return None


def latest_version(mi: Any, datastore_id: str, image_set_id: str) -> str:
    return str(mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["versionId"])


def updater(mi: Any, ledger: Ledger, datastore_id: str, image_set_id: str, name: str, deadline: float) -> None:
    for index in range(UPDATES_PER_THREAD):
        value = f"{name} update {index}"

        def attempt() -> str:
            version = latest_version(mi, datastore_id, image_set_id)
            patch = {"Study": {"DICOM": {"StudyDescription": value}}}
            return str(update(mi, datastore_id, image_set_id, version, updatable=patch)["latestVersionId"])

        version = retrying(ledger, attempt, deadline)
        if version is not None:
            ledger.record("updates", (image_set_id, version, value))


def tagger(mi: Any, ledger: Ledger, datastore_id: str, image_set_id: str, name: str, deadline: float) -> None:
    arn = image_set_arn("us-east-1", ACCOUNT, datastore_id, image_set_id)
    for index in range(TAGS_PER_THREAD):
        key = f"{name}-{index}"
        if retrying(ledger, lambda: mi.tag_resource(resourceArn=arn, tags={key: "v"}), deadline) is not None:
            ledger.record("tags", (image_set_id, key))


def copier(mi: Any, ledger: Ledger, datastore_id: str, image_set_id: str, name: str, deadline: float) -> None:
    for _ in range(COPIES_PER_THREAD):

        def attempt() -> str:
            version = latest_version(mi, datastore_id, image_set_id)
            response = mi.copy_image_set(
                datastoreId=datastore_id,
                sourceImageSetId=image_set_id,
                copyImageSetInformation={"sourceImageSet": {"latestVersionId": version}},
            )
            return str(response["destinationImageSetProperties"]["imageSetId"])

        copy_id = retrying(ledger, attempt, deadline)
        if copy_id is not None:
            ledger.record("copies", copy_id)


ROLES = (updater, updater, tagger, copier)


def test_sixteen_clients_updating_tagging_and_copying_lose_nothing(
    endpoint_config: EndpointConfig, make_client: Any, mi: Any, s3: Any
) -> None:
    endpoint_config.imageset_lock_seconds = 0.02
    datastore_id = new_datastore(mi)
    files = [file for key in SERIES for file in phantoms.ct_series(2, 32, series_key=key)]
    image_sets = run_import(mi, s3, datastore_id, files, prefix="concurrency").image_set_ids
    assert len(image_sets) == len(SERIES)
    ledger = Ledger()
    deadline = time.monotonic() + DEADLINE_SECONDS
    threads = []
    for number in range(THREADS):
        role = ROLES[number % len(ROLES)]
        target = image_sets[(number // len(ROLES)) % len(image_sets)]
        client = make_client("medical-imaging")
        threads.append(
            threading.Thread(target=role, args=(client, ledger, datastore_id, target, f"t{number}", deadline))
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 5)

    assert ledger.unexpected == []
    assert len(ledger.updates) == 8 * UPDATES_PER_THREAD
    assert len(ledger.tags) == 4 * TAGS_PER_THREAD
    assert len(ledger.copies) == 4 * COPIES_PER_THREAD
    for image_set_id in image_sets:
        wait_unlocked(mi, datastore_id, image_set_id)
        acknowledged = {version: value for target, version, value in ledger.updates if target == image_set_id}
        listed = mi.list_image_set_versions(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetPropertiesList"]
        assert [v["versionId"] for v in listed] == [str(n) for n in range(len(acknowledged) + 1, 0, -1)]
        assert {v["ImageSetWorkflowStatus"] for v in listed[:-1]} == {"UPDATED"}
        for version, value in acknowledged.items():
            assert metadata(mi, datastore_id, image_set_id, versionId=version)["Study"]["DICOM"]["StudyDescription"] == value
        tags = mi.list_tags_for_resource(resourceArn=image_set_arn("us-east-1", ACCOUNT, datastore_id, image_set_id))
        assert set(tags["tags"]) == {key for target, key in ledger.tags if target == image_set_id}
    for copy_id in ledger.copies:
        done = wait_unlocked(mi, datastore_id, copy_id)
        assert (done["versionId"], done["imageSetWorkflowStatus"]) == ("1", "COPIED")
        assert metadata(mi, datastore_id, copy_id)["ImageSetID"] == copy_id


# --- kill -9 -------------------------------------------------------------------------------------


def ahi_command() -> list[str]:
    script = Path(sys.executable).with_name("ahi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ahi.tui.cli"]


@dataclass
class LocalProcess:
    """`ahi local` in a subprocess on a fixed state directory."""

    state_dir: Path
    log: Path
    process: subprocess.Popen[str] | None = None
    url: str = ""

    def start(self) -> LocalProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with open(self.log, "a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [*ahi_command(), "local", "--state-dir", str(self.state_dir), "--imageset-lock-seconds", "0.05"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
            )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("export AWS_ENDPOINT_URL="):
                self.url = line.strip().partition("=")[2]
            if "stops it" in line:
                return self
        raise AssertionError(f"ahi local exited early; see {self.log}")

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="AKIDKILLTEST",
            aws_secret_access_key="secret",
            config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(STARTUP_SECONDS)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.communicate(timeout=STARTUP_SECONDS)


@pytest.fixture
def local_process(tmp_path: Path) -> Iterator[LocalProcess]:
    process = LocalProcess(tmp_path / "state", tmp_path / "ahi-local.log")
    try:
        yield process.start()
    finally:
        process.stop()


def test_everything_acknowledged_survives_kill_9(local_process: LocalProcess) -> None:
    mi, s3 = local_process.client("medical-imaging"), local_process.client("s3")
    datastore_id = new_datastore(mi)
    image_set_id = run_import(mi, s3, datastore_id, phantoms.ct_series(2, 32), prefix="kill").only()["imageSetId"]
    arn = image_set_arn("us-east-1", ACCOUNT, datastore_id, image_set_id)
    ledger = Ledger()
    stop = threading.Event()

    def write_until_killed() -> None:
        index = 0
        while not stop.is_set():
            value = f"before kill {index}"
            try:
                version = latest_version(mi, datastore_id, image_set_id)
                response = update(
                    mi, datastore_id, image_set_id, version, updatable={"Study": {"DICOM": {"StudyDescription": value}}}
                )
                ledger.record("updates", (image_set_id, response["latestVersionId"], value))
                mi.tag_resource(resourceArn=arn, tags={f"k{index}": "v"})
                ledger.record("tags", (image_set_id, f"k{index}"))
            except ClientError as error:
                if error.response["Error"]["Code"] not in RETRYABLE:
                    ledger.record("unexpected", error.response["Error"]["Code"])
            except Exception:  # noqa: BLE001 - the connection drops when the process dies
                return
            index += 1

    writer = threading.Thread(target=write_until_killed)
    writer.start()
    deadline = time.monotonic() + 20
    while len(ledger.updates) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    local_process.kill()
    stop.set()
    writer.join(10)
    assert ledger.unexpected == []
    assert len(ledger.updates) >= 5

    restarted = local_process.start()
    client = restarted.client("medical-imaging")
    done = wait_unlocked(client, datastore_id, image_set_id)
    assert done["imageSetState"] == "ACTIVE", "a write in flight at the kill settled after the restart"
    listed = client.list_image_set_versions(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetPropertiesList"]
    statuses = {v["versionId"]: v["ImageSetWorkflowStatus"] for v in listed}
    for _, version, value in ledger.updates:
        assert statuses[version] == "UPDATED"
        assert metadata(client, datastore_id, image_set_id, versionId=version)["Study"]["DICOM"]["StudyDescription"] == value
    tags = client.list_tags_for_resource(resourceArn=arn)["tags"]
    assert {key for _, key in ledger.tags} <= set(tags)
