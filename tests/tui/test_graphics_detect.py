"""Choosing the graphics protocol: environment, canned DA1 replies, tmux passthrough, the flag, a real pty."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from ahi.tui.graphics_detect import (
    ENV_VAR,
    GraphicsChoice,
    decide,
    decide_for_launch,
    from_environment,
    parse_mode,
    sixel_in_da1,
    tmux_pane_origin,
    tmux_passthrough,
)
from ahi.tui.graphics_protocol import GraphicsMode
from ahi.tui import info
from ahi.tui.settings import build_parser
from pty_child import run_on_pty

KITTY, ITERM2, SIXEL, CELLS, AUTO = (GraphicsMode.KITTY, GraphicsMode.ITERM2, GraphicsMode.SIXEL, GraphicsMode.CELLS, GraphicsMode.AUTO)
XTERM_SIXEL = "\x1b[?63;1;2;4;6;9;15;22c"
XTERM_PLAIN = "\x1b[?65;1;9c"


def no_query() -> str:
    raise AssertionError("the terminal must not be asked")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"TERM": "xterm-kitty"}, KITTY),
        ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "3"}, KITTY),
        ({"TERM": "xterm-ghostty"}, KITTY),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, KITTY),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, ITERM2),
        ({"TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"}, ITERM2),
        ({"TERM": "dumb"}, CELLS),
        ({}, CELLS),
        ({"TERM": "xterm-256color"}, None),
        ({"TERM": "screen-256color", "TMUX": "/tmp/tmux-1/default,1,0"}, None),
    ],
)
def test_environment_names_the_protocol_or_leaves_it_to_the_terminal(environ: dict[str, str], expected: GraphicsMode | None) -> None:
    assert from_environment(environ) is expected


def test_sixel_is_read_from_the_device_attributes_reply() -> None:
    assert sixel_in_da1(XTERM_SIXEL)
    assert not sixel_in_da1(XTERM_PLAIN)
    assert not sixel_in_da1("\x1b[?64;14c")  # 14 is not 4
    assert not sixel_in_da1("")
    assert sixel_in_da1("noise\x1b[?62;4c")


def test_auto_asks_the_terminal_only_when_the_environment_does_not_say() -> None:
    xterm = {"TERM": "xterm-256color"}
    assert decide(AUTO, xterm, is_terminal=True, query=lambda: XTERM_SIXEL) == GraphicsChoice(SIXEL, False, "device attributes list Sixel")
    assert decide(AUTO, xterm, is_terminal=True, query=lambda: XTERM_PLAIN).mode is CELLS
    assert decide(AUTO, xterm, is_terminal=True, query=lambda: "").reason == "no device attributes reply"
    assert decide(AUTO, {"TERM": "xterm-kitty"}, is_terminal=True, query=no_query).mode is KITTY
    assert decide(AUTO, {"TERM": "xterm-kitty"}, is_terminal=False, query=no_query) == GraphicsChoice(CELLS, False, "not a terminal")


def test_inside_tmux_kitty_and_iterm2_need_passthrough_and_are_wrapped() -> None:
    environ = {"TERM": "screen-256color", "TMUX": "/tmp/tmux-1/default,1,0", "KITTY_WINDOW_ID": "1"}
    chosen = decide(AUTO, environ, is_terminal=True, query=no_query, passthrough=lambda: True, pane_origin=lambda: (41, 1))
    assert chosen == GraphicsChoice(KITTY, True, "environment", (41, 1))
    refused = decide(AUTO, environ, is_terminal=True, query=no_query, passthrough=lambda: False)
    assert refused.mode is CELLS and "allow-passthrough" in refused.reason
    tmux_only = {"TERM": "tmux-256color", "TMUX": "/tmp/tmux-1/default,1,0"}
    assert decide(AUTO, tmux_only, is_terminal=True, query=lambda: XTERM_SIXEL, passthrough=lambda: False) == GraphicsChoice(
        SIXEL, False, "device attributes list Sixel"
    )


def test_a_forced_mode_is_used_as_asked() -> None:
    assert decide(SIXEL, {"TERM": "dumb"}, is_terminal=False, query=no_query) == GraphicsChoice(SIXEL, False, "sixel asked for")
    assert decide(KITTY, {"TMUX": "x"}, is_terminal=True, query=no_query, pane_origin=lambda: (0, 0)).tmux
    assert decide(CELLS, {"TERM": "xterm-kitty"}, is_terminal=True, query=no_query).mode is CELLS


def test_the_panes_place_in_the_outer_terminal_is_read_from_tmux() -> None:
    asked: list[list[str]] = []

    def run(command: list[str]) -> str:
        asked.append(command)
        return "41 0 on top\n"

    assert tmux_pane_origin({"TMUX_PANE": "%3"}, run) == (41, 1)
    assert asked[0][:5] == ["tmux", "display", "-p", "-t", "%3"]
    assert tmux_pane_origin({}, lambda command: "0 12 on bottom") == (0, 12)
    assert tmux_pane_origin({}, lambda command: "garbage") == (0, 0)


def test_tmux_passthrough_setting_is_read_from_tmux() -> None:
    assert tmux_passthrough(lambda command: "on\n")
    assert tmux_passthrough(lambda command: "all\n")
    assert not tmux_passthrough(lambda command: "off\n")

    def missing(command: list[str]) -> str:
        raise FileNotFoundError(command[0])

    assert not tmux_passthrough(missing)


def test_the_mode_is_read_from_the_flag_or_the_environment() -> None:
    assert build_parser().parse_args(["--graphics", "kitty"]).graphics == "kitty"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--graphics", "vt340"])
    assert decide_for_launch("sixel", {}).mode is SIXEL
    assert decide_for_launch(None, {ENV_VAR: "iTerm2"}).mode is ITERM2
    with pytest.raises(ValueError, match="auto | kitty | iterm2 | sixel | cells"):
        decide_for_launch(None, {ENV_VAR: "vt340"})
    assert parse_mode(None) is AUTO and parse_mode(" Sixel ") is SIXEL


CHILD = "from ahi.tui.graphics_detect import query_device_attributes as q; print(repr(q(timeout={timeout})))"


def run_in_pty(timeout: float, answer: str | None) -> str:
    """Run the DA1 query in a child whose terminal is a pty we play; return what the child printed."""
    steps = [] if answer is None else [(b"\x1b[c", answer.encode())]
    output = run_on_pty([sys.executable, "-c", CHILD.format(timeout=timeout)], steps)
    return output.decode(errors="replace").replace("\x1b[c", "").strip()


def test_the_query_reads_a_real_terminals_reply() -> None:
    assert run_in_pty(30, XTERM_SIXEL) == repr(XTERM_SIXEL)


def test_the_query_gives_up_when_the_terminal_does_not_answer() -> None:
    assert run_in_pty(0.2, None) == "''"


def test_the_query_answers_empty_without_a_terminal() -> None:
    script = "from ahi.tui.graphics_detect import query_device_attributes as q; print(repr(q(timeout=30)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, stdin=subprocess.DEVNULL, start_new_session=True, check=True)
    assert result.stdout.strip() == "''"


def test_info_says_what_frames_are_drawn_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AHI_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv(ENV_VAR, "vt340")
    out = io.StringIO()
    info.main(["--graphics", "kitty"], out)
    assert "frames      kitty (kitty asked for)   (flag --graphics / env AHI_GRAPHICS / this terminal)" in out.getvalue()
    out = io.StringIO()
    info.main([], out)
    assert "frames      half-cells (graphics must be one of auto | kitty | iterm2 | sixel | cells, got 'vt340')" in out.getvalue()
