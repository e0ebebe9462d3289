"""Hostile sizes reaching the console: metadata gzip bombs and frames whose headers claim huge images,
served by the local endpoint over HTTP (its handlers replaced), refused without the memory they claim."""

from __future__ import annotations

import gzip
import json
import struct
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import imagecodecs
import numpy as np
import pytest
from botocore.response import StreamingBody

from ahi.emulator.dicom.htj2k import codestream_of, encode_frame
from ahi.emulator.protocol.serializer import BlobStream
from ahi.services.frames import (
    HEADER_PEEK_BYTES,
    MAX_DECODED_BYTES,
    FrameDecodeError,
    FrameKey,
    FrameTooLarge,
    check_header,
    decode_frame,
)
from ahi.services.connection import Connection
from ahi.services.imagesets import DocumentTooLarge, inflate_bounded

DATASTORE = "d" * 32
IMAGE_SET = "e" * 32
FRAME = "f" * 32
#: What parsing or decoding may allocate here: far below what any bomb below claims.
ALLOCATION_BOUND = 8 * 2**20


def serve_metadata(replace_handler: Callable[[str, Callable[..., Any]], None], body: bytes) -> None:
    replace_handler("GetImageSetMetadata", lambda ctx, params: {"imageSetMetadataBlob": body, "contentEncoding": "gzip"})


def serve_frame(replace_handler: Callable[[str, Callable[..., Any]], None], body: bytes) -> None:
    replace_handler("GetImageFrame", lambda ctx, params: {"imageFrameBlob": BlobStream([body], len(body))})


def peak_while(action: Callable[[], object]) -> tuple[BaseException | None, int]:
    """Run `action`; the exception it raised (if any) and the peak of Python-tracked memory meanwhile."""
    tracemalloc.start()
    try:
        action()
    except BaseException as exc:  # noqa: BLE001 - the caller asserts on it
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return None, peak


def claiming(width: int, height: int, dtype: Any = np.uint8, jph: bool = False) -> bytes:
    """A real HTJ2K frame whose SIZ header is rewritten to claim width x height (and the JPH ihdr too)."""
    pixels = np.zeros((64, 64), dtype)
    data = bytearray(encode_frame(pixels) if jph else codestream_of(encode_frame(pixels)))
    siz = data.index(b"\xff\x4f\xff\x51")
    struct.pack_into(">IIIIIIII", data, siz + 8, width, height, 0, 0, width, height, 0, 0)
    if jph:
        ihdr = data.index(b"ihdr") + 4
        struct.pack_into(">II", data, ihdr, height, width)
    return bytes(data)


def test_a_metadata_gzip_bomb_is_refused_while_it_inflates(hub: Connection, replace_handler: Any) -> None:
    """24 KiB of gzip that would unpack to 24 MiB: refused at the 1 MiB cap, never held whole."""
    bomb = gzip.compress(b'{"Patient": "' + b"0" * (24 * 2**20) + b'"}', compresslevel=9)
    serve_metadata(replace_handler, bomb)
    hub.imagesets.metadata_cap = 2**20
    error, peak = peak_while(lambda: hub.imagesets.metadata(DATASTORE, IMAGE_SET))
    assert isinstance(error, DocumentTooLarge), error
    assert error.cap == 2**20 and error.unpacked_at_least > 2**20 and error.compressed_read <= len(bomb)
    assert "more than 1 MiB" in error.message
    assert peak < ALLOCATION_BOUND, f"{peak / 2**20:.1f} MiB allocated for a refused document"


def test_a_document_under_the_cap_opens_and_multi_member_gzip_or_plain_json_read_whole(
    hub: Connection, replace_handler: Any
) -> None:
    document = {"SchemaVersion": "1.1", "Patient": {"DICOM": {"PatientName": "A^B"}}}
    text = json.dumps(document).encode()
    serve_metadata(replace_handler, gzip.compress(text[:10]) + gzip.compress(text[10:]))
    hub.imagesets.metadata_cap = len(text)
    metadata = hub.imagesets.metadata(DATASTORE, IMAGE_SET)
    assert metadata.document == document and metadata.json_bytes == len(text)
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    assert inflate_bounded(iter(pieces), len(text)) == (text, len(text))
    with pytest.raises(DocumentTooLarge):
        inflate_bounded(iter(pieces), len(text) - 1)
    empty_members = gzip.compress(b"") * 16384  # 320 KiB of gzip that unpacks to nothing
    with pytest.raises(DocumentTooLarge):
        inflate_bounded(iter([empty_members[i : i + 65536] for i in range(0, len(empty_members), 65536)]), 1024)


def test_a_document_too_large_to_open_is_exported_unparsed_up_to_the_cap(
    hub: Connection, replace_handler: Any, tmp_path: Path
) -> None:
    body = b'{"Study": "' + b"x" * (3 * 2**20) + b'"}'
    serve_metadata(replace_handler, gzip.compress(body))
    cut = hub.imagesets.export_raw_metadata(DATASTORE, IMAGE_SET, None, tmp_path / "cut.json", 2**20)
    assert cut.cut and cut.written == 2**20 and cut.path.read_bytes() == body[: 2**20]
    whole = hub.imagesets.export_raw_metadata(DATASTORE, IMAGE_SET, "1", tmp_path / "whole.json", 4 * 2**20)
    assert not whole.cut and whole.path.read_bytes() == body


@pytest.mark.parametrize(
    ("frame", "claim"),
    [
        (claiming(65535, 65535), "65535x65535 pixels"),
        (claiming(65535, 65535, np.uint16, jph=True), "65535x65535 pixels"),
        (claiming(12000, 12000, np.uint16), "12000x12000x1 at 16 bits"),
    ],
    ids=["codestream-65535", "jph-65535", "over-the-decoded-cap"],
)
def test_a_frame_whose_header_claims_a_huge_image_is_refused_before_decoding(frame: bytes, claim: str) -> None:
    error, peak = peak_while(lambda: decode_frame(frame))
    assert isinstance(error, FrameTooLarge), error
    assert claim in str(error)
    assert peak < ALLOCATION_BOUND, f"{peak / 2**20:.1f} MiB allocated for a refused frame"


def test_frame_headers_within_the_limits_pass_and_malformed_ones_are_decode_errors() -> None:
    pixels = np.arange(48 * 32, dtype=np.uint16).reshape(32, 48)
    header = check_header(encode_frame(pixels))
    assert (header.width, header.height, header.components, header.bits) == (48, 32, 1, 16)
    assert header.decoded_bytes == pixels.nbytes < MAX_DECODED_BYTES
    np.testing.assert_array_equal(decode_frame(encode_frame(pixels)), pixels)
    colour = imagecodecs.htj2k_encode(np.zeros((16, 16, 3), np.uint8))
    assert check_header(colour).components == 3
    with pytest.raises(FrameDecodeError, match="SIZ"):
        decode_frame(codestream_of(encode_frame(pixels))[:20])


def test_getimageframe_stops_reading_a_body_whose_header_claims_too_much(
    hub: Connection, replace_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_frame(replace_handler, claiming(65535, 65535) + b"\0" * (8 * 2**20))
    received: list[int] = []
    iter_chunks = StreamingBody.iter_chunks

    def counted(body: StreamingBody, chunk_size: int = 1024) -> Any:
        for chunk in iter_chunks(body, chunk_size):
            received.append(len(chunk))
            yield chunk

    monkeypatch.setattr(StreamingBody, "iter_chunks", counted)
    fetch = hub.frame_fetcher(DATASTORE)
    with pytest.raises(FrameTooLarge, match="65535x65535"):
        fetch(FrameKey(IMAGE_SET, "1", FRAME))
    assert 0 < sum(received) <= 2 * HEADER_PEEK_BYTES, f"{sum(received):,} bytes read of a refused frame"


def test_getimageframe_reads_no_more_than_its_cap(hub: Connection, replace_handler: Any) -> None:
    frame = encode_frame(np.zeros((64, 64), np.uint16))
    serve_frame(replace_handler, frame + b"\0" * (3 * 2**20))
    capped = hub.frame_fetcher(DATASTORE, max_bytes=2**20)
    with pytest.raises(FrameTooLarge, match="frame body is over 1 MiB"):
        capped(FrameKey(IMAGE_SET, "1", FRAME))
    serve_frame(replace_handler, frame)
    assert capped(FrameKey(IMAGE_SET, "1", FRAME)) == frame
