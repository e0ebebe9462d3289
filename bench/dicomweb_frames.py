"""DICOMweb frames bench: frames per second through WADO-RS GetDICOMInstanceFrames against GetImageFrame (boto3).

One run, one local endpoint (in-process), two imports of 300 frames each:
- a 300-slice CT series (single-frame instances, 16-bit): GetImageFrame per frame, and WADO-RS one
  frame per request (the only way: each instance holds one frame);
- a 300-frame cine loop (one multi-frame instance, 8-bit): GetImageFrame per frame, WADO-RS one frame
  per request, and WADO-RS several frames per request (multipart/related, one part per frame).
WADO-RS goes through the console's own DICOMweb client (SigV4-signed, urllib3), frames as stored
(`transfer-syntax=*`, the bytes GetImageFrame returns), then once in Explicit VR Little Endian (decoded by
the service). Frames are checked to decode to GetImageFrame's pixels before anything is timed.

    .venv/bin/python bench/dicomweb_frames.py [--frames 300] [--size 256] [--batch 10,50] [--repeat 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import imagecodecs  # noqa: E402
import numpy as np  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from local_import import clients, timed_import  # noqa: E402

from ahi.emulator.config import EndpointConfig  # noqa: E402
from ahi.emulator.demo.phantoms import Subject, ct_series, multiframe_cine  # noqa: E402
from ahi.emulator.server import LocalEndpoint  # noqa: E402
from ahi.services.backoff import Backoff  # noqa: E402
from ahi.services.call_log import CallLog  # noqa: E402
from ahi.services.dicomweb import AS_STORED, EXPLICIT_VR_LITTLE_ENDIAN, DicomwebService  # noqa: E402
from ahi.services.dicomweb_urls import DicomwebTarget  # noqa: E402


@dataclass(frozen=True)
class Frame:
    """One frame: its instance as a DICOMweb target, its 1-based number there, and its GetImageFrame ID."""

    target: DicomwebTarget
    number: int
    frame_id: str


@dataclass(frozen=True)
class ImageSet:
    image_set_id: str
    frames: list[Frame]


def image_sets(mi: Any, datastore_id: str) -> list[ImageSet]:
    """Every image set of the data store with its frames in document order."""
    found = []
    for summary in mi.search_image_sets(datastoreId=datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]:
        image_set_id = summary["imageSetId"]
        body = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetMetadataBlob"].read()
        document = json.loads(gzip.decompress(body))
        study = document["Study"]["DICOM"]["StudyInstanceUID"]
        frames = []
        for series_uid, series in document["Study"]["Series"].items():
            for sop_uid, instance in series["Instances"].items():
                target = DicomwebTarget(datastore_id, study, series_uid, sop_uid, image_set_id)
                frames += [Frame(target, n, frame["ID"]) for n, frame in enumerate(instance["ImageFrames"], start=1)]
        found.append(ImageSet(image_set_id, frames))
    return found


def same_pixels(wado_frame: bytes, image_frame: bytes) -> bool:
    """Both decode to the same pixels: WADO-RS sends the bare HTJ2K codestream, GetImageFrame the same in a JPH box."""
    return bool(np.array_equal(imagecodecs.htj2k_decode(wado_frame), imagecodecs.htj2k_decode(image_frame)))


def fps(count: int, run: Callable[[], None], repeat: int) -> float:
    """Frames per second of the best of `repeat` runs (the least disturbed by other work on the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="slices of the CT series and frames of the cine loop")
    parser.add_argument("--size", type=int, default=256, help="rows and columns of each frame")
    parser.add_argument("--batch", default="10,50", help="frames per WADO-RS request on the multi-frame instance")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each method; the best is reported")
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",") if b.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        server = LocalEndpoint(EndpointConfig(state_dir=Path(tmp) / "state", port=0, datastore_transition_seconds=0.05)).start()
        try:
            mi, s3 = clients(server.url)
            files = ct_series(args.frames, args.size) + multiframe_cine(subject=Subject(), frames=args.frames, size=args.size)
            seconds, job = timed_import(mi, s3, files)
            if job["jobStatus"] != "COMPLETED":
                raise SystemExit(f"import ended {job['jobStatus']}: {job.get('message', '')}")
            print(f"imported {len(files)} files in {seconds:.1f} s")
            wado = DicomwebService(lambda: Credentials("bench", "bench"), "us-east-1", server.url, CallLog(), Backoff())
            datastore_id = job["datastoreId"]
            sets = image_sets(mi, datastore_id)
            series = next(s for s in sets if len(s.frames) == args.frames and len({f.target.sop_uid for f in s.frames}) == args.frames)
            cine = next(s for s in sets if len(s.frames) == args.frames and len({f.target.sop_uid for f in s.frames}) == 1)

            def get_image_frame(image_set: ImageSet, frame: Frame) -> bytes:
                answer = mi.get_image_frame(datastoreId=datastore_id, imageSetId=image_set.image_set_id, imageFrameInformation={"imageFrameId": frame.frame_id})
                return answer["imageFrameBlob"].read()

            for image_set in (series, cine):
                for frame in image_set.frames[:: max(1, len(image_set.frames) // 10)]:
                    (wado_bytes,) = wado.get_frames(frame.target, [frame.number])
                    if not same_pixels(wado_bytes, get_image_frame(image_set, frame)):
                        raise SystemExit(f"frame {frame.number} of {frame.target.sop_uid}: WADO-RS pixels differ from GetImageFrame's")
            whole = wado.get_frames(cine.frames[0].target, [f.number for f in cine.frames[: batches[0]]])
            if not all(same_pixels(a, get_image_frame(cine, f)) for a, f in zip(whole, cine.frames[: batches[0]], strict=True)):
                raise SystemExit("a multipart answer's parts differ from GetImageFrame's frames")

            rows: list[tuple[str, str, float]] = []

            def each(image_set: ImageSet, fetch: Callable[[Frame], Any]) -> Callable[[], None]:
                def run() -> None:
                    for frame in image_set.frames:
                        fetch(frame)
                return run

            def batched(image_set: ImageSet, size: int, syntax: str) -> Callable[[], None]:
                def run() -> None:
                    for start in range(0, len(image_set.frames), size):
                        chunk = image_set.frames[start : start + size]
                        wado.get_frames(chunk[0].target, [f.number for f in chunk], syntax)
                return run

            for name, image_set in ((f"CT series, {args.frames} single-frame instances", series), (f"cine, one {args.frames}-frame instance", cine)):
                count = len(image_set.frames)
                rows.append((name, "GetImageFrame (boto3), 1 per call", fps(count, each(image_set, lambda f, s=image_set: get_image_frame(s, f)), args.repeat)))
                rows.append((name, "WADO-RS frames as stored, 1 per request", fps(count, each(image_set, lambda f: wado.get_frames(f.target, [f.number])), args.repeat)))
                rows.append((name, "WADO-RS frames in Explicit VR LE, 1 per request", fps(count, each(image_set, lambda f: wado.get_frames(f.target, [f.number], EXPLICIT_VR_LITTLE_ENDIAN)), args.repeat)))
                if image_set is cine:
                    for size in batches:
                        rows.append((name, f"WADO-RS frames as stored, {size} per request", fps(count, batched(image_set, size, AS_STORED), args.repeat)))
        finally:
            server.stop()

    print(f"\n{args.size}x{args.size} frames, best of {args.repeat} runs each\n")
    print("| data | method | frames/s |\n| --- | --- | ---: |")
    for name, method, rate in rows:
        print(f"| {name} | {method} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
