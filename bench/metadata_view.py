"""Metadata view on a large document: time to first paint, time to open a 10,000-instance series, peak RSS.

The console (headless Pilot) opens the metadata view of an image set whose GetImageSetMetadata answer
is one study, one series of N instances (25 attributes and one frame each), served by the local
endpoint over HTTP. Measured for the code in this tree and, as the alternative in the same run, for
the tree at `--before` (the console before its metadata tree was built lazily), extracted with
`git archive` and run the same way in a child process.

Usage: .venv/bin/python bench/metadata_view.py [--instances 10000] [--runs 3] [--before 01c408d]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATASTORE = "0" * 31 + "d"
IMAGE_SET = "0" * 31 + "e"
SERIES = "1.2.840.99.1"


def document(instances: int) -> dict[str, Any]:
    """One study, one series of `instances` CT-like instances."""

    def instance(number: int) -> dict[str, Any]:
        dicom = {f"Attribute{k:02d}": f"value {k} of instance {number}" for k in range(22)}
        dicom.update(InstanceNumber=number, SOPClassUID="1.2.840.10008.5.1.4.1.1.2", ImagePositionPatient=[0, 0, number])
        frame = {"ID": f"{number:032x}", "FrameSizeInBytes": 524288,
                 "PixelDataChecksumFromBaseToFullResolution": [{"Width": 512, "Height": 512, "Checksum": number}]}
        return {"DICOM": dicom, "StoredTransferSyntaxUID": "1.2.840.10008.1.2.4.201", "ImageFrames": [frame]}

    return {
        "SchemaVersion": "1.1", "DatastoreID": DATASTORE, "ImageSetID": IMAGE_SET,
        "Patient": {"DICOM": {"PatientName": "Bench^Large", "PatientID": "BENCH-1"}},
        "Study": {"DICOM": {"StudyInstanceUID": "1.2.840.99", "StudyDescription": "large"},
                  "Series": {SERIES: {"DICOM": {"SeriesNumber": 1, "Modality": "CT"},
                                      "Instances": {f"{SERIES}.{n}": instance(n) for n in range(1, instances + 1)}}}},
    }


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(body_path: Path) -> dict[str, float]:
    """One measurement in this process, with whatever code is on sys.path (the document built by the
    parent, so building it does not count in this process's memory)."""
    from dataclasses import replace

    from textual.widgets import Tree

    from ahi.emulator.config import EndpointConfig
    from ahi.emulator.handlers import HANDLERS
    from ahi.emulator.server import LocalEndpoint
    from ahi.screens.metadata_view import MetadataViewScreen
    from ahi.tui.app import AhiApp
    from ahi.tui.config import ConsoleConfig
    from ahi.tui.settings import build_parser, resolve

    body = body_path.read_bytes()
    state = {"datastoreId": DATASTORE, "imageSetId": IMAGE_SET, "versionId": "1", "imageSetState": "ACTIVE"}
    figures: dict[str, float] = {"gzip_mb": len(body) / 2**20}
    with LocalEndpoint(EndpointConfig(state_dir=Path(tempfile.mkdtemp()) / "state", port=0)) as endpoint:
        HANDLERS["GetImageSet"] = lambda ctx, params: state
        HANDLERS["GetImageSetMetadata"] = lambda ctx, params: {"imageSetMetadataBlob": body, "contentEncoding": "gzip"}
        os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                          AWS_ENDPOINT_URL=endpoint.url, AWS_DISABLE_HOST_PREFIX_INJECTION="true")
        options = resolve(build_parser().parse_args(["--local", "--refresh", "0"]), ConsoleConfig(), {}, endpoint.url)
        app = AhiApp(replace(options, connection=replace(options.connection, max_attempts=1)))

        def lines_named(parent: Any, prefix: str) -> Any:
            return next(line for line in parent.children if str(line.label).startswith(prefix))

        async def main() -> None:
            async with app.run_test(size=(160, 50)) as pilot:
                await app.workers.wait_for_complete()
                await pilot.pause()
                figures["rss_before_mb"] = peak_rss_mb()
                started = time.perf_counter()
                app.push_screen(MetadataViewScreen(DATASTORE, IMAGE_SET))
                while getattr(app.screen, "loaded", None) is None:
                    await pilot.pause(0.005)
                await pilot.pause()
                figures["first_paint_s"] = time.perf_counter() - started
                tree = app.screen.query_one(Tree)
                study = lines_named(tree.root, "Study")
                series_group = lines_named(study, "Series (")
                series_group.expand()
                await pilot.pause()
                series = lines_named(series_group, "Series 1")
                series.expand()
                await pilot.pause()
                group = lines_named(series, "Instances (")
                started = time.perf_counter()
                group.expand()
                await pilot.pause()
                figures["open_instances_s"] = time.perf_counter() - started
                figures["instance_lines"] = len(group.children)
                figures["peak_rss_mb"] = peak_rss_mb()

        asyncio.run(main())
    return figures


def run(tree: Path, body_path: Path) -> dict[str, float]:
    """One child process on the code at `tree`: its figures."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "metadata_view.py"), "--child", str(body_path)],
                         cwd=tree, env=env, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def extract(commit: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="ahi-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True, check=True).stdout
    archive_path = target / "tree.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(target, filter="data")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", default="01c408d", help="the commit measured as the alternative")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    before = extract(args.before)
    body_path = before / "metadata.json.gz"
    body_path.write_bytes(gzip.compress(json.dumps(document(args.instances)).encode()))
    results: dict[str, list[dict[str, float]]] = {"now": [], "before": []}
    for _ in range(args.runs):
        results["now"].append(run(ROOT, body_path))
        results["before"].append(run(before, body_path))
    print(f"{args.instances:,} instances, {results['now'][0]['gzip_mb']:.1f} MiB gzip; {args.runs} runs each, interleaved (median)")
    for name in ("now", "before"):
        runs = results[name]

        def median(key: str) -> float:
            return statistics.median(run[key] for run in runs)

        label = "this tree" if name == "now" else f"before ({args.before})"
        print(f"{label:>20}: first paint {median('first_paint_s'):.2f} s, open the series' instances "
              f"{median('open_instances_s'):.2f} s ({median('instance_lines'):,.0f} lines), "
              f"peak RSS {median('peak_rss_mb'):.0f} MB (from {median('rss_before_mb'):.0f} MB)")


if __name__ == "__main__":
    main()
