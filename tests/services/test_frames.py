"""Frame decode, checksum, windowing and resampling, on real and known pixels (rendering: tests/tui/test_pixels_render.py)."""

from __future__ import annotations

import gzip
import json
import time
import zlib
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from ahi.emulator.dicom.checksum import frame_checksum
from ahi.emulator.dicom.htj2k import codestream_of, encode_frame
from ahi.emulator.dicom.instance import process_file
from ahi.services.frame_metadata import FrameRequest, pixel_model, series_frames
from ahi.services.frames import (
    ChecksumState,
    DecodedFrame,
    FrameCache,
    FrameDecodeError,
    FrameKey,
    FrameSource,
    client_fetcher,
    decode_and_verify,
    decode_frame,
    expected_checksum,
    frame_crc32,
    jp2_colour_space,
    verify_checksum,
)
from ahi.services.windowing import (
    AUTO,
    DICOM,
    DisplaySettings,
    PixelModel,
    Window,
    auto_window,
    fit_to_cells,
    greyscale_display,
    next_choice,
    parse_windows,
    preset,
    resample,
    to_display,
    window_to_uint8,
)

SAMPLES = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_small_odd.dcm"]


def imported(name: str) -> tuple[dict[str, Any], dict[str, bytes], np.ndarray]:
    """A pydicom sample through the import pipeline: (metadata document, frame bytes by ID, pydicom's frames)."""
    path = get_testdata_file(name)
    with open(path, "rb") as handle:
        outcome = process_file(name, handle.read())
    assert outcome.instance is not None, outcome.failure
    instance = outcome.instance
    document = {
        "SchemaVersion": "1.1",
        "DatastoreID": "d" * 32,
        "ImageSetID": "s" * 32,
        "Patient": {"DICOM": instance.levels["Patient"]},
        "Study": {
            "DICOM": instance.levels["Study"],
            "Series": {
                instance.series_instance_uid: {
                    "DICOM": instance.levels["Series"],
                    "Instances": {instance.sop_instance_uid: instance.instance},
                }
            },
        },
    }
    dataset = pydicom.dcmread(path)
    frames = dataset.pixel_array
    if int(dataset.get("NumberOfFrames", 1) or 1) == 1:
        frames = frames[np.newaxis]
    return document, {frame.frame_id: frame.data for frame in instance.frames}, frames


@pytest.mark.parametrize("name", SAMPLES)
def test_imported_sample_frames_decode_to_pydicoms_pixels_and_verify(name: str) -> None:
    document, stored, expected_frames = imported(name)
    fetched: list[FrameKey] = []

    def fetch(key: FrameKey) -> bytes:
        fetched.append(key)
        return stored[key.frame_id]

    source = FrameSource(fetch)
    requests = series_frames(document, "1")
    assert len(requests) == len(expected_frames)
    for request, expected in zip(requests, expected_frames):
        decoded = source.load(request.key, request.expected_checksum)
        np.testing.assert_array_equal(decoded.pixels, expected)
        assert decoded.checksum.state is ChecksumState.OK
        assert decoded.checksum.expected == decoded.checksum.actual == frame_checksum(expected)
        # the bare codestream (what a service without the JPH wrapper would send) decodes the same
        np.testing.assert_array_equal(decode_frame(codestream_of(stored[request.key.frame_id])), expected)
    for request in requests:
        source.load(request.key, request.expected_checksum)
    assert fetched == [request.key for request in requests]


def test_a_frame_whose_pixels_differ_from_the_metadata_checksum_is_a_mismatch_with_both_values() -> None:
    document, stored, expected_frames = imported("CT_small.dcm")
    request = series_frames(document, "1")[0]
    tampered = expected_frames[0].copy()
    tampered[10, 10] += 1
    decoded = decode_and_verify(request.key, encode_frame(tampered), request.expected_checksum)
    assert decoded.checksum.state is ChecksumState.MISMATCH
    assert decoded.checksum.expected == frame_checksum(expected_frames[0])
    assert decoded.checksum.actual == frame_checksum(tampered) != decoded.checksum.expected
    text = decoded.checksum.describe()
    assert str(decoded.checksum.expected) in text and str(decoded.checksum.actual) in text and "MISMATCH" in text


def test_a_frame_without_a_metadata_checksum_is_absent_not_ok() -> None:
    pixels = np.arange(64, dtype=np.uint16).reshape(8, 8)
    check = verify_checksum(pixels, expected_checksum({"ID": "x", "PixelDataChecksumFromBaseToFullResolution": []}))
    assert check.state is ChecksumState.ABSENT and check.expected is None and check.actual == frame_crc32(pixels)


def test_the_full_resolution_checksum_is_the_widest_entry_in_any_order() -> None:
    entry = {
        "PixelDataChecksumFromBaseToFullResolution": [
            {"Width": 512, "Height": 375, "Checksum": 1227709180},
            {"Width": 128, "Height": 94, "Checksum": 1},
            {"Width": 256, "Height": 188, "Checksum": 2598394845},
        ]
    }
    assert expected_checksum(entry) == 1227709180
    assert expected_checksum({"ID": "only"}) is None


def test_crc32_follows_the_ifrc_rule_little_endian_signed_interleaved() -> None:
    signed = np.array([[-1, 2], [3, -4]], dtype=">i2")
    assert frame_crc32(signed) == frame_crc32(signed.astype("<i2"))
    assert frame_crc32(signed) == zlib.crc32(np.array([-1, 2, 3, -4], dtype="<i2").tobytes())
    rgb = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert frame_crc32(rgb) == zlib.crc32(bytes(range(12)))


def test_bytes_that_are_not_jpeg_2000_are_refused_with_what_they_start_with() -> None:
    with pytest.raises(FrameDecodeError, match="not JPEG 2000: starts with 89504e47"):
        decode_frame(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(FrameDecodeError, match="SIZ header is inconsistent"):
        decode_frame(b"\xff\x4f\xff\x51" + b"\x00" * 40)
    whole = codestream_of(encode_frame(np.arange(4096, dtype=np.uint16).reshape(64, 64)))
    with pytest.raises(FrameDecodeError, match="does not decode"):
        decode_frame(whole[:120])


def test_cache_evicts_least_recently_used_by_bytes() -> None:
    def frame(name: str, size: int) -> DecodedFrame:
        pixels = np.zeros(size, dtype=np.uint8)
        return DecodedFrame(FrameKey("set", "1", name), pixels, verify_checksum(pixels, None))

    cache = FrameCache(max_bytes=300)
    for name in "abc":
        cache.put(frame(name, 100))
    assert cache.get(FrameKey("set", "1", "a")) is not None  # a is now the most recent
    cache.put(frame("d", 100))
    assert FrameKey("set", "1", "b") not in cache
    assert [key in cache for key in (FrameKey("set", "1", n) for n in "acd")] == [True, True, True]
    assert cache.used_bytes == 300
    cache.put(frame("huge", 301))
    assert FrameKey("set", "1", "huge") not in cache and len(cache) == 3
    assert FrameKey("set", "2", "a") not in cache  # the version is part of the key


# ---- windowing -------------------------------------------------------------------------------


def test_window_256_wide_at_128_is_the_identity_on_0_to_255_and_clips_outside() -> None:
    values = np.array([-5, 0, 1, 127, 128, 254, 255, 300])
    assert window_to_uint8(values, Window(128, 256)).tolist() == [0, 0, 1, 127, 128, 254, 255, 255]


def test_window_follows_the_dicom_linear_function_with_half_up_rounding() -> None:
    # c=40, w=80: y = ((x - 39.5) / 79 + 0.5) * 255; black at or below 0, white above 79
    values = np.array([-100, 0, 1, 20, 40, 79, 80])
    assert window_to_uint8(values, Window(40, 80)).tolist() == [0, 0, 3, 65, 129, 255, 255]
    assert window_to_uint8(np.array([9, 9.5, 10]), Window(10, 1)).tolist() == [0, 0, 255]


def test_the_instances_voi_lut_function_shapes_its_own_windows() -> None:
    # PS3.3 C.11.2.1.3: SIGMOID y = 255 / (1 + exp(-4 (x - c) / w)); LINEAR_EXACT y = ((x - c) / w + 0.5) * 255
    values = np.array([-1e6, 0, 40, 80, 1e6])
    [sigmoid] = pixel_model({"WindowCenter": "40", "WindowWidth": "80", "VOILUTFunction": "SIGMOID"}).windows
    assert window_to_uint8(values, sigmoid).tolist() == [0, 30, 128, 225, 255]
    assert sigmoid.describe() == "W 80 L 40 (DICOM, sigmoid)"
    [exact] = parse_windows(40, 80, "LINEAR_EXACT")
    assert window_to_uint8(values, exact).tolist() == [0, 0, 128, 255, 255]
    # LINEAR needs a width of at least 1; the other functions any positive width. Unknown names are LINEAR.
    assert parse_windows(40, 0.5, None) == () and len(parse_windows(40, 0.5, "SIGMOID")) == 1
    assert parse_windows(40, 80, "CUBIC")[0].function == "LINEAR"
    # Presets stay linear whatever the instance says.
    assert preset("brain").function == "LINEAR"


def test_rescale_then_window_then_monochrome1_inverts() -> None:
    stored = np.array([[0, 50], [100, 200]], dtype=np.uint16)
    model = PixelModel(rescale_slope=2, rescale_intercept=-100)  # modality: -100, 0, 100, 300
    window = Window(128, 256)
    assert greyscale_display(stored, model, window, invert=False).tolist() == [[0, 0], [100, 255]]
    mono1 = PixelModel("MONOCHROME1", 2, -100)
    assert greyscale_display(stored, mono1, window, invert=False).tolist() == [[255, 255], [155, 0]]
    assert greyscale_display(stored, mono1, window, invert=True).tolist() == [[0, 0], [100, 255]]


def test_lookup_table_path_equals_the_direct_float_path() -> None:
    rng = np.random.default_rng(7)
    stored = rng.integers(-2000, 3000, (64, 64)).astype(np.int16)
    model = PixelModel(rescale_slope=0.5, rescale_intercept=-24.5)
    window = Window(40, 400)
    via_lut = greyscale_display(stored, model, window, invert=False)
    direct = greyscale_display(stored.astype(np.float64), model, window, invert=False)
    np.testing.assert_array_equal(via_lut, direct)


def test_auto_window_maps_min_to_black_and_max_to_white() -> None:
    stored = np.array([[1000, 1500], [2000, 3000]], dtype=np.uint16)
    model = PixelModel(rescale_intercept=-1024)
    window = auto_window(stored, model)
    assert (window.center, window.width, window.label) == (976.5, 2001.0, AUTO)
    display = greyscale_display(stored, model, window, invert=False)
    assert display[0, 0] == 0 and display[1, 1] == 255


def test_choices_cycle_and_the_instance_window_comes_first_when_present() -> None:
    assert parse_windows("40\\400", ["80", "2000"]) == (Window(40, 80, DICOM), Window(400, 2000, DICOM))
    assert parse_windows(["40 ", "300"], ["400 ", "1500"])[0] == Window(40, 400, DICOM)
    pixels = np.zeros((4, 4), dtype=np.int16)
    model = pixel_model({"WindowCenter": ["40", "300"], "WindowWidth": ["400", "1500"], "RescaleIntercept": "-1024 "})
    assert to_display(pixels, model, DisplaySettings())[1] == Window(40, 400, DICOM)
    assert to_display(pixels, model, DisplaySettings("lung"))[1] == Window(-600, 1500, "lung")
    assert next_choice(DICOM, 1, True) == "soft tissue"
    assert next_choice("soft tissue", -1, False) == "auto 1-99%"
    assert to_display(pixels, PixelModel(), DisplaySettings(DICOM))[1].label == AUTO  # no window: auto


def test_colour_frames_stay_colour_and_ybr_full_converts_to_rgb() -> None:
    rgb = np.array([[[255, 0, 0], [0, 0, 255]]], dtype=np.uint8)
    display, window = to_display(rgb, PixelModel("RGB"), DisplaySettings())
    assert window is None and display.tolist() == rgb.tolist()
    ybr = np.array([[[76, 85, 255], [128, 128, 128]]], dtype=np.uint8)  # red and mid grey in YBR_FULL
    display, _ = to_display(ybr, PixelModel("YBR_FULL"), DisplaySettings(invert=True))
    assert display.tolist() == [[[1, 255, 255], [127, 127, 127]]]


# ---- resampling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "cells", "aspect", "expected"),
    [
        ((512, 512), (120, 60), 1.0, (120, 120)),
        ((512, 256), (120, 60), 1.0, (120, 60)),
        ((256, 512), (120, 60), 1.0, (60, 120)),
        ((64, 64), (120, 60), 1.0, (120, 120)),
        ((512, 512), (120, 60), 0.5, (120, 60)),
        ((320, 240), (80, 20), 1.0, (53, 40)),
    ],
)
def test_fit_keeps_aspect_in_half_cells(image: tuple[int, int], cells: tuple[int, int], aspect: float, expected: tuple[int, int]) -> None:
    assert fit_to_cells(*image, *cells, pixel_aspect=aspect) == expected


def test_box_resampling_averages_blocks_exactly() -> None:
    image = np.array(
        [[0, 0, 100, 100], [0, 0, 100, 100], [200, 200, 50, 50], [200, 200, 50, 50]], dtype=np.uint8
    )
    assert resample(image, (2, 2), Image.Resampling.BOX).tolist() == [[0, 100], [200, 50]]
    flat = np.full((512, 512), 77, dtype=np.uint8)
    assert np.all(resample(flat, (120, 120)) == 77)


# ---- metadata ------------------------------------------------------------------------------------


def test_series_frames_follow_instance_number_numerically_with_labels() -> None:
    def instance(number: str | None, frames: int) -> dict[str, Any]:
        return {
            "DICOM": {"InstanceNumber": number, "RescaleSlope": "1 ", "RescaleIntercept": "-1024 ", "PixelSpacing": ["0.5", "0.25"]},
            "ImageFrames": [{"ID": f"{number}-{i}", "PixelDataChecksumFromBaseToFullResolution": []} for i in range(frames)],
        }

    document = {
        "ImageSetID": "set",
        "Patient": {"DICOM": {"PatientName": "Doe^Jane", "PatientID": "P1"}},
        "Study": {
            "DICOM": {},
            "Series": {
                "1.2.3": {
                    "DICOM": {"SeriesNumber": "4 ", "Modality": "CT", "SeriesDescription": "Chest"},
                    "Instances": {"b": instance("10", 1), "a": instance("2", 2), "c": instance(None, 1)},
                }
            },
        },
    }
    requests: list[FrameRequest] = series_frames(document, "3")
    assert [request.key.frame_id for request in requests] == ["2-0", "2-1", "10-0", "None-0"]
    assert requests[0].key == FrameKey("set", "3", "2-0")
    assert requests[1].labels.instance == "Instance 2 · frame 2/2 · 2/4"
    assert requests[0].labels.patient == "Doe^Jane (P1)" and requests[0].labels.series == "Series 4 · CT · Chest"
    assert requests[0].model.rescale_intercept == -1024 and requests[0].model.pixel_aspect == 2.0


def test_series_frames_of_one_chosen_series() -> None:
    def series(number: str, frame_id: str) -> dict[str, Any]:
        return {
            "DICOM": {"SeriesNumber": number},
            "Instances": {frame_id: {"DICOM": {"InstanceNumber": "1"}, "ImageFrames": [{"ID": frame_id}]}},
        }

    document = {"ImageSetID": "set", "Study": {"Series": {"1.1": series("1", "first"), "1.2": series("2", "second")}}}
    assert [r.key.frame_id for r in series_frames(document, "1")] == ["first", "second"]
    assert [r.key.frame_id for r in series_frames(document, "1", series_uid="1.2")] == ["second"]


# ---- through the local endpoint --------------------------------------------------------------------


def _poll(read: Any, done: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not done(value := read()):
        assert time.monotonic() < deadline, f"still {value}"
        time.sleep(0.05)
    return value


def test_getimageframe_from_the_local_endpoint_decodes_to_pydicoms_pixels_and_verifies(mi: Any, s3: Any) -> None:
    datastore = mi.create_datastore(datastoreName="frames")["datastoreId"]
    _poll(lambda: mi.get_datastore(datastoreId=datastore)["datastoreProperties"]["datastoreStatus"], lambda s: s == "ACTIVE")
    s3.create_bucket(Bucket="frames")
    names = ["CT_small.dcm", "MR_small.dcm"]
    for name in names:
        with open(get_testdata_file(name), "rb") as handle:
            s3.put_object(Bucket="frames", Key=f"in/{name}", Body=handle.read())
    job = mi.start_dicom_import_job(
        datastoreId=datastore,
        dataAccessRoleArn="arn:aws:iam::123456789012:role/ImportJobDataAccessRole",
        inputS3Uri="s3://frames/in/",
        outputS3Uri="s3://frames/out/",
    )["jobId"]
    status = _poll(
        lambda: mi.get_dicom_import_job(datastoreId=datastore, jobId=job)["jobProperties"]["jobStatus"],
        lambda s: s not in ("SUBMITTED", "IN_PROGRESS"),
    )
    assert status == "COMPLETED"
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="frames", Prefix="out/")["Contents"]]
    success = next(key for key in keys if key.endswith("SUCCESS/success.ndjson"))
    lines = s3.get_object(Bucket="frames", Key=success)["Body"].read().decode().splitlines()
    image_sets = {json.loads(line)["importResponse"]["imageSetId"] for line in lines}
    assert len(image_sets) == 2  # two patients, two image sets
    datasets = [pydicom.dcmread(get_testdata_file(name)) for name in names]
    expected = {str(dataset.SOPInstanceUID): dataset.pixel_array for dataset in datasets}
    source = FrameSource(client_fetcher(mi, datastore))
    for image_set in image_sets:
        version = mi.get_image_set(datastoreId=datastore, imageSetId=image_set)["versionId"]
        blob = mi.get_image_set_metadata(datastoreId=datastore, imageSetId=image_set)["imageSetMetadataBlob"].read()
        document = json.loads(gzip.decompress(blob))
        (request,) = series_frames(document, version)
        decoded = source.load(request.key, request.expected_checksum)
        np.testing.assert_array_equal(decoded.pixels, expected[request.sop_instance_uid])
        assert decoded.checksum.state is ChecksumState.OK


def test_ybr_input_stored_as_rgb_frames_is_shown_as_pydicoms_rgb() -> None:
    document, stored, expected_frames = imported("SC_ybr_full_422_uncompressed.dcm")
    (request,) = series_frames(document, "1")
    assert request.model.photometric == "RGB"  # transcoded colour is described as stored (docs/stored-syntaxes.md)
    decoded = decode_and_verify(request.key, stored[request.key.frame_id], request.expected_checksum)
    assert decoded.colour_space == "sRGB"  # ... while the JPH colr box says what the samples are
    display, _ = to_display(decoded.pixels, request.model.for_frame(decoded.colour_space), DisplaySettings())
    np.testing.assert_array_equal(display, expected_frames[0])
    assert jp2_colour_space(codestream_of(stored[request.key.frame_id])) is None
    grey = imported("CT_small.dcm")[1]
    assert {jp2_colour_space(data) for data in grey.values()} == {"greyscale"}
