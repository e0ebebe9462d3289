"""Tag rules checked before sending, and one tag change applied to many resources over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from ahi.services.connection import Connection
from ahi.services.tags import (
    MAX_TAGS_PER_RESOURCE,
    Outcome,
    TagChange,
    TagRulesError,
    TagTarget,
    key_problems,
    tag_problems,
    untag_problems,
)


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("aws:owner", "must not start with 'aws:'"),
        ("AWS:Owner", "must not start with 'aws:'"),
        ("cost center", "must not contain ' '"),
        ("owner@team", "must not contain '@'"),
        ("équipe", "must not contain 'é'"),
        ("", "at least 1"),
        ("k" * 129, "at most 128"),
    ],
)
def test_key_rules_are_named_in_words(key: str, rule: str) -> None:
    problems = key_problems(key)
    assert len(problems) == 1 and rule in problems[0].rule, problems


def test_what_the_model_allows_passes() -> None:
    assert tag_problems({"team": "", "cost-center/2026": "a b c", "x.y_z:+=,;<": "v" * 256}) == []
    assert "allowed: letters, digits and + , - . / : ; < = _" in key_problems("a b")[0].rule
    assert [p.field for p in tag_problems({"k": "v" * 257})] == ["tag value of 'k'"]
    assert [p.field for p in untag_problems([f"k{i}" for i in range(201)])] == ["tagKeys"]


def test_nothing_is_sent_when_a_rule_is_broken(hub: Connection, mi: Any) -> None:
    arn = datastore_arn(mi, "rules")
    before = len(hub.aws.call_log.records())
    with pytest.raises(TagRulesError) as refused:
        hub.tags.tag(arn, {"aws:x": "1"})
    with pytest.raises(TagRulesError):
        hub.tags.tag(arn, {"one-more": "v"}, existing={f"k{i}": "v" for i in range(MAX_TAGS_PER_RESOURCE)})
    with pytest.raises(TagRulesError):
        hub.tags.untag("arn:aws:medical-imaging:us-east-1:123456789012:datastore/NOT-AN-ID", ["k"])
    assert refused.value.code == "ValidationException" and "checked before sending" in refused.value.message
    assert hub.aws.call_log.records()[before:] == []


def datastore_arn(mi: Any, name: str, tags: dict[str, str] | None = None) -> str:
    created = mi.create_datastore(datastoreName=name, clientToken=name, tags=tags or {})
    return str(mi.get_datastore(datastoreId=created["datastoreId"])["datastoreProperties"]["datastoreArn"])


def test_apply_reports_each_resource_truthfully(hub: Connection, mi: Any) -> None:
    plain = TagTarget(datastore_arn(mi, "plain"), "plain")
    tagged = TagTarget(datastore_arn(mi, "tagged", {"team": "old"}), "tagged")
    same = TagTarget(datastore_arn(mi, "same", {"team": "imaging"}), "same")
    full = TagTarget(datastore_arn(mi, "full", {f"k{i}": "v" for i in range(MAX_TAGS_PER_RESOURCE)}), "full")
    gone = TagTarget(plain.arn[:-32] + "f" * 32, "gone")

    outcomes = hub.tags.apply_all([plain, tagged, same, full, gone], TagChange("team", "imaging"))

    summary = [(o.target.label, o.outcome, o.detail, o.code) for o in outcomes]
    assert summary[:3] == [
        ("plain", Outcome.CHANGED, "added team=imaging", None),
        ("tagged", Outcome.CHANGED, "replaced team=old", None),
        ("same", Outcome.UNCHANGED, "already tagged team=imaging", None),
    ]
    assert summary[3][1:2] == (Outcome.FAILED,) and "at most 50 tags" in summary[3][2] and summary[3][3] == "ValidationException"
    assert summary[4][1] is Outcome.FAILED and summary[4][3] == "ResourceNotFoundException"
    assert mi.list_tags_for_resource(resourceArn=tagged.arn)["tags"] == {"team": "imaging"}
    assert len(mi.list_tags_for_resource(resourceArn=full.arn)["tags"]) == MAX_TAGS_PER_RESOURCE

    removed = hub.tags.apply_all([plain, full], TagChange("team"))
    assert [(o.outcome, o.detail) for o in removed] == [(Outcome.CHANGED, "removed team=imaging"), (Outcome.UNCHANGED, "had no tag team")]


def test_a_stop_skips_the_rest(hub: Connection, mi: Any) -> None:
    targets = [TagTarget(datastore_arn(mi, f"s{i}"), f"s{i}") for i in range(3)]
    seen: list[str] = []
    outcomes = hub.tags.apply_all(targets, TagChange("k", "v"), report=lambda o: seen.append(o.target.label), stopped=lambda: len(seen) >= 1)
    assert [o.outcome for o in outcomes] == [Outcome.CHANGED, Outcome.SKIPPED, Outcome.SKIPPED]
    assert seen == ["s0", "s1", "s2"]
    assert mi.list_tags_for_resource(resourceArn=targets[1].arn)["tags"] == {}
