"""What changed between two versions of an image set's metadata document, level by level.

The document nests Patient, Study, Series (by SeriesInstanceUID) and Instances (by SOPInstanceUID),
each with its DICOM attributes (docs/version-diff.md). The diff walks that structure and compares
one attribute at a time; anything else (a sequence, ImageFrames, a value whose JSON type changed) is
compared as one value. A series or instance present in one version only is one change, not one per
attribute. `apply` turns the first document into the second with the changes, which is what the
tests check the diff against.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Stands for "not present" on the side of an added or removed change.
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()
WILDCARD = "*"
#: Paths whose mapping is walked into (a `*` step stands for any key); everything else is compared whole.
_WALKED = (
    ("Patient",),
    ("Patient", "DICOM"),
    ("Study",),
    ("Study", "DICOM"),
    ("Study", "Series"),
    ("Study", "Series", WILDCARD),
    ("Study", "Series", WILDCARD, "DICOM"),
    ("Study", "Series", WILDCARD, "Instances"),
    ("Study", "Series", WILDCARD, "Instances", WILDCARD),
    ("Study", "Series", WILDCARD, "Instances", WILDCARD, "DICOM"),
)


class Level(str, enum.Enum):
    """Where a change sits; the order here is the order they are listed in."""

    IMAGE_SET = "Image set"
    PATIENT = "Patient"
    STUDY = "Study"
    SERIES = "Series"
    INSTANCE = "Instance"


class Kind(str, enum.Enum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True)
class Change:
    """One difference: at `path` in the document, `old` (ABSENT when added) became `new` (ABSENT when removed)."""

    path: tuple[str, ...]
    old: Any
    new: Any

    @property
    def kind(self) -> Kind:
        if self.old is ABSENT:
            return Kind.ADDED
        return Kind.REMOVED if self.new is ABSENT else Kind.CHANGED

    @property
    def level(self) -> Level:
        return level_of(self.path)

    @property
    def series_uid(self) -> str | None:
        return self.path[2] if len(self.path) > 2 and self.path[:2] == ("Study", "Series") else None

    @property
    def sop_uid(self) -> str | None:
        return self.path[4] if len(self.path) > 4 and self.path[3] == "Instances" and self.series_uid else None

    @property
    def name(self) -> str:
        """The attribute's keyword, or for a whole series or instance its UID."""
        return self.path[-1] if self.path else ""

    @property
    def whole(self) -> bool:
        """True when the change is a whole series or instance that one version lacks."""
        return len(self.path) in (3, 5) and self.series_uid is not None and (len(self.path) == 3 or self.sop_uid is not None)


def level_of(path: tuple[str, ...]) -> Level:
    """The level a path belongs to (a series' instances group belongs to the series)."""
    if not path or path[0] not in ("Patient", "Study"):
        return Level.IMAGE_SET
    if path[0] == "Patient":
        return Level.PATIENT
    if len(path) < 3 or path[1] != "Series":
        return Level.STUDY
    return Level.INSTANCE if len(path) >= 5 and path[3] == "Instances" else Level.SERIES


def _walked(path: tuple[str, ...]) -> bool:
    return any(all(r in (WILDCARD, p) for r, p in zip(rule, path)) for rule in _WALKED_BY_LENGTH.get(len(path), ()))


_WALKED_BY_LENGTH: dict[int, list[tuple[str, ...]]] = {}
for _rule in _WALKED:
    _WALKED_BY_LENGTH.setdefault(len(_rule), []).append(_rule)


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from `old` to `new`, grouped by level, then in path order."""
    changes: list[Change] = []
    _diff_mapping(old, new, (), changes)
    return sorted(changes, key=lambda c: (list(Level).index(c.level), c.series_uid or "", c.sop_uid or "", c.path))


def _diff_mapping(old: Mapping[str, Any], new: Mapping[str, Any], path: tuple[str, ...], out: list[Change]) -> None:
    # Documents come from json.loads: objects are dicts, and exact type checks keep a 40 MB document's walk fast.
    for key, before in old.items():
        if key not in new:
            out.append(Change(path + (key,), before, ABSENT))
            continue
        after = new[key]
        if type(before) is dict and type(after) is dict and _walked(path + (key,)):
            _diff_mapping(before, after, path + (key,), out)
        elif not _same(before, after):
            out.append(Change(path + (key,), before, after))
    for key, after in new.items():
        if key not in old:
            out.append(Change(path + (key,), ABSENT, after))


def _same(a: Any, b: Any) -> bool:
    """JSON equality: `1` and `true` differ (Python's `==` says they are equal), as do `1` and `1.0`."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def apply(document: Mapping[str, Any], changes: Iterable[Change]) -> dict[str, Any]:
    """A copy of `document` with the changes made (what `diff(document, other)` gives turns it into `other`)."""
    result: dict[str, Any] = copy.deepcopy(dict(document))
    for change in changes:
        parent = result
        for step in change.path[:-1]:
            parent = parent[step]
        if change.new is ABSENT:
            del parent[change.path[-1]]
        else:
            parent[change.path[-1]] = copy.deepcopy(change.new)
    return result


@dataclass(frozen=True)
class Group:
    """The changes of one level (and, below the study, of one series or instance), in list order."""

    level: Level
    series_uid: str | None
    sop_uid: str | None
    changes: tuple[Change, ...]


def grouped(changes: Iterable[Change]) -> list[Group]:
    """Consecutive changes of the same level and series/instance (`diff` already orders them so)."""
    groups: list[Group] = []
    current: list[Change] = []
    for change in changes:
        if current and _group_key(current[0]) != _group_key(change):
            groups.append(_group(current))
            current = []
        current.append(change)
    if current:
        groups.append(_group(current))
    return groups


def _group_key(change: Change) -> tuple[Level, str | None, str | None]:
    return change.level, change.series_uid, change.sop_uid


def _group(changes: list[Change]) -> Group:
    level, series_uid, sop_uid = _group_key(changes[0])
    return Group(level, series_uid, sop_uid, tuple(changes))


def counts(changes: Iterable[Change]) -> dict[Kind, int]:
    """How many changes of each kind (every kind present, zero or not)."""
    found = {kind: 0 for kind in Kind}
    for change in changes:
        found[change.kind] += 1
    return found
