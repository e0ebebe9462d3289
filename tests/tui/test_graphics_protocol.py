"""Graphics protocol sequences for a known frame, parsed back: Kitty, iTerm2, Sixel, tmux passthrough."""

from __future__ import annotations

import base64
import io
import re
import zlib

import numpy as np
import pytest
from PIL import Image

from ahi.tui.graphics_protocol import (
    KITTY_CHUNK,
    SIXEL_GREYS,
    GraphicsMode,
    as_rgb,
    encode,
    kitty_delete,
    sixel_sequence,
    tmux_wrap,
)

ESC = "\x1b"


def noise_frame(width: int = 64, height: int = 48, seed: int = 7) -> np.ndarray:
    """Grey noise: it does not compress, so the Kitty payload needs several chunks."""
    return np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)


def kitty_commands(sequence: str) -> list[tuple[dict[str, str], str]]:
    """(control keys, payload) of each APC G command, checking each is framed ESC _ G ... ESC \\."""
    commands = re.findall(r"\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\", sequence)
    assert "".join(f"{ESC}_G{keys}" + (f";{payload}" if payload else "") + f"{ESC}\\" for keys, payload in commands) == sequence
    return [(dict(item.split("=", 1) for item in keys.split(",")), payload) for keys, payload in commands]


def test_kitty_transmits_the_frames_rgb_in_4096_chunks_with_the_placement_keys() -> None:
    frame = noise_frame(96, 64)
    image = encode(frame, GraphicsMode.KITTY, 40, 20, (10, 20), image_id=5)
    commands = kitty_commands(image.sequence)
    assert len(commands) > 2
    first = commands[0][0]
    assert first["a"] == "T" and first["f"] == "24" and first["o"] == "z"
    assert (first["s"], first["v"]) == ("96", "64")
    assert (first["c"], first["r"]) == (str(image.cols), str(image.rows)) and first["i"] == "5"
    assert first["q"] == "2" and first["C"] == "1"
    assert [keys["m"] for keys, _ in commands] == ["1"] * (len(commands) - 1) + ["0"]
    assert all(set(keys) == {"m"} for keys, _ in commands[1:])
    assert all(len(payload) <= KITTY_CHUNK and len(payload) % 4 == 0 for _, payload in commands)
    assert all(len(payload) == KITTY_CHUNK for _, payload in commands[:-1])
    raw = zlib.decompress(base64.standard_b64decode("".join(payload for _, payload in commands)))
    assert np.array_equal(np.frombuffer(raw, dtype=np.uint8).reshape(64, 96, 3), as_rgb(frame))


def test_kitty_cells_keep_the_frames_aspect_in_the_area() -> None:
    image = encode(noise_frame(64, 64), GraphicsMode.KITTY, 100, 20, (10, 20))
    assert (image.cols, image.rows) == (40, 20)
    assert encode(noise_frame(64, 64), GraphicsMode.KITTY, 30, 40, (10, 20)).cols == 30


def test_kitty_delete_is_quiet_and_frees_the_data() -> None:
    assert kitty_commands(kitty_delete(9)) == [({"a": "d", "d": "I", "i": "9", "q": "2"}, "")]


def test_iterm2_sends_the_frame_as_a_png_sized_in_cells() -> None:
    frame = noise_frame(30, 20)
    image = encode(frame, GraphicsMode.ITERM2, 40, 20, (10, 20))
    match = re.fullmatch(r"\x1b\]1337;File=([^:\x07\x1b]*):([A-Za-z0-9+/=]*)\x07", image.sequence)
    assert match is not None
    args = dict(item.split("=", 1) for item in match.group(1).split(";"))
    data = base64.standard_b64decode(match.group(2))
    assert args == {"inline": "1", "size": str(len(data)), "width": str(image.cols), "height": str(image.rows), "preserveAspectRatio": "1"}
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), frame)


def decode_sixel(sequence: str) -> tuple[tuple[int, int], np.ndarray]:
    """(raster size, RGB pixels in percent) of a DCS q sequence, read as a terminal would."""
    match = re.fullmatch(r"\x1bP0;1;0q\"1;1;(\d+);(\d+)(.*)\x1b\\", sequence, re.S)
    assert match is not None, sequence[:40]
    width, height, body = int(match.group(1)), int(match.group(2)), match.group(3)
    colours: dict[int, tuple[int, int, int]] = {}
    pixels = np.full((height, width, 3), -1, dtype=np.int32)
    x = band = 0
    current = 0
    for token in re.finditer(r"#(\d+)(?:;2;(\d+);(\d+);(\d+))?|!(\d+)([?-~])|([?-~])|(\$)|(-)", body):
        register, red, green, blue, count, repeated, single, carriage, newline = token.groups()
        if register is not None:
            current = int(register)
            if red is not None:
                colours[current] = (int(red), int(green), int(blue))
            continue
        if carriage:
            x = 0
            continue
        if newline:
            x, band = 0, band + 1
            continue
        times, char = (int(count), repeated) if count else (1, single)
        bits = ord(char) - 63
        for _ in range(times):
            for bit in range(6):
                if bits >> bit & 1 and band * 6 + bit < height:
                    pixels[band * 6 + bit, x] = colours[current]
            x += 1
    assert "".join(token.group(0) for token in re.finditer(r"#\d+(?:;2;\d+;\d+;\d+)?|![0-9]+[?-~]|[?-~$-]", body)) == body
    return (width, height), pixels


def test_sixel_has_the_raster_size_registers_and_every_pixel_of_the_frame() -> None:
    frame = noise_frame(20, 13)
    frame[0, :8] = 255  # a run, so `!` compression is exercised
    (width, height), pixels = decode_sixel(sixel_sequence(frame))
    assert (width, height) == (20, 13)
    step = 256 // SIXEL_GREYS
    grey = (frame // step).astype(np.int32) * step * 255 // (256 - step)
    expected = np.rint(grey * 100 / 255).astype(np.int32)
    assert np.array_equal(pixels, np.repeat(expected[..., None], 3, axis=2))


def test_sixel_colour_frames_use_at_most_256_registers() -> None:
    rgb = np.random.default_rng(3).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    sequence = sixel_sequence(rgb)
    registers = {int(n) for n in re.findall(r"#(\d+);2;", sequence)}
    assert registers and max(registers) < 256
    (width, height), pixels = decode_sixel(sequence)
    assert (width, height) == (10, 12) and pixels.min() >= 0


def test_sixel_shrinks_to_the_cells_pixels_and_never_enlarges() -> None:
    image = encode(noise_frame(64, 64), GraphicsMode.SIXEL, 4, 2, (10, 20))
    assert decode_sixel(image.sequence)[0] == (40, 40) == (image.width, image.height) and (image.cols, image.rows) == (4, 2)
    image = encode(noise_frame(64, 64), GraphicsMode.SIXEL, 100, 50, (10, 20))
    assert decode_sixel(image.sequence)[0] == (64, 64) and (image.cols, image.rows) == (7, 4)


def test_tmux_passthrough_wraps_and_doubles_every_escape() -> None:
    inner = encode(noise_frame(8, 8), GraphicsMode.KITTY, 4, 2, (10, 20)).sequence
    wrapped = tmux_wrap(inner)
    assert wrapped.startswith(f"{ESC}Ptmux;{ESC}{ESC}_G") and wrapped.endswith(f"{ESC}{ESC}\\{ESC}\\")
    body = wrapped[len(f"{ESC}Ptmux;") : -2]
    assert re.search(r"\x1b(?!\x1b)", body.replace(ESC * 2, "")) is None
    assert body.replace(ESC * 2, ESC) == inner


def test_cells_is_not_a_protocol() -> None:
    with pytest.raises(ValueError, match="not a graphics protocol"):
        encode(noise_frame(), GraphicsMode.CELLS, 10, 10, (10, 20))
