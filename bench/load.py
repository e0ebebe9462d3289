"""Load bench: 16 concurrent boto3 clients against the local endpoint, on waitress and on Werkzeug's server.

The endpoint runs in its own process (so the clients' GIL does not slow it), seeded with one data
store and one image set per client (imported from synthetic CT). For `--seconds`, each client thread
runs a mix: ListDatastores, SearchImageSets, GetImageSetMetadata, GetImageFrame, TagResource (its own
key) and UpdateImageSetMetadata (its own image set, when it is not LOCKED). Printed per operation:
requests per second, p50 and p99 latency, errors by code; overall the count of 5xx (goal: zero) and
of lost writes, checked afterwards: every acknowledged tag value is the one listed, every acknowledged
update's version exists and carries what that update wrote (goal: zero).

The run is made twice: on the endpoint's server (waitress: HTTP/1.1 keep-alive, a fixed pool of
threads) and on Werkzeug's threaded development server it replaced (`Connection: close`, a new TCP
connection and thread per request), and the ratio of their throughput is printed.

    .venv/bin/python bench/load.py [--clients 16] [--seconds 20] [--mode both|waitress|werkzeug]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
MIX = (("ListDatastores", 10), ("SearchImageSets", 15), ("GetImageSetMetadata", 25), ("GetImageFrame", 30),
       ("TagResource", 10), ("UpdateImageSetMetadata", 10))


class WerkzeugServer:
    """Werkzeug's threaded server behind the endpoint's server interface (emulator/server.py `Server`)."""

    def __init__(self, app: Any, host: str, port: int, handler: Any) -> None:
        from werkzeug.serving import make_server

        self._server = make_server(host, port, app, threaded=True, request_handler=handler)
        self._thread: threading.Thread | None = None

    @property
    def app(self) -> Any:
        return self._server.app

    @property
    def server_address(self) -> tuple[str, int]:
        return self._server.server_address[0], self._server.server_port

    def start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=name,
                                        daemon=True)
        self._thread.start()

    def stop(self, join_seconds: float) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(join_seconds)


def serve(state_dir: str, server: str) -> None:
    """Child process: the endpoint with `ahi local`'s settings on `server`, printing its URL, until stdin closes."""
    from ahi.emulator.config import EndpointConfig
    from ahi.emulator.server import LocalEndpoint

    class WerkzeugEndpoint(LocalEndpoint):
        def make_server(self, app: Any) -> Any:
            assert self.runtime is not None
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # as before: no line per request
            return WerkzeugServer(app, self.config.host, self.config.port, self.runtime.moto.request_handler())

    kind = WerkzeugEndpoint if server == "werkzeug" else LocalEndpoint
    with kind(EndpointConfig(state_dir=Path(state_dir))) as endpoint:
        print(endpoint.url, flush=True)
        sys.stdin.read()


@dataclass
class World:
    url: str
    datastore_id: str
    datastore_arn: str
    #: Image sets only read (a LOCKED one's metadata is a ConflictException), and their frame ids.
    image_sets: list[str]
    frames: dict[str, list[str]]
    #: One image set per client that only that client updates.
    owned: list[str]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    server_errors: int = 0
    transport_errors: int = 0
    acked_tags: dict[str, str] = field(default_factory=dict)
    acked_updates: list[tuple[str, int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(url: str, service: str = "medical-imaging") -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench",
        config=Config(inject_host_prefix=False, retries={"mode": "standard", "total_max_attempts": 1},
                      max_pool_connections=4),
    )


def seed(url: str, clients: int) -> World:
    """A data store with two imported CT series per client (8 slices of 256x256): one to read, one to update."""
    from ahi.emulator.demo.phantoms import ct_series

    mi, s3 = client(url), client(url, "s3")
    s3.create_bucket(Bucket="load-in")
    s3.create_bucket(Bucket="load-out")
    for index in range(2 * clients):
        for name, data in ct_series(8, 256, series_key=f"load-{index}"):
            s3.put_object(Bucket="load-in", Key=f"in/{name}", Body=data)
    datastore_id = mi.create_datastore(datastoreName="load")["datastoreId"]
    while (properties := mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"])["datastoreStatus"] != "ACTIVE":
        time.sleep(0.05)
    job_id = mi.start_dicom_import_job(datastoreId=datastore_id, dataAccessRoleArn=ROLE, inputS3Uri="s3://load-in/in/",
                                       outputS3Uri="s3://load-out/out/")["jobId"]
    while (job := mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"])["jobStatus"] not in (
        "COMPLETED", "FAILED"
    ):
        time.sleep(0.1)
    if job["jobStatus"] != "COMPLETED":
        raise SystemExit(f"seeding failed: {job.get('message')}")
    folder = job["outputS3Uri"].removeprefix("s3://load-out/")
    manifest = json.loads(s3.get_object(Bucket="load-out", Key=folder + "job-output-manifest.json")["Body"].read())
    image_sets = [entry["imageSetId"] for entry in manifest["jobSummary"]["imageSetsSummary"]]
    read, owned = image_sets[:clients], image_sets[clients:]
    frames = {image_set_id: frame_ids(mi, datastore_id, image_set_id) for image_set_id in read}
    return World(url, datastore_id, properties["datastoreArn"], read, frames, owned)


def document(mi: Any, datastore_id: str, image_set_id: str, version: str | None = None) -> dict[str, Any]:
    extra = {"versionId": version} if version else {}
    blob = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id, **extra)["imageSetMetadataBlob"]
    return json.loads(gzip.decompress(blob.read()))


def frame_ids(mi: Any, datastore_id: str, image_set_id: str) -> list[str]:
    found = document(mi, datastore_id, image_set_id)
    return [frame["ID"] for series in found["Study"]["Series"].values() for instance in series["Instances"].values()
            for frame in instance["ImageFrames"]]


def worker(number: int, world: World, results: Results, stop: threading.Event, operations: list[str]) -> None:
    """One client: the weighted mix until `stop`; only its own tag key and its own image set are written."""
    mi = client(world.url)
    rng = random.Random(number)
    weights = [weight for name, weight in MIX if name in operations]
    names = [name for name, _ in MIX if name in operations]
    own = world.owned[number]
    count = 0
    while not stop.is_set():
        operation = rng.choices(names, weights)[0]
        image_set_id = rng.choice(world.image_sets)
        started = time.perf_counter()
        try:
            acked = run(mi, world, operation, image_set_id, own, f"client-{number}", f"value-{number}-{count}")
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            with results.lock:
                results.errors[(operation, error.response["Error"]["Code"])] += 1
                results.server_errors += status >= 500
            continue
        except BotoCoreError as error:
            with results.lock:
                results.errors[(operation, type(error).__name__)] += 1
                results.transport_errors += 1
            continue
        finally:
            count += 1
        elapsed = time.perf_counter() - started
        with results.lock:
            results.latencies[operation].append(elapsed)
            if operation == "TagResource":
                results.acked_tags[f"client-{number}"] = f"value-{number}-{count - 1}"
            elif operation == "UpdateImageSetMetadata" and acked is not None:
                results.acked_updates.append(acked)


def run(mi: Any, world: World, operation: str, image_set_id: str, own: str, tag_key: str, value: str) -> Any:
    """One call of the mix; an acknowledged update returns (image set, version, value written)."""
    if operation == "ListDatastores":
        mi.list_datastores(maxResults=10)
    elif operation == "SearchImageSets":
        mi.search_image_sets(datastoreId=world.datastore_id, maxResults=10, searchCriteria={
            "filters": [{"values": [{"DICOMPatientId": "AHI-DEMO-001"}], "operator": "EQUAL"}]})
    elif operation == "GetImageSetMetadata":
        mi.get_image_set_metadata(datastoreId=world.datastore_id, imageSetId=image_set_id)["imageSetMetadataBlob"].read()
    elif operation == "GetImageFrame":
        frame = random.choice(world.frames[image_set_id])
        mi.get_image_frame(datastoreId=world.datastore_id, imageSetId=image_set_id,
                           imageFrameInformation={"imageFrameId": frame})["imageFrameBlob"].read()
    elif operation == "TagResource":
        mi.tag_resource(resourceArn=world.datastore_arn, tags={tag_key: value})
    elif operation == "UpdateImageSetMetadata":
        current = mi.get_image_set(datastoreId=world.datastore_id, imageSetId=own)
        if current["imageSetState"] != "ACTIVE":
            return None
        patch = {"SchemaVersion": "1.1", "Study": {"DICOM": {"StudyDescription": value}}}
        response = mi.update_image_set_metadata(
            datastoreId=world.datastore_id, imageSetId=own, latestVersionId=current["versionId"],
            updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(patch).encode()}})
        return own, int(response["latestVersionId"]), value
    return None


def lost_writes(world: World, results: Results) -> int:
    """Acknowledged writes not found afterwards: tags not at their last acknowledged value, updates missing."""
    mi = client(world.url)
    lost = 0
    tags = mi.list_tags_for_resource(resourceArn=world.datastore_arn)["tags"]
    lost += sum(tags.get(key) != value for key, value in results.acked_tags.items())
    deadline = time.monotonic() + 30
    while any(mi.get_image_set(datastoreId=world.datastore_id, imageSetId=i)["imageSetState"] == "LOCKED"
              for i in world.owned) and time.monotonic() < deadline:
        time.sleep(0.2)
    for image_set_id, version, value in results.acked_updates:
        try:
            written = document(mi, world.datastore_id, image_set_id, str(version))["Study"]["DICOM"].get("StudyDescription")
        except ClientError:
            written = None
        lost += written != value
    return lost


def measure(mode: str, clients: int, seconds: float) -> dict[str, Any]:
    """Start a fresh endpoint in `mode`, seed it, run the mix, check for lost writes; the figures."""
    with tempfile.TemporaryDirectory() as state:
        server = subprocess.Popen([sys.executable, __file__, "--serve", state, "--server", mode],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            world = seed(url, clients)
            operations = [name for name, _ in MIX]
            try:
                client(url).search_image_sets(datastoreId=world.datastore_id, maxResults=1)
            except ClientError as error:
                if error.response["ResponseMetadata"]["HTTPStatusCode"] == 501:
                    operations.remove("SearchImageSets")
            results, stop = Results(), threading.Event()
            threads = [threading.Thread(target=worker, args=(n, world, results, stop, operations)) for n in range(clients)]
            cpu_before = os.times()
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            time.sleep(seconds)
            stop.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            client_cpu = sum(os.times()[:2]) - sum(cpu_before[:2])
            lost = lost_writes(world, results)
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(30)
    return {"mode": mode, "elapsed": elapsed, "results": results, "lost": lost, "client_cpu": client_cpu}


def report(figures: dict[str, Any]) -> float:
    """Print one mode's table; returns its total requests per second."""
    results: Results = figures["results"]
    elapsed = figures["elapsed"]
    total = sum(len(values) for values in results.latencies.values())
    print(f"\n== {figures['mode']}: {total} successful calls in {elapsed:.1f} s = {total / elapsed:.0f} req/s "
          f"(client process CPU {figures['client_cpu'] / elapsed:.0%} of one core)")
    print(f"{'operation':24} {'calls':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  errors")
    for name, _ in MIX:
        values = sorted(results.latencies.get(name, []))
        errors = ", ".join(f"{code} {count}" for (operation, code), count in sorted(results.errors.items()) if operation == name)
        if not values:
            print(f"{name:24} {'-':>7}  (not run) {errors}")
            continue
        p50 = statistics.median(values) * 1000
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
        print(f"{name:24} {len(values):7d} {len(values) / elapsed:7.1f} {p50:8.1f} {p99:8.1f}  {errors}")
    print(f"5xx responses: {results.server_errors} (goal 0); transport errors: {results.transport_errors}; "
          f"lost writes: {figures['lost']} of {len(results.acked_tags)} tag keys and {len(results.acked_updates)} updates "
          "checked (goal 0)")
    return total / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--mode", choices=("both", "waitress", "werkzeug"), default="both")
    parser.add_argument("--serve", metavar="STATE_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--server", default="waitress", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.server)
        return 0
    print(f"load bench: {args.clients} clients x {args.seconds:.0f} s, {os.cpu_count()} cores, "
          f"mix {', '.join(f'{name} {weight}%' for name, weight in MIX)}")
    modes = ("werkzeug", "waitress") if args.mode == "both" else (args.mode,)
    throughput = {mode: report(measure(mode, args.clients, args.seconds)) for mode in modes}
    if len(throughput) == 2:
        print(f"\nwaitress / Werkzeug throughput: {throughput['waitress'] / throughput['werkzeug']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
