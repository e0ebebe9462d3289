"""The README's Console section names today's capabilities with the keys and commands the code binds."""

from __future__ import annotations

from pathlib import Path

import pytest

import ahi.screens.fleet  # noqa: F401 - registers its actions
import ahi.screens.image_set_detail  # noqa: F401
import ahi.screens.image_set_search
import ahi.screens.job_detail  # noqa: F401
import ahi.screens.metadata_view  # noqa: F401
import ahi.screens.study_conflicts  # noqa: F401
from ahi.tui.actions import REGISTRY
from ahi.tui.dialogs.help import COMMAND_HELP
from ahi.tui.graphics_detect import GraphicsMode
from ahi.tui.navigation import resolve_alias

README = Path(__file__).resolve().parents[2] / "README.md"

#: README text, then the actions it describes, each with the key the text names.
CLAIMS = [
    ("| `f` | on an image set, a search result or an import job: conflicts", {"image_set_detail.conflicts": "f", "image_sets.conflicts": "f", "job_detail.conflicts": "f"}),
    ("there `P` promotes, `u` fixes the attribute, `D` deletes the duplicate", {"conflicts.promote": "P", "conflicts.fix": "u", "conflicts.delete": "D"}),
    ("| `d` | on an image set's versions: diff two versions", {"image_set_detail.diff": "d", "table.mark": "space"}),
    ("| `E` / `w` | on an image set or in its metadata", {"image_set_detail.export_dicom": "E", "image_set_detail.copy_url": "w", "metadata.export_dicom": "E", "metadata.copy_url": "w"}),
    ("| `:export PATH`, ctrl+e |", {"screen.export": "ctrl+e"}),
    ("| `c` / `C` | copy the selected ID / ARN", {"screen.copy_id": "c", "screen.copy_arn": "C"}),
]


def console_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("\n## Console\n") :]


@pytest.mark.parametrize(("phrase", "bound"), CLAIMS, ids=[c[0][:24] for c in CLAIMS])
def test_each_key_the_readme_names_is_bound_so(phrase: str, bound: dict[str, str]) -> None:
    assert phrase in console_section()
    assert {action_id: REGISTRY[action_id].keys for action_id in bound} == bound


def test_the_readme_names_the_new_commands_tiers_and_graphics_modes() -> None:
    section = console_section()
    for command in (":fleet REGIONS", ":sets *", ":export PATH", ":conflicts"):
        assert f"`{command}`" in section, command
    spec = resolve_alias("fleet")
    assert spec is not None and spec.name == "fleet"
    assert ahi.screens.image_set_search.ALL_STORES == "*"
    assert {"conflicts", "export"} <= {a.command for a in REGISTRY if a.command}
    assert all(word in COMMAND_HELP for word in (":fleet", ":sets *", ":export", ":conflicts"))
    assert "storage tier" in section and "`primary` / `non-primary`" in section
    modes = "|".join(m.value for m in GraphicsMode if m not in (GraphicsMode.AUTO, GraphicsMode.CELLS))
    assert "--graphics kitty" in section and modes.replace("|", " | ") in section and "or cells" in section and "default auto" in section
