"""The metadata view against hostile documents served over HTTP by the local endpoint (its handlers
replaced): 10,000 instances open at once and expand lazily, control sequences and markup in keys and
values stay literal, and a document past the cap is shown as such while the console stays usable."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from console_harness import AppFactory, drive, notifications, settle, widget_text
from textual.pilot import Pilot
from textual.widgets import Input, Static, Tree

from ahi.emulator.dicom.htj2k import encode_frame
from ahi.emulator.handlers import HANDLERS
from ahi.emulator.protocol.serializer import BlobStream
from ahi.screens.frame_viewer import FrameViewerScreen
from ahi.screens import metadata_view
from ahi.screens.metadata_view import CHUNK, MetadataViewScreen, MoreLines, node_label
from ahi.services.frames import FrameTooLarge
from ahi.services.metadata_tree import MetadataNode, locate
from ahi.tui.widgets.frame_preview import FramePreview

DATASTORE = "0" * 31 + "d"
IMAGE_SET = "0" * 31 + "e"
SERIES = "1.2.840.99.1"
INSTANCES = 10_000
HOSTILE = {
    "clear": "\x1b[2J",
    "title": "\x1b]0;pwned\x07",
    "clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "link": "\x1b]8;;http://evil.example/\x1b\\here\x1b]8;;\x1b\\",
    "c1": "\x9b2J\x9d0;t\x9c",
    "markup": "[@click=app.quit]x[/]",
    "bidi": "\u202egnp.exe",
}
HOSTILE_TEXT = "".join(HOSTILE.values())
#: Characters that must never reach a tree line as themselves.
FORBIDDEN = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} | {"\u202e"}


def sop(number: int) -> str:
    return f"1.2.840.99.1.{number}"


def document(instances: int) -> dict[str, Any]:
    """One study, one series of `instances` single-frame instances, hostile text at every level."""
    return {
        "SchemaVersion": "1.1",
        "DatastoreID": DATASTORE,
        "ImageSetID": IMAGE_SET,
        "Patient": {"DICOM": {"PatientName": HOSTILE["title"] + HOSTILE["clear"], "PatientID": HOSTILE["markup"]}},
        "Study": {
            "DICOM": {"StudyDescription": HOSTILE["clipboard"], "StudyInstanceUID": "1.2.840.99", HOSTILE_TEXT: "key"},
            "Series": {
                SERIES: {
                    "DICOM": {"SeriesNumber": 1, "Modality": "CT", "SeriesDescription": HOSTILE["link"] + HOSTILE["bidi"]},
                    "Instances": {
                        sop(number): {
                            "DICOM": {"InstanceNumber": number, "ImageComments": HOSTILE["c1"]},
                            "ImageFrames": [{"ID": f"{number:032x}", "FrameSizeInBytes": 100}],
                        }
                        for number in range(1, instances + 1)
                    },
                },
                HOSTILE_TEXT: {"DICOM": {"SeriesNumber": 2, "ReferencedImageSequence": [{"ReferencedSOPInstanceUID": HOSTILE_TEXT}]}},
            },
        },
    }


def serve(monkeypatch: pytest.MonkeyPatch, served: dict[str, bytes]) -> None:
    """GetImageSet answers an ACTIVE version 1, GetImageSetMetadata `served["body"]` (gzip) and
    GetImageFrame `served["frame"]`."""
    state = {"datastoreId": DATASTORE, "imageSetId": IMAGE_SET, "versionId": "1", "imageSetState": "ACTIVE", "imageSetWorkflowStatus": "CREATED"}
    monkeypatch.setitem(HANDLERS, "GetImageSet", lambda ctx, params: state)
    monkeypatch.setitem(HANDLERS, "GetImageSetMetadata", lambda ctx, params: {"imageSetMetadataBlob": served["body"], "contentEncoding": "gzip"})
    monkeypatch.setitem(HANDLERS, "GetImageFrame", lambda ctx, params: {"imageFrameBlob": BlobStream([served["frame"]], len(served["frame"]))})


def frame_claiming(width: int, height: int) -> bytes:
    """A real HTJ2K frame (JPH) whose SIZ and ihdr headers are rewritten to claim width x height."""
    data = bytearray(encode_frame(np.zeros((64, 64), np.uint16)))
    siz = data.index(b"\xff\x4f\xff\x51")
    struct.pack_into(">IIIIIIII", data, siz + 8, width, height, 0, 0, width, height, 0, 0)
    struct.pack_into(">II", data, data.index(b"ihdr") + 4, height, width)
    return bytes(data)


async def open_view(pilot: Pilot[Any]) -> MetadataViewScreen:
    pilot.app.push_screen(MetadataViewScreen(DATASTORE, IMAGE_SET))
    await settle(pilot)
    view = pilot.app.screen
    assert isinstance(view, MetadataViewScreen)
    return view


def line_of(view: MetadataViewScreen, path: tuple[str, ...]) -> Any:
    assert view.loaded is not None and view.loaded.tree is not None
    node = locate(view.loaded.tree, path)
    assert node is not None
    return view._tree_nodes[id(node)]  # noqa: SLF001 - the tree line a model node is drawn on


def assert_literal(tree: Tree[Any]) -> None:
    """Every line the tree draws: no control or bidi character, no link or click action in its styles."""
    for y in range(tree.size.height):
        for segment in tree.render_line(y):
            assert not FORBIDDEN & set(segment.text), repr(segment.text)
            style = segment.style
            assert style is None or (not style.link and "@click" not in (style.meta or {})), (segment.text, style)


def test_a_document_past_the_cap_then_ten_thousand_instances_open_expand_in_chunks_and_stay_literal(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A document past the cap is shown as such, exported unparsed, and the console goes on to open a
    10,000-instance document at once, expanding it a chunk at a time, every hostile value literal."""
    served = {"frame": b"", "body": gzip.compress(json.dumps({"Patient": {"DICOM": {"PatientName": "x" * (8 * 2**20)}}}).encode())}
    serve(monkeypatch, served)
    monkeypatch.setattr(metadata_view, "RAW_EXPORT_BYTES", 2**20)
    app = make_app()
    target = tmp_path / "big.json"

    async def scenario(pilot: Pilot[Any]) -> None:
        home = app.screen
        app.services.imagesets.metadata_cap = 2**20
        view = await open_view(pilot)
        assert view.loaded is not None and view.loaded.tree is None and view.loaded.too_large is not None
        assert not view.query_one(Tree).display
        notice = widget_text(view.query_one("#too-large", Static))
        assert "too large to open" in notice and "more than 1 MiB" in notice
        assert "not opened" in widget_text(view.query_one("#status-line"))
        await pilot.press("y", "slash", "u")
        await pilot.pause()
        assert app.screen is view and sum("too large" in text for text in notifications(app)) == 3
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert target.stat().st_size == 2**20 and target.read_bytes().startswith(b'{"Patient"')
        assert any("unparsed, cut at 1,048,576 bytes" in text for text in notifications(app))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is home and app.return_code is None

        app.services.imagesets.metadata_cap = 64 * 2**20
        served["body"] = gzip.compress(json.dumps(document(INSTANCES)).encode())
        view = await open_view(pilot)
        tree = view.query_one(Tree)
        root = view.loaded.tree
        group = locate(root, ("Study", "Series"))
        assert group is not None and not group.built, "the series were built before anyone opened them"
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is view and "more than y lays out" in notifications(app)[-1]

        line_of(view, ("Study", "Series")).expand()
        await pilot.pause()
        line_of(view, ("Study", "Series", SERIES)).expand()
        await pilot.pause()
        instances_line = line_of(view, ("Study", "Series", SERIES, "Instances"))
        instances_line.expand()
        await pilot.pause()
        shown = instances_line.children
        assert len(shown) == CHUNK + 1 and isinstance(shown[-1].data, MoreLines)
        assert f"{INSTANCES - CHUNK:,} more" in str(shown[-1].label)
        model = locate(root, ("Study", "Series", SERIES, "Instances"))
        assert len(model.children) == INSTANCES and not any(node.built for node in model.children)
        assert [node.data.sop_uid for node in shown[:3]] == [sop(1), sop(2), sop(3)]

        tree.move_cursor(shown[-1])
        await pilot.press("enter")
        await pilot.pause()
        assert len(instances_line.children) == 2 * CHUNK + 1

        last = sop(INSTANCES - 1)
        await pilot.press("slash")
        view.query_one("#tree-search", Input).value = last
        await pilot.press("enter")
        await settle(pilot)
        assert view.matches and tree.cursor_node is not None and tree.cursor_node.data.sop_uid == last
        shown = instances_line.children
        assert len(shown) == CHUNK + 1, "revealing the match shows the chunk it is in, not all before it"
        assert isinstance(shown[0].data, MoreLines) and f"{INSTANCES - CHUNK:,} earlier" in str(shown[0].label)
        tree.move_cursor(shown[0])
        await pilot.press("enter")
        await pilot.pause()
        assert [line.data.sop_uid for line in instances_line.children[1:3]] == [sop(INSTANCES - 2 * CHUNK + 1), sop(INSTANCES - 2 * CHUNK + 2)]
        assert len(instances_line.children) == 2 * CHUNK + 1

        for path in [("Study", "Series", HOSTILE_TEXT), ("Study", "Series", SERIES, "Instances", last)]:
            line_of(view, path).expand()
            await pilot.pause()
        drawn = [line.data for line in view._tree_nodes.values() if isinstance(line.data, MetadataNode)]  # noqa: SLF001
        assert {"ReferencedImageSequence (1 item)", "ImageComments", "StudyDescription", HOSTILE_TEXT} <= {node.label for node in drawn}
        for kept in drawn:
            label = node_label(kept)
            assert not FORBIDDEN & set(label.plain), repr(label.plain)
            assert all("@click" not in str(span.style) and "link" not in str(span.style) for span in label.spans)
        name = line_of(view, ("Patient", "DICOM", "PatientID"))
        assert "PatientID: [@click=app.quit]x[/]" in str(name.label)
        assert "␛]0;pwned␇␛[2J" in str(line_of(view, ("Patient", "DICOM", "PatientName")).label)
        tree.move_cursor(name)
        tree.scroll_to_node(name, animate=False)
        await pilot.pause()
        assert_literal(tree)
        detail = widget_text(view.query_one("#node-detail", Static))
        assert "raw [@click=app.quit]x[/]" in detail
        await pilot.click(Tree, offset=(10, name.line - int(tree.scroll_offset.y)))
        await pilot.pause()
        assert app.return_code is None and app.screen is view, "clicking a value ran something"

        served["body"] = gzip.compress(json.dumps(document(1)).encode())
        served["frame"] = frame_claiming(65535, 65535)
        app.push_screen(FrameViewerScreen(DATASTORE, IMAGE_SET))
        await settle(pilot)
        preview = app.screen.query_one(FramePreview)
        assert isinstance(preview.error, FrameTooLarge) and preview.decoded is None
        assert "65535x65535 pixels" in str(preview.error) and "16384 a side" in str(preview.error)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is view and app.return_code is None


    drive(app, scenario)
