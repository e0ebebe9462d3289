"""Frame preview bench: three HTJ2K decoders, every step of the 120x60 preview path, and the graphics protocols.

The frames are the synthetic 512x512 16-bit CT slices of `emulator.demo.phantoms.ct_series`, encoded
as the local endpoint stores and serves them (imagecodecs HTJ2K lossless in a JPH wrapper). Decoders:
imagecodecs (OpenJPH inside), pylibjpeg-openjpeg (OpenJPEG), and OpenJPH's `ojph_expand` through PGM
files as openjphpy does (install with `bench/setup.sh` / `make bench-setup`). Every decoder's output is
checked against the source pixels. The preview path is fetch (GetImageFrame from a local endpoint;
not measured when that import fails), decode, verify, window, resample, render. The graphics path
replaces resample and render with one encoder (Kitty, iTerm2, Sixel) at the frame's own resolution;
its time and bytes per frame are printed beside the half-cell path's.

    .venv/bin/python bench/frames.py [--slices 8] [--repeat 5] [--cols 120] [--rows 60]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import openjpeg
import pydicom
from PIL import Image
from rich.console import Console
from rich_pixels import HalfcellRenderer, Pixels
from textual.strip import Strip

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ahi.emulator.demo.phantoms import PhantomFile, ct_series  # noqa: E402
from ahi.emulator.dicom.htj2k import encode_frame  # noqa: E402
from ahi.services.frame_metadata import FrameRequest, pixel_model, series_frames  # noqa: E402
from ahi.services.frames import FrameKey, decode_frame, frame_crc32, verify_checksum  # noqa: E402
from ahi.services.windowing import AUTO_PERCENTILE, DisplaySettings, PixelModel, resample_to_cells, to_display  # noqa: E402
from ahi.tui.graphics_protocol import GraphicsMode, encode  # noqa: E402
from ahi.tui.pixels_render import ColourMode, HalfcellImage, halfcell_rows  # noqa: E402

GOAL_MS = 40.0
STEPS = ("fetch", "decode", "verify", "window", "resample", "render")


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ---- frames ---------------------------------------------------------------------------------------


def source_frames(slices: int) -> tuple[list[PhantomFile], list[np.ndarray], PixelModel]:
    """The phantom CT files, their pixel arrays and the pixel model of their first instance."""
    files = ct_series(slices=slices, size=512)
    datasets = [pydicom.dcmread(io.BytesIO(data)) for _, data in files]
    model = pixel_model(
        {
            "PhotometricInterpretation": datasets[0].PhotometricInterpretation,
            "RescaleSlope": str(datasets[0].RescaleSlope),
            "RescaleIntercept": str(datasets[0].RescaleIntercept),
            "WindowCenter": str(datasets[0].WindowCenter),
            "WindowWidth": str(datasets[0].WindowWidth),
        }
    )
    return files, [dataset.pixel_array for dataset in datasets], model


# ---- decoders -------------------------------------------------------------------------------------


def ojph_expand_decode(data: bytes, workdir: Path, dtype: np.dtype) -> np.ndarray:
    """Decode with OpenJPH's command-line tool: frame to a file, `ojph_expand` to PGM, PGM back to numpy."""
    source, target = workdir / "frame.jph", workdir / "frame.pgm"
    source.write_bytes(data)
    subprocess.run(["ojph_expand", "-i", str(source), "-o", str(target)], check=True, capture_output=True)
    return read_pgm(target.read_bytes(), dtype)


def read_pgm(data: bytes, dtype: np.dtype) -> np.ndarray:
    """A binary (P5) PGM; 16-bit samples are big-endian and hold the two's complement of signed ones."""
    fields: list[bytes] = []
    offset = 0
    while len(fields) < 4:
        while data[offset : offset + 1].isspace():
            offset += 1
        end = offset
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[offset:end])
        offset = end
    offset += 1
    width, height, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    samples = np.frombuffer(data, dtype=">u2" if maxval > 255 else np.uint8, count=width * height, offset=offset)
    return samples.astype(np.dtype(dtype).newbyteorder("=").str.replace("i", "u")).view(dtype).reshape(height, width)


def bench_decoders(encoded: list[bytes], pixels: list[np.ndarray], repeat: int) -> dict[str, float]:
    """Median ms per frame for each decoder, after checking each decodes every frame exactly."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        decoders: dict[str, Callable[[bytes, np.ndarray], np.ndarray]] = {
            "imagecodecs (OpenJPH)": lambda data, _: imagecodecs.htj2k_decode(data),
            "pylibjpeg-openjpeg": lambda data, _: openjpeg.decode(data),
        }
        if not shutil.which("ojph_expand"):
            print("ojph_expand not found: running bench/setup.sh (apt-get install -y openjph-tools)")
            subprocess.run(["bash", str(Path(__file__).with_name("setup.sh"))], check=False)
        if shutil.which("ojph_expand"):
            decoders["ojph_expand via PGM"] = lambda data, ref: ojph_expand_decode(data, workdir, ref.dtype)
        else:
            print("ojph_expand still missing (bench/setup.sh failed): its figure is left out")
        times: dict[str, list[float]] = {name: [] for name in decoders}
        clamped: dict[str, int] = {name: 0 for name in decoders}
        for data, reference in zip(encoded, pixels):
            for name, decode in decoders.items():
                expected = reference
                if name.startswith("ojph_expand") and reference.dtype.kind == "i":
                    # OpenJPH's PGM (and raw) writer clamps signed samples at 0: compare with that
                    clamped[name] += int(np.count_nonzero(reference < 0))
                    expected = np.clip(reference, 0, None)
                if not np.array_equal(decode(data, reference), expected):
                    raise SystemExit(f"{name} did not reproduce the source pixels")
        for _ in range(repeat):  # interleaved, so load from other processes hits every decoder alike
            for data, reference in zip(encoded, pixels):
                for name, decode in decoders.items():
                    times[name].append(timed(lambda: decode(data, reference))[0])
        for name in decoders:
            results[name] = median(times[name])
            if clamped[name]:
                print(f"  note: {name} wrote {clamped[name]} negative samples as 0 (PGM has no signed samples)")
    return results


# ---- the local endpoint -----------------------------------------------------------------------------


def endpoint_frames(files: list[PhantomFile], workdir: Path) -> tuple[Callable[[FrameKey], bytes], list[FrameRequest], Callable[[], None]] | str:
    """Import the files into a fresh local endpoint and return a GetImageFrame fetcher, or why not."""
    import boto3
    from botocore.config import Config

    from ahi.emulator.config import EndpointConfig
    from ahi.emulator.server import LocalEndpoint
    from ahi.services.frames import client_fetcher

    server = LocalEndpoint(EndpointConfig(state_dir=workdir / "state", port=0, datastore_transition_seconds=0.05)).start()
    try:
        options: dict[str, Any] = {
            "region_name": "us-east-1",
            "endpoint_url": server.url,
            "aws_access_key_id": "AKIDLOCALBENCH",
            "aws_secret_access_key": "local-bench-secret",
            "config": Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
        }
        mi, s3 = boto3.client("medical-imaging", **options), boto3.client("s3", **options)
        datastore = mi.create_datastore(datastoreName="bench-frames")["datastoreId"]
        wait_for(lambda: mi.get_datastore(datastoreId=datastore)["datastoreProperties"]["datastoreStatus"] == "ACTIVE")
        s3.create_bucket(Bucket="bench-frames")
        for name, data in files:
            s3.put_object(Bucket="bench-frames", Key=f"in/{name}", Body=data)
        job = mi.start_dicom_import_job(
            datastoreId=datastore,
            dataAccessRoleArn="arn:aws:iam::123456789012:role/bench-import",
            inputS3Uri="s3://bench-frames/in/",
            outputS3Uri="s3://bench-frames/out/",
        )["jobId"]
        ended = job_end(mi, datastore, job)
        if ended["jobStatus"] != "COMPLETED":
            server.stop()
            return f"import job ended {ended['jobStatus']}: {ended.get('message', '')}"
        image_set_id = imported_image_set(s3, "bench-frames", "out/")
        version = mi.get_image_set(datastoreId=datastore, imageSetId=image_set_id)["versionId"]
        body = mi.get_image_set_metadata(datastoreId=datastore, imageSetId=image_set_id)["imageSetMetadataBlob"].read()
        document = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
        requests = series_frames(document, str(version))
        return client_fetcher(mi, datastore), requests, server.stop
    except Exception as error:  # a bench reports what stopped it rather than a traceback
        server.stop()
        return f"local endpoint path failed: {type(error).__name__}: {error}"


def imported_image_set(s3: Any, bucket: str, prefix: str) -> str:
    """The image set the import created, read from the job's SUCCESS/success.ndjson output."""
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    success = next(key for key in keys if key.endswith("SUCCESS/success.ndjson"))
    lines = s3.get_object(Bucket=bucket, Key=success)["Body"].read().decode().splitlines()
    return json.loads(lines[0])["importResponse"]["imageSetId"]


def job_end(mi: Any, datastore: str, job: str, timeout: float = 120.0) -> dict[str, Any]:
    """The job's properties once it has ended.

    One read per poll: a condition reading the status twice (not IN_PROGRESS, then not SUBMITTED)
    holds when the job starts between the two reads, and the wait ends while the job runs.
    """
    deadline = time.monotonic() + timeout
    while True:
        properties: dict[str, Any] = mi.get_dicom_import_job(datastoreId=datastore, jobId=job)["jobProperties"]
        if properties["jobStatus"] not in ("SUBMITTED", "IN_PROGRESS"):
            return properties
        if time.monotonic() > deadline:
            raise TimeoutError(f"import job still {properties['jobStatus']} after {timeout:.0f} s")
        time.sleep(0.05)


def wait_for(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        time.sleep(0.05)


# ---- the preview path -----------------------------------------------------------------------------


def bench_preview(
    encoded: list[bytes],
    pixels: list[np.ndarray],
    model: PixelModel,
    fetch: Callable[[int], bytes] | None,
    expected: list[int | None],
    cols: int,
    rows: int,
    repeat: int,
) -> dict[str, list[float]]:
    """Per step, the ms of every run of the whole path over every frame."""
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    times["total"] = []
    settings = DisplaySettings()
    for index, reference in enumerate(pixels):
        for _ in range(repeat):
            step: dict[str, float] = {}
            if fetch is not None:
                step["fetch"], data = timed(lambda: fetch(index))
            else:
                data = encoded[index]
            step["decode"], decoded = timed(lambda: decode_frame(data))
            step["verify"], check = timed(lambda: verify_checksum(decoded, expected[index]))
            step["window"], (display, _) = timed(lambda: to_display(decoded, model, settings))
            step["resample"], small = timed(lambda: resample_to_cells(display, cols, rows, model.pixel_aspect))
            step["render"], _ = timed(lambda: [Strip(row, small.shape[1]) for row in halfcell_rows(small, ColourMode.TRUECOLOR)])
            if check.state.value != "ok" or not np.array_equal(decoded, reference):
                raise SystemExit(f"frame {index} did not verify: {check.describe()}")
            for name, value in step.items():
                times[name].append(value)
            times["total"].append(sum(step.values()))
    return times


def rich_pixels_image(small: np.ndarray) -> Pixels:
    """rich-pixels' own half-cell path on the already windowed and resampled pixels."""
    return Pixels.from_image(Image.fromarray(small), renderer=HalfcellRenderer())


def bench_renderers(display: np.ndarray, cols: int, rows: int, repeat: int) -> dict[str, float]:
    """Fast numpy half-cells vs rich-pixels `Pixels.from_image`, and bytes one repaint sends."""
    small = resample_to_cells(display, cols, rows)
    figures = {
        "numpy half-cells (ms)": median([timed(lambda: halfcell_rows(small))[0] for _ in range(repeat * 4)]),
        "numpy half-cells, 256-colour (ms)": median(
            [timed(lambda: halfcell_rows(small, ColourMode.COLOURS_256))[0] for _ in range(repeat * 4)]
        ),
        "rich-pixels Pixels.from_image (ms)": median([timed(lambda: rich_pixels_image(small))[0] for _ in range(repeat * 4)]),
    }
    for label, system, mode in (("truecolor", "truecolor", ColourMode.TRUECOLOR), ("256-colour", "256", ColourMode.COLOURS_256)):
        console = Console(file=io.StringIO(), color_system=system, force_terminal=True, width=cols + 1, legacy_windows=False)  # type: ignore[arg-type]
        console.print(HalfcellImage(halfcell_rows(small, mode)), end="")
        figures[f"bytes per repaint, {label} (KiB)"] = len(console.file.getvalue().encode()) / 1024  # type: ignore[attr-defined]
    return figures


def bench_graphics(displays: list[np.ndarray], cols: int, rows: int, repeat: int) -> dict[str, tuple[float, float]]:
    """(median ms, median KiB) per frame for half-cells (resample + cells + the bytes Rich writes) and each protocol.

    Cells are taken as 10x20 pixels (what a terminal reporting no pixel size gets), so Sixel draws the
    frame 1:1 when the area is at least its size; Kitty and iTerm2 always send the whole frame.
    """
    figures: dict[str, tuple[float, float]] = {}

    def halfcells(display: np.ndarray) -> bytes:
        small = resample_to_cells(display, cols, rows)
        console = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True, width=cols + 1, legacy_windows=False)
        console.print(HalfcellImage(halfcell_rows(small, ColourMode.TRUECOLOR)), end="")
        return console.file.getvalue().encode()  # type: ignore[attr-defined]

    paths: dict[str, Callable[[np.ndarray], bytes]] = {"half-cells, truecolor": halfcells}
    for mode in (GraphicsMode.KITTY, GraphicsMode.ITERM2, GraphicsMode.SIXEL):
        paths[mode.value] = lambda display, mode=mode: encode(display, mode, cols, rows, (10, 20)).sequence.encode()
    times: dict[str, list[float]] = {name: [] for name in paths}
    sizes: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(repeat):  # interleaved, so load from other processes hits every path alike
        for display in displays:
            for name, path in paths.items():
                elapsed, data = timed(lambda: path(display))
                times[name].append(elapsed)
                sizes[name].append(len(data) / 1024)
    for name in paths:
        figures[name] = (median(times[name]), median(sizes[name]))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=60)
    args = parser.parse_args(argv)

    files, pixels, model = source_frames(args.slices)
    encoded = [encode_frame(frame) for frame in pixels]
    print(f"frames: {len(pixels)} x {pixels[0].shape[1]}x{pixels[0].shape[0]} {pixels[0].dtype}, "
          f"HTJ2K lossless JPH, median {median([len(data) for data in encoded]) / 1024:.0f} KiB each")

    print("\n== decode one frame (median ms; every decoder checked against the source pixels)")
    decoders = bench_decoders(encoded, pixels, args.repeat)
    base = decoders["imagecodecs (OpenJPH)"]
    for name, value in decoders.items():
        print(f"  {name:<24} {value:8.2f} ms   {value / base:5.1f}x imagecodecs")

    with tempfile.TemporaryDirectory() as tmp:
        served = endpoint_frames(files, Path(tmp))
        fetch: Callable[[int], bytes] | None = None
        expected: list[int | None] = [frame_crc32(frame) for frame in pixels]
        stop: Callable[[], None] = lambda: None
        if isinstance(served, str):
            fetch_note = served
        else:
            fetcher, requests, stop = served
            fetch = lambda index: fetcher(requests[index].key)  # noqa: E731
            expected = [request.expected_checksum for request in requests]
            fetch_note = f"GetImageFrame from the local endpoint ({len(requests)} frames imported)"
        try:
            print(f"\n== preview path, {args.cols}x{args.rows} cells, truecolor (median ms per frame; fetch: {fetch_note})")
            times = bench_preview(encoded, pixels, model, fetch, expected, args.cols, args.rows, args.repeat)
        finally:
            stop()
    medians = {step: median(values) for step, values in times.items() if values}
    measured = sum(value for step, value in medians.items() if step != "total")
    for step in STEPS:
        if step in medians:
            print(f"  {step:<9} {medians[step]:8.2f} ms   {100 * medians[step] / measured:5.1f}%")
        else:
            print(f"  {step:<9} {'pending':>8}      (not measured: {fetch_note})")
    slowest = max((step for step in STEPS if step in medians), key=lambda step: medians[step])
    verdict = "meets" if medians["total"] < GOAL_MS else "MISSES"
    print(f"  {'total':<9} {medians['total']:8.2f} ms   median of whole runs; {verdict} the {GOAL_MS:.0f} ms goal; slowest step: {slowest}")

    print(f"\n== rendering {args.cols}x{args.rows} cells, auto 1-99% window (noise visible: few equal runs to merge)")
    display, _ = to_display(pixels[len(pixels) // 2], model, DisplaySettings(AUTO_PERCENTILE))
    renderers = bench_renderers(display, args.cols, args.rows, args.repeat)
    for name, value in renderers.items():
        print(f"  {name:<36} {value:8.2f}")
    ratio = renderers["rich-pixels Pixels.from_image (ms)"] / renderers["numpy half-cells (ms)"]
    print(f"  rich-pixels / numpy half-cells: {ratio:.1f}x")

    print(f"\n== graphics path vs half-cells, {args.cols}x{args.rows} cells of 10x20 px, DICOM window (median per frame, after windowing)")
    displays = [to_display(frame, model, DisplaySettings())[0] for frame in pixels]
    for name, (ms, kib) in bench_graphics(displays, args.cols, args.rows, args.repeat).items():
        print(f"  {name:<24} {ms:8.2f} ms {kib:9.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
