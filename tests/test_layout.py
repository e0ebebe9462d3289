"""The repository's layout: unique test module names (plain pytest imports them by basename), packages under `ahi`."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def test_test_module_names_are_unique_across_folders() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_every_package_folder_installs_under_ahi() -> None:
    """pyproject's explicit package list names every folder that has an __init__.py (a new one is not forgotten)."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        listed = set(tomllib.load(handle)["tool"]["setuptools"]["packages"])
    folders = {
        "ahi." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("tui", "screens", "services", "emulator")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert listed == folders


def test_code_imports_the_packages_by_their_installed_names() -> None:
    """`ahi.tui`, never bare `tui`: from the checkout both would import, as two copies of every module."""
    bare = re.compile(r"^\s*(from|import)\s+(tui|screens|services|emulator)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for top in ("tui", "screens", "services", "emulator", "tests", "bench")
        for path in (ROOT / top).rglob("*.py")
        if bare.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


_SKIPPED_DIRS = {".git", ".venv", "build", "dist", "node_modules", "__pycache__"}
_TEXT_SUFFIXES = {".py", ".md", ".tcss", ".toml", ".cfg", ".sh"}
#: A citation of one of our own pages: `docs/<page>.md`, optionally `#<section>`.
_DOC_CITATION = re.compile(r"docs/([\w.-]+\.md)(?:#([\w-]+))?")
#: A link between pages inside docs/: `](page.md#section)` or `](#section)`.
_DOC_LINK = re.compile(r"\]\(([\w.-]+\.md)?(?:#([\w-]+))?\)")
#: Reference notes that live outside the repository, cited by bare name or by their folders.
_OUTSIDE_NAMES = re.compile(r"(?<![\w/.-])(?:service|clients|console|wire)\.md")
_OUTSIDE_PATHS = re.compile(r"shared/(?:spec|design)/|boto3[-]model")


def _text_files() -> list[Path]:
    """Every source and documentation file of the checkout (not the venv, not build output)."""
    found: list[Path] = []
    pending = [ROOT]
    while pending:
        folder = pending.pop()
        for path in folder.iterdir():
            if path.is_dir():
                if path.name not in _SKIPPED_DIRS and not path.name.endswith(".egg-info"):
                    pending.append(path)
            elif path.suffix in _TEXT_SUFFIXES or path.name == "Makefile":
                found.append(path)
    return found


def _section_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"#{1,6}\s+(.*)", line)):
            anchors.add(re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-"))
    return anchors


def test_citations_name_docs_pages_and_sections_that_exist() -> None:
    """`docs/<page>.md#<section>` in code, tests and docs names a real page and heading, so a comment's source can be read."""
    docs = ROOT / "docs"
    broken: list[str] = []

    def check(origin: Path, page: str, section: str | None) -> None:
        target = docs / page
        if not target.is_file() or (section and section not in _section_anchors(target)):
            broken.append(f"{origin.relative_to(ROOT)}: docs/{page}{'#' + section if section else ''}")

    for path in _text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _DOC_CITATION.finditer(text):
            check(path, match.group(1), match.group(2))
        if path.parent == docs and path.suffix == ".md":
            for match in _DOC_LINK.finditer(text):
                check(path, match.group(1) or path.name, match.group(2))
    assert broken == []


def test_nothing_cites_reference_notes_kept_outside_the_repository() -> None:
    """What the code relies on is written in docs/; a bare page name outside docs/ points at notes a reader cannot open."""
    docs = ROOT / "docs"
    offenders = []
    for path in _text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        outside = path.parent != docs and _OUTSIDE_NAMES.search(text)
        if outside or _OUTSIDE_PATHS.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
