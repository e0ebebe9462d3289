"""Endpoints in one process stay apart: stopping one never closes a descriptor of another, nor of other code.

Tests and benches start several endpoints in one process. Each must close only what it
opened, even when other code closed one of its wake-up pipe's descriptors and the number went to
something else, while the other endpoint runs an import and serves frames.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
from pathlib import Path
from typing import Any

from imageset_flows import import_ct, new_datastore

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.services.frame_metadata import series_frames
from ahi.services.frames import decode_frame


def fetch_every_frame(mi: Any, datastore_id: str, image_set_id: str) -> int:
    """GetImageFrame for each frame of an image set, each decoded; how many."""
    version = mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id)["versionId"]
    body = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=image_set_id)["imageSetMetadataBlob"].read()
    document = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    requests = series_frames(document, str(version))
    for request in requests:
        frame = mi.get_image_frame(
            datastoreId=datastore_id, imageSetId=image_set_id, imageFrameInformation={"imageFrameId": request.key.frame_id}
        )
        assert decode_frame(frame["imageFrameBlob"].read()).size > 0
    return len(requests)


def released(port: int) -> bool:
    with socket.create_server(("127.0.0.1", port)):
        return True


def test_stopping_one_endpoint_leaves_the_other_serving_an_import_and_frames(
    endpoint: LocalEndpoint, mi: Any, s3: Any, tmp_path: Path
) -> None:
    datastore_id = new_datastore(mi)
    for round_number in range(2):
        stopped = LocalEndpoint(EndpointConfig(state_dir=tmp_path / f"stopped-{round_number}")).start()
        with socket.create_connection(("127.0.0.1", stopped.port), timeout=10) as open_channel:
            open_channel.sendall(b"GET /datastore HTTP/1.1\r\nHost: x\r\n\r\n")
            status_line = open_channel.makefile("rb").readline()
            assert status_line.startswith(b"HTTP/1.1 200 "), status_line  # a kept-alive channel for the stop to close
            port = stopped.port
            stopped.stop()
        assert released(port)
        image_set_id = import_ct(mi, s3, datastore_id, series_key=f"round-{round_number}")
        assert fetch_every_frame(mi, datastore_id, image_set_id) == 2


def test_a_pipe_number_other_code_now_holds_is_left_open_and_the_other_endpoint_serves(
    endpoint: LocalEndpoint, mi: Any, s3: Any, tmp_path: Path
) -> None:
    datastore_id = new_datastore(mi)
    stopped = LocalEndpoint(EndpointConfig(state_dir=tmp_path / "stopped")).start()
    port = stopped.port
    trigger = stopped._server.trigger  # type: ignore[union-attr]  # noqa: SLF001
    # Other code closed the pipe's write end by mistake and opened a file, which was given that number.
    # (dup2 rather than close + open: another thread could take a merely closed number first.)
    theirs = tmp_path / "other-code.txt"
    theirs.write_text("not the endpoint's")
    opened = os.open(theirs, os.O_RDONLY)
    os.dup2(opened, trigger.trigger)
    os.close(opened)
    held = trigger.trigger
    identity = (os.fstat(held).st_dev, os.fstat(held).st_ino)
    try:
        stopped.stop()
        assert released(port)
        assert (os.fstat(held).st_dev, os.fstat(held).st_ino) == identity, "the stop closed a descriptor it no longer owned"
        assert os.pread(held, 64, 0) == b"not the endpoint's"
        image_set_id = import_ct(mi, s3, datastore_id)
        assert fetch_every_frame(mi, datastore_id, image_set_id) == 2
    finally:
        os.close(held)
