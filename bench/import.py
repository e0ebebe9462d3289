"""Import bench: 512x512 16-bit CT slices per second through the whole pipeline, and where the time goes.

Three measurements on the same synthetic CT slices (`emulator.demo.phantoms.ct_series`):
1. the whole job on a local endpoint: objects in (moto) S3, StartDICOMImportJob over HTTP, frames
   encoded, verified and staged, image sets committed, the manifest and ndjson files written, until
   GetDICOMImportJob says COMPLETED (goal: >= 40 slices per second on a 2-core machine);
2. the per-file pipeline (parse, decode, HTJ2K encode, verify) on one thread, the alternative;
3. the same on the import's thread pool (imagecodecs releases the GIL), with the ratio to (2).
The stage shares come from the per-file timings (CPU time summed over the files). Each figure is the
best of `--repeat` runs, since the machine is shared.

    .venv/bin/python bench/import.py [--slices 120] [--repeat 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ahi.emulator.config import EndpointConfig  # noqa: E402
from ahi.emulator.demo.phantoms import PhantomFile, ct_series  # noqa: E402
from ahi.emulator.dicom.frames import StageTimes  # noqa: E402
from ahi.emulator.dicom.instance import process_file  # noqa: E402
from ahi.emulator.imports.service import FILE_WORKERS  # noqa: E402
from ahi.emulator.server import LocalEndpoint  # noqa: E402
from local_import import OUTPUT_BUCKET, clients, timed_import  # noqa: E402


def whole_job(files: list[PhantomFile]) -> tuple[float, dict]:
    """Seconds from StartDICOMImportJob to COMPLETED, and the job's manifest summary."""
    import json

    with (
        tempfile.TemporaryDirectory() as state,
        LocalEndpoint(EndpointConfig(state_dir=Path(state), datastore_transition_seconds=0.0)) as endpoint,
    ):
        mi, s3 = clients(endpoint.url)
        elapsed, properties = timed_import(mi, s3, [(f"ct/{name}", data) for name, data in files])
        if properties["jobStatus"] != "COMPLETED":
            raise SystemExit(f"the bench job failed: {properties.get('message')}")
        folder = properties["outputS3Uri"].removeprefix(f"s3://{OUTPUT_BUCKET}/")
        manifest = json.loads(
            s3.get_object(Bucket=OUTPUT_BUCKET, Key=folder + "job-output-manifest.json")["Body"].read()
        )
        return elapsed, manifest["jobSummary"]


def pipeline(files: list[PhantomFile], workers: int) -> tuple[float, StageTimes]:
    """Seconds to process every file with `workers` threads, and the summed stage times."""
    totals = StageTimes()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for outcome in pool.map(lambda item: process_file(*item), files):
            assert outcome.instance is not None, outcome.failure
            totals.add(outcome.times)
    return time.perf_counter() - started, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs (the machine is shared)")
    args = parser.parse_args()
    files = ct_series(args.slices, 512)
    process_file(*files[0])  # warm imports and codec tables
    print(f"{args.slices} CT slices, 512x512 16-bit signed, {sum(len(d) for _, d in files) / 1e6:.1f} MB of P10")

    serial_seconds, totals = min((pipeline(files, 1) for _ in range(args.repeat)), key=lambda run: run[0])
    pooled_seconds = min(pipeline(files, FILE_WORKERS)[0] for _ in range(args.repeat))
    job_seconds, summary = min((whole_job(files) for _ in range(args.repeat)), key=lambda run: run[0])
    assert summary["numberOfImportedFiles"] == args.slices, summary

    stage_sum = totals.parse + totals.decode + totals.encode + totals.verify
    print(
        f"whole import job (S3 in, image sets committed, outputs written): {args.slices / job_seconds:7.1f} slices/s"
        f"  ({job_seconds:.2f} s; goal >= 40)"
    )
    print(
        f"pipeline, 1 thread (alternative):                              {args.slices / serial_seconds:7.1f} slices/s"
    )
    print(
        f"pipeline, {FILE_WORKERS} threads (as the import runs it):                  "
        f"{args.slices / pooled_seconds:7.1f} slices/s  ({serial_seconds / pooled_seconds:.2f}x the 1-thread run)"
    )
    print(
        "share of per-file time:",
        ", ".join(
            f"{name} {100 * value / stage_sum:.0f}%"
            for name, value in (
                ("parse", totals.parse),
                ("decode", totals.decode),
                ("encode", totals.encode),
                ("verify", totals.verify),
            )
        ),
    )


if __name__ == "__main__":
    main()
