"""Tags on data stores and image sets: list, add, remove, and the service's rules checked locally."""

from __future__ import annotations

from typing import Any, Mapping

from services.backoff import Backoff
from services.validation import FieldProblem, shape, string_problems

#: The service's limit of tags per resource (developer guide, "Tagging resources").
MAX_TAGS_PER_RESOURCE = 50


def tag_problems(tags: Mapping[str, str], existing: Mapping[str, str] | None = None) -> list[FieldProblem]:
    """Every rule a set of tags to add breaks: key and value rules, and the per-resource limit."""
    problems: list[FieldProblem] = []
    key_shape, value_shape = shape("TagKey"), shape("TagValue")
    for key, value in tags.items():
        problems += string_problems(f"tag key {key!r}", key, key_shape)
        problems += string_problems(f"tag value of {key!r}", value, value_shape)
    total = len(set(existing or {}) | set(tags))
    if total > MAX_TAGS_PER_RESOURCE:
        problems.append(FieldProblem("tags", f"at most {MAX_TAGS_PER_RESOURCE} tags per resource ({total} requested)"))
    return problems


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


class TagService:
    """ListTagsForResource, TagResource and UntagResource on one medical-imaging client."""

    def __init__(self, client: Any, backoff: Backoff | None = None) -> None:
        self.client = client
        self.backoff = backoff or Backoff()

    def list(self, resource_arn: str) -> dict[str, str]:
        response = self.backoff.call(
            "ListTagsForResource", lambda: self.client.list_tags_for_resource(resourceArn=resource_arn)
        )
        return dict(response.get("tags", {}))

    def tag(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        self.backoff.call("TagResource", lambda: self.client.tag_resource(resourceArn=resource_arn, tags=dict(tags)))

    def untag(self, resource_arn: str, keys: list[str]) -> None:
        self.backoff.call(
            "UntagResource", lambda: self.client.untag_resource(resourceArn=resource_arn, tagKeys=list(keys))
        )
