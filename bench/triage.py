"""Time and memory to open the detail of an import job whose failure.ndjson has 50,000 lines.

Starts `ahi local` in a subprocess (so the endpoint's own memory is not counted), runs a real import
there, then replaces the job's failure.ndjson with 50,000 lines (and the manifest counts to match).
Each measurement runs in a fresh child process:
- streaming: `services.imports` (manifest, failure file streamed line by line, grouped as it arrives);
- naive (the alternative): read the whole body, `json.loads` every line into a list of dicts, then group;
- screen: the console's job detail screen (headless Textual) from opening until the grouped reasons
  are on screen (also: until the first reasons show while the rest still loads).
Time runs alone; peak memory is measured separately: resident set size sampled every 2 ms (peak minus
the level just before the run), and tracemalloc's peak. Goals: < 2 s, < 150 MB extra.

Usage: .venv/bin/python bench/triage.py [--lines 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INPUT_BUCKET = "bench-triage-input"
OUTPUT_BUCKET = "bench-triage-output"
ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
KEYWORDS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Rows", "Columns", "BitsAllocated")
APPROACHES = ("streaming", "naive", "screen")
SCREEN_TIMEOUT_S = 120


def typical_message(rng: random.Random, index: int) -> tuple[str, str]:
    """A failure like the local endpoint writes: a few reasons, some with variable parts."""
    kind = rng.random()
    if kind < 0.30:
        return "ValidationException", "DICOM attribute TransferSyntaxUID does not exist"
    if kind < 0.50:
        return "ValidationException", f"DICOM attribute {rng.choice(KEYWORDS)} does not exist"
    if kind < 0.70:
        syntax = rng.choice(("1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.5"))
        return "ValidationException", f"Unsupported transfer syntax {syntax}"
    if kind < 0.85:
        return "ValidationException", f"DICOM attribute PatientName is {rng.randint(65, 400)}; the import limit is 0-64"
    if kind < 0.95:
        return "ValidationException", f"The file is truncated: it holds {rng.randint(1, 9)} of its {rng.randint(10, 99)} frames"
    return "InternalServerException", f"The file could not be processed because of an internal error (OSError: {index})"


def distinct_message(rng: random.Random, index: int) -> tuple[str, str]:
    """Worst case for grouping: every message differs (UIDs, paths, hex values), so nothing is cached."""
    return "ValidationException", (
        f"Pixel data verification failed for 1.2.826.0.1.3680043.8.498.{index} in dicom/ward-{index % 97}/"
        f"s{index}.dcm: frame {index % 13} checksum 0x{rng.getrandbits(32):08x} != 0x{rng.getrandbits(32):08x}"
    )


def failure_file(lines: int, messages: str) -> bytes:
    rng = random.Random(7)
    make = typical_message if messages == "typical" else distinct_message
    out = []
    for i in range(lines):
        exception_type, message = make(rng, i)
        record = {"inputFile": f"dicom/batch-7/series-{i % 400:03d}/{i:06d}.dcm",
                  "exception": {"exceptionType": exception_type, "message": message}}  # fmt: skip
        out.append(json.dumps(record, separators=(",", ":")))
    return ("\n".join(out) + "\n").encode()


# --- the endpoint and the job ----------------------------------------------------------------------


def start_endpoint(state_dir: str) -> tuple[subprocess.Popen[str], str]:
    """`ahi local` on a free port; returns the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ahi.tui.cli", "local", "--port", "0", "--state-dir", state_dir],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("export AWS_ENDPOINT_URL="):
            return process, line.strip().partition("=")[2]
    process.kill()
    raise RuntimeError("ahi local did not print its endpoint URL")


def client(service: str, url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, inject_host_prefix=False),
    )  # fmt: skip


def real_job(url: str) -> dict[str, Any]:
    """A COMPLETED import of one broken file; its `jobProperties`."""
    from ahi.emulator.demo.phantoms import broken_files

    s3, mi = client("s3", url), client("medical-imaging", url)
    for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    name, data = broken_files()[0]
    s3.put_object(Bucket=INPUT_BUCKET, Key=f"dicom/batch-7/{name}", Body=data)
    datastore_id = mi.create_datastore(datastoreName="bench-triage")["datastoreId"]
    while mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] != "ACTIVE":
        time.sleep(0.05)
    job_id = mi.start_dicom_import_job(
        jobName="bench-50k", datastoreId=datastore_id, dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://{INPUT_BUCKET}/dicom/batch-7/", outputS3Uri=f"s3://{OUTPUT_BUCKET}/job_output/",
    )["jobId"]  # fmt: skip
    while True:
        properties = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]
        if properties["jobStatus"] in ("COMPLETED", "FAILED"):
            return dict(properties)
        time.sleep(0.05)


def folder_key(job: dict[str, Any]) -> str:
    return str(job["outputS3Uri"]).removeprefix(f"s3://{OUTPUT_BUCKET}/")


def replace_failures(url: str, job: dict[str, Any], data: bytes, lines: int) -> None:
    """Put `data` as the job's failure file and make the manifest's counts agree with it."""
    s3, key = client("s3", url), folder_key(job)
    manifest = json.loads(s3.get_object(Bucket=OUTPUT_BUCKET, Key=key + "job-output-manifest.json")["Body"].read())
    manifest["jobSummary"].update(numberOfScannedFiles=lines, numberOfFilesWithCustomerError=lines)
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=key + "job-output-manifest.json", Body=json.dumps(manifest).encode())
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=key + "FAILURE/failure.ndjson", Body=data)


# --- child process: one measured run -------------------------------------------------------------


class RssPeak:
    """Highest resident set size seen while the block runs, sampled every 2 ms from /proc (Linux)."""

    def __init__(self) -> None:
        self.baseline = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def extra_mib(self) -> float:
        return (self.peak - self.baseline) / 2**20


def run_streaming(s3: Any, job: dict[str, Any]) -> dict[str, float]:
    from ahi.services.imports import JobFolderReader

    reader = JobFolderReader.for_job(s3, job)
    reader.read_manifest()
    _, grouper = reader.read_failures(on_progress=lambda progress: None)
    return {"groups": len(grouper.groups())}


def run_naive(s3: Any, job: dict[str, Any]) -> dict[str, float]:
    """The alternative: whole body in memory, a list of dicts, then grouping."""
    from ahi.services.failure_reasons import normalize_message

    key = folder_key(job)
    json.loads(s3.get_object(Bucket=OUTPUT_BUCKET, Key=key + "job-output-manifest.json")["Body"].read())
    body = s3.get_object(Bucket=OUTPUT_BUCKET, Key=key + "FAILURE/failure.ndjson")["Body"].read()
    records = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        exception = record["exception"]
        key = (exception["exceptionType"], normalize_message(exception["message"]))
        groups.setdefault(key, []).append(record)
    return {"groups": len(groups)}


def console_app(url: str) -> Any:
    from ahi.tui.app import AhiApp
    from ahi.tui.config import ConsoleConfig
    from ahi.tui.settings import build_parser, resolve

    args = build_parser().parse_args(["--endpoint-url", url, "--region", "us-east-1", "--refresh", "0"])
    return AhiApp(resolve(args, ConsoleConfig(), {}))


@contextlib.contextmanager
def measured(mode: str) -> Iterator[dict[str, float]]:
    """Time the block (wall and CPU); in "rss" or "trace" mode also its memory peak. Figures land in the dict."""
    import tracemalloc

    figures: dict[str, float] = {}
    gc.collect()
    if mode == "trace":
        tracemalloc.start()
    sampler = RssPeak() if mode == "rss" else contextlib.nullcontext()
    with sampler:
        wall, cpu = time.perf_counter(), time.process_time()
        yield figures
        figures["seconds"], figures["cpu_seconds"] = time.perf_counter() - wall, time.process_time() - cpu
    figures["rss_extra_mib"] = sampler.extra_mib if isinstance(sampler, RssPeak) else 0.0
    figures["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20 if mode == "trace" else 0.0


def measure_screen(url: str, job: dict[str, Any], mode: str) -> dict[str, float]:
    """Headless console: push the job's detail as Enter on the jobs list does (with the ListDICOMImportJobs summary),
    wait until its reasons are on screen, and note when the first ones showed."""
    from ahi.screens.job_detail import JobDetailScreen
    from ahi.tui.widgets.job_outcome_tree import OutcomeTree
    from ahi.services.import_job_list import ImportJob

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true")
    app = console_app(url)
    pages = client("medical-imaging", url).get_paginator("list_dicom_import_jobs").paginate(datastoreId=job["datastoreId"])
    [summary] = [s for page in pages for s in page["jobSummaries"] if s["jobId"] == job["jobId"]]
    result: dict[str, float] = {}

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.aws.client("s3")  # made already when arriving from the jobs list (it reads the manifests)
            with measured(mode) as figures:
                started = time.perf_counter()
                screen = JobDetailScreen(ImportJob.from_api(summary, "bench-triage"))
                app.push_screen(screen)
                while screen.failures is None:
                    if time.perf_counter() - started > SCREEN_TIMEOUT_S:
                        raise RuntimeError(f"the reasons never showed; notifications: {list(app._notifications)}")
                    tree = screen.query(OutcomeTree) if screen.is_mounted else None
                    if "first_seconds" not in figures and tree and tree.first().failures.children:
                        figures["first_seconds"] = time.perf_counter() - started
                    await pilot.pause(0.02)
                await pilot.pause()
                figures["groups"] = len(screen.query_one(OutcomeTree).failures.children)
            result.update(figures)

    asyncio.run(main())
    return result


def child(url: str, job_json: str, approach: str, mode: str) -> None:
    """One run in a fresh process; `mode` is "time" (nothing else running), "rss" or "trace"."""
    job = json.loads(job_json)
    if approach == "screen":
        print(json.dumps(measure_screen(url, job, mode)))
        return
    import ahi.services.failure_reasons, ahi.services.imports  # noqa: F401, E401 - imports outside the measurement

    s3 = client("s3", url)
    s3.head_bucket(Bucket=OUTPUT_BUCKET)  # first connection outside the measurement too
    run = run_streaming if approach == "streaming" else run_naive
    with measured(mode) as figures:
        figures.update(run(s3, job))
    print(json.dumps(figures))


def measure(url: str, job: dict[str, Any], approach: str, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, json.dumps(job, default=str), approach, mode],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarize(url: str, job: dict[str, Any], approach: str, repeat: int) -> dict[str, float]:
    runs = [measure(url, job, approach, "time") for _ in range(repeat)]
    summary = {key: statistics.median(r[key] for r in runs) for key in runs[0] if key.endswith("seconds")}
    summary["rss"] = statistics.median(measure(url, job, approach, "rss")["rss_extra_mib"] for _ in range(repeat))
    summary["traced"] = measure(url, job, approach, "trace")["traced_peak_mib"]
    summary["groups"] = runs[0]["groups"]
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=4, metavar=("URL", "JOB", "APPROACH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="ahi-bench-triage-") as state_dir:
        process, url = start_endpoint(state_dir)
        try:
            job = real_job(url)
            print(f"job detail with a {args.lines:,}-line failure.ndjson, `ahi local` at {url}, median of {args.repeat}")
            for messages in ("typical", "distinct"):
                data = failure_file(args.lines, messages)
                replace_failures(url, job, data, args.lines)
                print(f"\n[{messages} messages] failure.ndjson {len(data) / 2**20:.1f} MiB")
                results = {approach: summarize(url, job, approach, args.repeat) for approach in APPROACHES}
                for approach, r in results.items():
                    first = f", first reasons at {r['first_seconds']:.3f} s" if "first_seconds" in r else ""
                    print(f"  {approach:9} open-to-grouped {r['seconds']:.3f} s (CPU {r['cpu_seconds']:.3f} s{first})   "
                          f"peak RSS +{r['rss']:.1f} MiB   tracemalloc peak {r['traced']:.1f} MiB   ({r['groups']} reasons)")  # fmt: skip
                s, n = results["streaming"], results["naive"]
                print(f"  streaming/naive: time x{s['seconds'] / n['seconds']:.2f}, peak RSS x{s['rss'] / max(n['rss'], 0.1):.2f}, "
                      f"tracemalloc x{s['traced'] / n['traced']:.2f}")  # fmt: skip
                screen = results["screen"]
                verdict = "meets" if screen["seconds"] < 2 and screen["rss"] < 150 else "MISSES"
                print(f"  goals (< 2 s, < 150 MB extra), in the screen: {verdict}")
        finally:
            process.terminate()
            process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sys.exit(main())
