"""Group import failures by reason: exception type plus the message with its variable parts replaced."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.job_output import FailureLine

#: Applied in order: quoted values first (they may contain anything), numbers last.
_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`"), "<value>"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE), "<uri>"),
    (re.compile(r"(?<![\w<])(?:[\w.-]*/)+[\w.-]+(?![\w>])"), "<path>"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w.])"), "<uid>"),
    (re.compile(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"\b[0-9a-f]{16,}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"\(\s*[0-9a-f]{4}\s*,\s*[0-9a-f]{4}\s*\)", re.IGNORECASE), "<tag>"),
    (re.compile(r"(?<![\w<])[-+]?\d+(?:\.\d+)?(?![\w>])"), "<n>"),
)
_SPACES = re.compile(r"\s+")


def normalize_message(message: str) -> str:
    """The message with numbers, UIDs, paths, hex ids and quoted values replaced by placeholders."""
    text = message
    for pattern, placeholder in _PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class ReasonKey:
    """What makes two failures "the same reason"."""

    exception_type: str
    pattern: str

    @property
    def label(self) -> str:
        return f"{self.exception_type}: {self.pattern}" if self.pattern else self.exception_type


@dataclass(slots=True)
class FailureGroup:
    """All failures sharing a reason; `members` in file order."""

    key: ReasonKey
    members: list[FailureLine] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def example_message(self) -> str:
        return self.members[0].message if self.members else ""


class FailureGrouper:
    """Accumulates failures into groups as they stream in; `groups()` is ready at any moment."""

    def __init__(self) -> None:
        self._groups: dict[ReasonKey, FailureGroup] = {}
        #: Messages repeat a lot; normalizing each distinct message once keeps 50,000 lines cheap.
        self._pattern_cache: dict[str, str] = {}
        self.total = 0

    def add(self, failure: FailureLine) -> FailureGroup:
        """File one failure under its reason and return the group."""
        pattern = self._pattern_cache.get(failure.message)
        if pattern is None:
            pattern = normalize_message(failure.message)
            if len(self._pattern_cache) < 100_000:
                self._pattern_cache[failure.message] = pattern
        key = ReasonKey(failure.exception_type, pattern)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = FailureGroup(key)
        group.members.append(failure)
        self.total += 1
        return group

    def extend(self, failures: Iterable[FailureLine]) -> None:
        for failure in failures:
            self.add(failure)

    def groups(self) -> list[FailureGroup]:
        """Groups, largest first; ties keep the order in which the reason first appeared."""
        return sorted(self._groups.values(), key=lambda g: -g.count)


def group_failures(failures: Iterable[FailureLine]) -> list[FailureGroup]:
    """Group a whole sequence of failures at once."""
    grouper = FailureGrouper()
    grouper.extend(failures)
    return grouper.groups()
