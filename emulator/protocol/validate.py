"""Input validation from the model, worded as AWS words it.

`1 validation error detected: Value 'x' at 'datastoreId' failed to satisfy constraint: Member must satisfy
regular expression pattern: [0-9a-z]{32}`. Sensitive members never echo their value.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.model import Shape, StructureShape

from ahi.emulator.errors import ValidationException

#: Java regex constructs in the model and their Python spelling.
_JAVA_CLASSES = {
    r"\p{ASCII}": r"\x00-\x7F",
    r"\p{Alpha}": r"a-zA-Z",
    r"\p{Digit}": r"0-9",
    r"\p{Alnum}": r"a-zA-Z0-9",
    r"\p{Punct}": r"!-/:-@\[-`{-~",
    r"\p{Print}": r"\x20-\x7E",
    r"\p{Graph}": r"\x21-\x7E",
    r"\p{Space}": r" \t\n\x0B\f\r",
    r"\p{Upper}": r"A-Z",
    r"\p{Lower}": r"a-z",
    r"\p{XDigit}": r"0-9a-fA-F",
    r"\p{Cntrl}": r"\x00-\x1F\x7F",
}
_JAVA_CLASS = re.compile(r"\\p\{(\w+)\}|\\.|\[|\]")
_MAX_ECHO = 256
#: A UTF-16 surrogate on its own: JSON's `\ud800` escape decodes to one, and no UTF-8 text can hold it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A model (Java) pattern as a Python regex; Java's \\w and \\d are ASCII-only, hence re.ASCII."""
    depth = 0

    def translate(match: re.Match[str]) -> str:
        nonlocal depth
        token = match.group(0)
        if token == "[":
            depth += 1
        elif token == "]":
            depth = max(depth - 1, 0)
        elif match.group(1):
            chars = _JAVA_CLASSES.get(token)
            if chars is None:
                raise ValueError(f"unsupported Java class {token} in pattern {pattern!r}")
            return chars if depth else f"[{chars}]"
        return token

    return re.compile(_JAVA_CLASS.sub(translate, pattern), re.ASCII | re.DOTALL)


def validate_input(shape: StructureShape | None, params: Mapping[str, Any]) -> None:
    """Raise one ValidationException listing every violation of the input shape's constraints."""
    if shape is None:
        return
    problems: list[str] = []
    _check_structure(shape, params, "", problems)
    if problems:
        noun = "error" if len(problems) == 1 else "errors"
        raise ValidationException(f"{len(problems)} validation {noun} detected: " + "; ".join(problems))


def _check_structure(shape: StructureShape, value: Mapping[str, Any], prefix: str, problems: list[str]) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(f"Value null at '{prefix}{name}' failed to satisfy constraint: Member must not be null")
    if shape.metadata.get("union"):
        present = [name for name in shape.members if value.get(name) is not None]
        if len(present) != 1:
            where = prefix.rstrip(".") or shape.name
            problems.append(
                f"Value at '{where}' failed to satisfy constraint: Member must have exactly one of "
                f"[{', '.join(shape.members)}] set, found {len(present)}"
            )
    for name, member in shape.members.items():
        member_value = value.get(name)
        if member_value is not None:
            _check(member, member_value, f"{prefix}{name}", problems)


def _check(shape: Shape, value: Any, where: str, problems: list[str]) -> None:
    """Append the violations of one value (its own rules, then its members, items or entries)."""
    own = _rules(shape, value)
    problems.extend(f"{_value_phrase(shape, value)} at '{where}' failed to satisfy constraint: {rule}" for rule in own)
    if own and own[0].startswith("Member must be of type"):
        return
    kind = shape.type_name
    if kind == "structure" and not shape.is_document_type:
        _check_structure(shape, value, f"{where}.", problems)  # type: ignore[arg-type]
    elif kind == "list":
        for index, item in enumerate(value, start=1):
            if item is None:
                problems.append(f"Value null at '{where}.{index}.member' failed to satisfy constraint: Member must not be null")
            else:
                _check(shape.member, item, f"{where}.{index}.member", problems)
    elif kind == "map":
        _check_map(shape, value, where, problems)


def _check_map(shape: Shape, value: Mapping[str, Any], where: str, problems: list[str]) -> None:
    """Coral's map wording: one line for every bad key rule, one for every bad value rule."""
    phrase = _value_phrase(shape, value)
    key_rules = _unique(rule for key in value for rule in _rules(shape.key, key))
    if key_rules:
        problems.append(f"{phrase} at '{where}' failed to satisfy constraint: Map keys must satisfy constraint: [{', '.join(key_rules)}]")
    if shape.value.type_name in ("structure", "list", "map"):
        for key, item in value.items():
            _check(shape.value, item, f"{where}.{key}", problems)
        return
    value_rules = _unique(
        rule for item in value.values() for rule in (_rules(shape.value, item) if item is not None else ["Member must not be null"])
    )
    if value_rules:
        problems.append(f"{phrase} at '{where}' failed to satisfy constraint: Map value must satisfy constraint: [{', '.join(value_rules)}]")


def _rules(shape: Shape, value: Any) -> list[str]:
    """The constraint rules one value breaks by itself: type, length, range, enum, pattern."""
    kind = shape.type_name
    expected = _PYTHON_TYPES.get(kind)
    if expected is not None and (not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))):
        return [f"Member must be of type {kind}"]
    meta = shape.metadata
    broken: list[str] = []
    if kind in ("string", "blob", "list", "map"):
        if "min" in meta and len(value) < meta["min"]:
            broken.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            broken.append(f"Member must have length less than or equal to {meta['max']}")
    if kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            broken.append(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            broken.append(f"Member must have value less than or equal to {meta['max']}")
    if kind == "string":
        if _LONE_SURROGATE.search(value):
            # A choice where the service is silent: refused here, not stored and failed later as UTF-8.
            broken.append("Member must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff)")
        if shape.enum and value not in shape.enum:
            broken.append(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = meta.get("pattern")
        if pattern and not compile_pattern(pattern).fullmatch(value):
            broken.append(f"Member must satisfy regular expression pattern: {pattern}")
    return broken


def _unique(rules: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(rules))


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "boolean": bool,
    "blob": (bytes, bytearray),
    "timestamp": dt.datetime,
    "list": list,
    "map": dict,
    "structure": dict,
}


def _value_phrase(shape: Shape, value: Any) -> str:
    """`Value 'x'` as AWS echoes it (Java-style for lists and maps); a bare `Value` when anything in it is sensitive."""
    if _is_sensitive(shape) or isinstance(value, (bytes, bytearray, dict)) and shape.type_name != "map":
        return "Value"
    text = _java_text(value)
    if text is None:
        return "Value"
    return f"Value '{text[:_MAX_ECHO]}{'...' if len(text) > _MAX_ECHO else ''}'"


def _is_sensitive(shape: Shape) -> bool:
    if shape.metadata.get("sensitive"):
        return True
    if shape.type_name == "list":
        return _is_sensitive(shape.member)
    if shape.type_name == "map":
        return _is_sensitive(shape.key) or _is_sensitive(shape.value)
    return False


def _java_text(value: Any) -> str | None:
    """How a Java service prints a scalar, list or map of scalars; None for structures and blobs."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict) and all(isinstance(v, (str, int, float)) for v in value.values()):
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    return None
