"""Input checks driven by botocore's model, run before a request is sent.

The same rules the service applies (lengths, patterns, enums), so a form can name the field and
the rule without a round trip. The service still has the last word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import ServiceModel, Shape


@dataclass(frozen=True)
class FieldProblem:
    """One rule one field breaks."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


@lru_cache(maxsize=4)
def service_model(service: str = "medical-imaging") -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def shape(name: str, service: str = "medical-imaging") -> Shape:
    return service_model(service).shape_for(name)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def string_problems(field: str, value: str, string_shape: Shape) -> list[FieldProblem]:
    """Length, pattern and enum rules of a string shape."""
    meta = string_shape.metadata
    problems: list[FieldProblem] = []
    if "min" in meta and len(value) < meta["min"]:
        problems.append(FieldProblem(field, f"must be at least {meta['min']} characters"))
    if "max" in meta and len(value) > meta["max"]:
        problems.append(FieldProblem(field, f"must be at most {meta['max']} characters"))
    pattern = _compiled(meta["pattern"]) if "pattern" in meta else None
    if value and pattern is not None and not pattern.fullmatch(value):
        problems.append(FieldProblem(field, f"must match {meta['pattern']}"))
    if string_shape.enum and value not in string_shape.enum:
        problems.append(FieldProblem(field, f"must be one of {', '.join(string_shape.enum)}"))
    return problems


def member_problems(operation: str, member: str, value: Any, service: str = "medical-imaging") -> list[FieldProblem]:
    """Rules of one string member of an operation's input."""
    input_shape = service_model(service).operation_model(operation).input_shape
    member_shape = input_shape.members[member]
    if member_shape.type_name != "string":
        raise TypeError(f"{operation}.{member} is not a string member")
    return string_problems(member, str(value), member_shape)
