"""Group import failures by reason: exception type plus the message with its variable parts replaced."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ahi.services.job_output import FailureLine
from ahi.services.retry_reasons import RetryVerdict, retry_verdict

#: Quoted values may hold spaces, so they are replaced before the message is cut into words.
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
#: For words mixing text and variable parts: at each position the first alternative that matches wins.
_VARIABLE = re.compile(
    r"""(?P<uri>\b[a-z][a-z0-9+.-]*://\S+)
    |(?P<path>(?<![\w<])(?:[\w.-]*/)+[\w.-]+(?![\w>]))
    |(?P<uid>(?<![\w.])\d+(?:\.\d+){2,}(?![\w.]))
    |(?P<id>\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b|\b[0-9a-f]{16,}\b)
    |(?P<hex>\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b)
    |(?P<tag>\(\s*[0-9a-f]{4}\s*,\s*[0-9a-f]{4}\s*\))
    |(?P<n>(?<![\w<])[-+]?\d+(?:\.\d+)?(?![\w>]))""",
    re.IGNORECASE | re.VERBOSE,
)


def _placeholder(match: re.Match[str]) -> str:
    return f"<{match.lastgroup}>"


#: A whole word (punctuation around it stripped) that is one variable part: one anchored match, no scanning.
_WHOLE_WORD = re.compile(
    r"""(?P<uri>[a-z][a-z0-9+.-]*://\S+)
    |(?P<path>(?=[\w./-]*\w)(?:[\w.-]*/)+[\w.-]*)
    |(?P<uid>\d+(?:\.\d+){2,})
    |(?P<id>[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{16,})
    |(?P<hex>0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,})
    |(?P<n>[-+]?\d+(?:\.\d+)?)""",
    re.IGNORECASE | re.VERBOSE,
)
_EDGE_PUNCTUATION = "()[]{},;:!?"


#: Deletes digits and slashes: a word that stays the same has no variable part (no regex needed to know).
_NOT_VARIABLE = str.maketrans("", "", "0123456789/")


def _normalize_word(word: str) -> str:
    """A word with its variable part replaced; most take one anchored match, odd mixtures a scan."""
    core = word.strip(_EDGE_PUNCTUATION)
    if core.isdigit() and len(core) < 16:
        return word.replace(core, "<n>", 1)
    if not core or core.isalpha() or core.translate(_NOT_VARIABLE) == core:
        return word
    whole = _WHOLE_WORD.fullmatch(core)
    if whole is None:
        return _VARIABLE.sub(_placeholder, word)
    start = word.index(core)
    return f"{word[:start]}<{whole.lastgroup}>{word[start + len(core):]}"


def normalize_message(message: str) -> str:
    """The message with numbers, UIDs, paths, hex ids and quoted values replaced by placeholders.

    Word by word with plain words skipped inline: the fastest of the variants measured on 50,000 distinct
    messages (a single alternation over the whole message took twice as long).
    """
    if "'" in message or '"' in message or "`" in message:
        message = _QUOTED.sub("<value>", message)
    return " ".join([word if word.isalpha() else _normalize_word(word) for word in message.split()])


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

    @property
    def retry(self) -> RetryVerdict:
        """Whether re-importing this reason's files can pass (its files share type and message pattern)."""
        return retry_verdict(self.key.exception_type, self.example_message)


class FailureGrouper:
    """Accumulates failures into groups as they stream in; `groups()` is ready at any moment."""

    def __init__(self) -> None:
        #: Keyed by a plain tuple: hashing a dataclass key per line would cost more than the grouping itself.
        self._groups: dict[tuple[str, str], FailureGroup] = {}
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
        group = self._groups.get((failure.exception_type, pattern))
        if group is None:
            group = self._groups[(failure.exception_type, pattern)] = FailureGroup(ReasonKey(failure.exception_type, pattern))
        group.members.append(failure)
        self.total += 1
        return group

    def extend(self, failures: Iterable[FailureLine]) -> None:
        for failure in failures:
            self.add(failure)

    def largest(self, count: int) -> list[FailureGroup]:
        """The `count` largest groups (cheaper than sorting them all when there are many)."""
        return heapq.nlargest(count, self._groups.values(), key=lambda g: g.count)

    def groups(self) -> list[FailureGroup]:
        """Groups, largest first; ties keep the order in which the reason first appeared."""
        return sorted(self._groups.values(), key=lambda g: -g.count)


def group_failures(failures: Iterable[FailureLine]) -> list[FailureGroup]:
    """Group a whole sequence of failures at once."""
    grouper = FailureGrouper()
    grouper.extend(failures)
    return grouper.groups()
