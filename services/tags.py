"""Tags on data stores and image sets: list, add, remove, bulk changes, and the service's rules checked locally.

The rules come from botocore's model (TagKey 1-128 characters of its pattern, TagValue 0-256, at
most 200 keys per UntagResource) plus what the model cannot say: at most 50 tags per resource
(the guide's image set limit, which the local endpoint applies to data stores too) and the `aws:`
prefix reserved in any letter case (AWS's general tagging rule; the model only excludes lowercase).
"""

from __future__ import annotations

import enum
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from ahi.services.backoff import Backoff
from ahi.services.errors import AwsCallError
from ahi.services.validation import FieldProblem, member_problems, shape, string_problems

#: The service's limit of tags per resource (developer guide, "Tagging resources").
MAX_TAGS_PER_RESOURCE = 50
RESERVED_PREFIX = "aws:"


@lru_cache(maxsize=1)
def _key_pattern() -> re.Pattern[str]:
    return re.compile(shape("TagKey").metadata["pattern"])


def allowed_key_punctuation() -> str:
    """The punctuation the model's TagKey pattern allows (its `+-=` is a range: digits, `,;<` too)."""
    return "".join(c for c in string.punctuation + " " if _key_pattern().fullmatch("x" + c))


def key_problems(key: str) -> list[FieldProblem]:
    """Every rule one tag key breaks, each named in words rather than as the model's regex."""
    field = f"tag key {key!r}"
    if key[: len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX:
        return [FieldProblem(field, f"must not start with {RESERVED_PREFIX!r} (reserved for AWS, in any letter case)")]
    problems = [p for p in string_problems(field, key, shape("TagKey")) if not p.rule.startswith("must match")]
    bad = sorted({c for c in key if not _key_pattern().fullmatch("x" + c)})
    if bad:
        allowed = " ".join(allowed_key_punctuation())
        problems.append(FieldProblem(field, f"must not contain {' '.join(repr(c) for c in bad)} (allowed: letters, digits and {allowed})"))
    return problems


def value_problems(key: str, value: str) -> list[FieldProblem]:
    return string_problems(f"tag value of {key!r}", value, shape("TagValue"))


def tag_problems(tags: Mapping[str, str], existing: Mapping[str, str] | None = None) -> list[FieldProblem]:
    """Every rule a set of tags to add breaks: key and value rules, and the per-resource limit."""
    problems: list[FieldProblem] = []
    for key, value in tags.items():
        problems += key_problems(key)
        problems += value_problems(key, value)
    total = len(set(existing or {}) | set(tags))
    if total > MAX_TAGS_PER_RESOURCE:
        problems.append(FieldProblem("tags", f"at most {MAX_TAGS_PER_RESOURCE} tags per resource ({total} requested)"))
    return problems


def untag_problems(keys: Iterable[str]) -> list[FieldProblem]:
    """Rules of an UntagResource key list: each key's rules, and at most the model's 200 keys."""
    keys = list(keys)
    problems = [problem for key in keys for problem in key_problems(key)]
    limit = shape("TagKeyList").metadata.get("max", 200)
    if len(keys) > limit:
        problems.append(FieldProblem("tagKeys", f"at most {limit} keys per request ({len(keys)} given)"))
    return problems


def arn_problems(resource_arn: str) -> list[FieldProblem]:
    """The model's rule for a taggable ARN: a data store or an image set of one."""
    return member_problems("TagResource", "resourceArn", resource_arn)


class TagRulesError(AwsCallError):
    """A tag request refused before sending because it breaks the service's rules."""

    def __init__(self, operation: str, problems: list[FieldProblem]) -> None:
        super().__init__(operation, "ValidationException", "; ".join(map(str, problems)) + " (checked before sending)")
        self.problems = problems


def parse_tags(text: str) -> dict[str, str]:
    """`k=v, k2=v2` (or one per line) into a dict; a bare key gets an empty value."""
    tags: dict[str, str] = {}
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition("=")
        tags[key.strip()] = value.strip()
    return tags


@dataclass(frozen=True)
class TagTarget:
    """A taggable resource as the console names it: its ARN and a label for people."""

    arn: str
    label: str

    @property
    def kind(self) -> str:
        return "image set" if "/imageset/" in self.arn else "data store"


@dataclass(frozen=True)
class TagChange:
    """One change to apply to many resources: add `key=value`, or remove `key` (value None)."""

    key: str
    value: str | None = None

    @property
    def removes(self) -> bool:
        return self.value is None

    def problems(self) -> list[FieldProblem]:
        if self.value is None:
            return untag_problems([self.key])
        return tag_problems({self.key: self.value})

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"


class Outcome(enum.Enum):
    """What a change did to one resource."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TagOutcome:
    """One resource's result in a bulk change; `code` is the AWS error code when it failed."""

    target: TagTarget
    outcome: Outcome
    detail: str
    code: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.CHANGED, Outcome.UNCHANGED)


class TagService:
    """ListTagsForResource, TagResource and UntagResource on one medical-imaging client."""

    def __init__(self, client: Any, backoff: Backoff | None = None) -> None:
        self.client = client
        self.backoff = backoff or Backoff()

    def list(self, resource_arn: str) -> dict[str, str]:
        return dict(self.list_response(resource_arn).get("tags", {}))

    def list_response(self, resource_arn: str) -> dict[str, Any]:
        """The whole ListTagsForResource answer (the console's raw JSON view shows it)."""
        response = self.backoff.call(
            "ListTagsForResource", lambda: self.client.list_tags_for_resource(resourceArn=resource_arn)
        )
        return {key: value for key, value in response.items() if key != "ResponseMetadata"}

    def tag(self, resource_arn: str, tags: Mapping[str, str], existing: Mapping[str, str] | None = None) -> None:
        """TagResource; refused locally (TagRulesError) when it breaks a rule, `existing` adds the 50 limit."""
        problems = arn_problems(resource_arn) + tag_problems(tags, existing)
        if problems:
            raise TagRulesError("TagResource", problems)
        self.backoff.call("TagResource", lambda: self.client.tag_resource(resourceArn=resource_arn, tags=dict(tags)))

    def untag(self, resource_arn: str, keys: list[str]) -> None:
        problems = arn_problems(resource_arn) + untag_problems(keys)
        if problems:
            raise TagRulesError("UntagResource", problems)
        self.backoff.call(
            "UntagResource", lambda: self.client.untag_resource(resourceArn=resource_arn, tagKeys=list(keys))
        )

    def apply(self, target: TagTarget, change: TagChange) -> TagOutcome:
        """Apply one change to one resource, reading its tags first (for the 50 limit and a true report)."""
        try:
            current = self.list(target.arn)
            if change.value is None:
                if change.key not in current:
                    return TagOutcome(target, Outcome.UNCHANGED, f"had no tag {change.key}")
                self.untag(target.arn, [change.key])
                return TagOutcome(target, Outcome.CHANGED, f"removed {change.key}={current[change.key]}")
            if current.get(change.key) == change.value:
                return TagOutcome(target, Outcome.UNCHANGED, f"already tagged {change}")
            self.tag(target.arn, {change.key: change.value}, existing=current)
            if change.key in current:
                return TagOutcome(target, Outcome.CHANGED, f"replaced {change.key}={current[change.key]}")
            return TagOutcome(target, Outcome.CHANGED, f"added {change}")
        except AwsCallError as error:
            return TagOutcome(target, Outcome.FAILED, f"{error.operation}: {error.message}", error.code)

    def apply_all(
        self,
        targets: Iterable[TagTarget],
        change: TagChange,
        report: Callable[[TagOutcome], None] | None = None,
        stopped: Callable[[], bool] | None = None,
    ) -> list[TagOutcome]:
        """Apply a change to each resource in turn; after `stopped()` turns true the rest are SKIPPED."""
        outcomes: list[TagOutcome] = []
        for target in targets:
            if stopped is not None and stopped():
                outcome = TagOutcome(target, Outcome.SKIPPED, "stopped before it was reached")
            else:
                outcome = self.apply(target, change)
            outcomes.append(outcome)
            if report is not None:
                report(outcome)
        return outcomes
