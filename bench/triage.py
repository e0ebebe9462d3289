"""Time and memory to open the detail of an import job whose failure.ndjson has 50,000 lines.

Starts `ahi local` in a subprocess (so the endpoint's own memory is not counted), writes a job folder into
its moto S3, then measures, each in a fresh child process:
- streaming: `services.imports` (manifest, failure file streamed line by line, grouped as it arrives);
- naive (the alternative): read the whole body, `json.loads` every line into a list of dicts, then group.
Time runs without tracemalloc; peak memory is measured twice: resident set size sampled every 2 ms
(peak minus the level just before the run), and tracemalloc's peak in a separate run. Goals: < 2 s, < 150 MB extra.

Usage: .venv/bin/python bench/triage.py [--lines 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUCKET = "bench-triage-output"
DATASTORE_ID = "b" * 32
JOB_ID = "c" * 32
FOLDER_KEY = f"job_output/{DATASTORE_ID}-DicomImport-{JOB_ID}/"
KEYWORDS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Rows", "Columns", "BitsAllocated")


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


def manifest(lines: int) -> bytes:
    folder = f"s3://{BUCKET}/{FOLDER_KEY}"
    return json.dumps({"jobSummary": {
        "jobId": JOB_ID, "datastoreId": DATASTORE_ID, "inputS3Uri": "s3://bench-input/dicom/batch-7/",
        "outputS3Uri": folder, "successOutputS3Uri": folder + "SUCCESS/", "failureOutputS3Uri": folder + "FAILURE/",
        "warningsOutputS3Uri": folder + "WARNING/", "numberOfScannedFiles": lines + 10, "numberOfImportedFiles": 10,
        "numberOfFilesWithCustomerError": lines, "numberOfFilesWithServerError": 0, "numberOfGeneratedImageSets": 1,
        "imageSetsSummary": [{"imageSetId": "d" * 32, "numberOfMatchedSOPInstances": 10}]}}).encode()  # fmt: skip


def start_endpoint(state_dir: str) -> tuple[subprocess.Popen[str], str]:
    """`ahi local` on a free port; returns the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "local", "--port", "0", "--state-dir", state_dir],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("export AWS_ENDPOINT_URL="):
            return process, line.strip().partition("=")[2]
    process.kill()
    raise RuntimeError("ahi local did not print its endpoint URL")


def s3_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


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


def run_streaming(s3: Any) -> int:
    from services.imports import JobFolder, JobFolderReader
    from services.s3_location import S3Uri

    reader = JobFolderReader(s3, JobFolder(S3Uri(BUCKET, FOLDER_KEY)))
    reader.read_manifest()
    _, grouper = reader.read_failures(on_progress=lambda progress: None)
    return len(grouper.groups())


def run_naive(s3: Any) -> int:
    """The alternative: whole body in memory, a list of dicts, then grouping."""
    from services.failure_reasons import normalize_message

    json.loads(s3.get_object(Bucket=BUCKET, Key=FOLDER_KEY + "job-output-manifest.json")["Body"].read())
    body = s3.get_object(Bucket=BUCKET, Key=FOLDER_KEY + "FAILURE/failure.ndjson")["Body"].read()
    records = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        exception = record["exception"]
        key = (exception["exceptionType"], normalize_message(exception["message"]))
        groups.setdefault(key, []).append(record)
    return len(groups)


def child(url: str, approach: str, mode: str) -> None:
    """One run in a fresh process; `mode` is "time" (nothing else running), "rss" or "trace"."""
    import tracemalloc

    s3 = s3_client(url)
    s3.head_bucket(Bucket=BUCKET)  # connection and imports warm, outside the measurement
    run = run_streaming if approach == "streaming" else run_naive
    gc.collect()
    if mode == "trace":
        tracemalloc.start()
    sampler = RssPeak() if mode == "rss" else contextlib.nullcontext()
    with sampler:
        wall, cpu = time.perf_counter(), time.process_time()
        groups = run(s3)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({
        "seconds": wall, "cpu_seconds": cpu, "groups": groups,
        "rss_extra_mib": sampler.extra_mib if isinstance(sampler, RssPeak) else 0.0,
        "traced_peak_mib": tracemalloc.get_traced_memory()[1] / 2**20 if mode == "trace" else 0.0,
    }))  # fmt: skip


def measure(url: str, approach: str, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, approach, mode], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("URL", "APPROACH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="ahi-bench-triage-") as state_dir:
        process, url = start_endpoint(state_dir)
        try:
            s3 = s3_client(url)
            s3.create_bucket(Bucket=BUCKET)
            s3.put_object(Bucket=BUCKET, Key=FOLDER_KEY + "job-output-manifest.json", Body=manifest(args.lines))
            print(f"job detail with a {args.lines:,}-line failure.ndjson, local endpoint {url}, median of {args.repeat}")
            for messages in ("typical", "distinct"):
                data = failure_file(args.lines, messages)
                s3.put_object(Bucket=BUCKET, Key=FOLDER_KEY + "FAILURE/failure.ndjson", Body=data)
                print(f"\n[{messages} messages] failure.ndjson {len(data) / 2**20:.1f} MiB")
                results = {}
                for approach in ("streaming", "naive"):
                    runs = [measure(url, approach, "time") for _ in range(args.repeat)]
                    results[approach] = {
                        "seconds": statistics.median(r["seconds"] for r in runs),
                        "cpu": statistics.median(r["cpu_seconds"] for r in runs),
                        "rss": statistics.median(measure(url, approach, "rss")["rss_extra_mib"] for _ in range(args.repeat)),
                        "traced": measure(url, approach, "trace")["traced_peak_mib"],
                        "groups": runs[0]["groups"],
                    }
                for approach, r in results.items():
                    print(f"  {approach:9} open-to-grouped {r['seconds']:.3f} s (CPU {r['cpu']:.3f} s)   "
                          f"peak RSS +{r['rss']:.1f} MiB   tracemalloc peak {r['traced']:.1f} MiB   ({r['groups']} reasons)")
                s, n = results["streaming"], results["naive"]
                print(f"  streaming/naive: time x{s['seconds'] / n['seconds']:.2f}, peak RSS x{s['rss'] / max(n['rss'], 0.1):.2f}, "
                      f"tracemalloc x{s['traced'] / n['traced']:.2f}")  # fmt: skip
                verdict = "meets" if s["seconds"] < 2 and s["rss"] < 150 else "MISSES"
                print(f"  goals (< 2 s, < 150 MB extra): streaming {verdict}")
        finally:
            process.terminate()
            process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sys.exit(main())
