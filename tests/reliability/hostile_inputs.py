"""Hypothesis strategies for medical-imaging requests: valid shapes from botocore's model, hostile values.

Every leaf draws either from a pool of real values (ids, ARNs, tokens, patches taken from a live
endpoint) or from hostile ones: unicode, huge strings, path injection, IDs of the wrong kind. The
request is then serialized by botocore itself and may get one wire mutation that boto3 would never
send: a wrong JSON type, broken base64, a body that is not JSON or is a gzip bomb, a junk query value,
a raw `../` or `%2F` in the path.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape, StructureShape
from hypothesis import strategies as st

#: Strings that break paths, parsers, logs and terminals.
HOSTILE_STRINGS = (
    "", " ", "..", "../", "../../etc/passwd", "..%2F..%2F", "%2F", "/", "\\", "\x00", "a\x00b", "%00", "%ZZ",
    "\r\nX-Injected: 1", "\u202egnp.exe", "\U0001f4a5" * 3, "é" * 40, "ǅ", "\ufeff", "' OR 1=1 --", "${jndi:ldap://x/a}",
    "<script>alert(1)</script>", "A" * 32, "0" * 33, "-1", "NaN", "null", "[]", "{}", "true",
)
#: Values that replace one JSON leaf on the wire (types the model does not allow there, base64 that is not).
WRONG_JSON_VALUES = (123, -1.5, 10**30, "text", "!!!not base64!!!", "QUJD=", [], [1, "a"], {}, {"x": 1}, None, True)
#: Values that replace one query parameter on the wire.
JUNK_QUERY_VALUES = ("", "abc", "-1", "1e3", "0x10", "true", "%00", "%ZZ", "9" * 40, "1&maxResults=2")
#: Raw path segments that replace one label on the wire, still percent-encoded as sent.
RAW_PATH_SEGMENTS = ("..", "..%2F..%2Fetc", "%2e%2e", "%2E%2E%2F", "a%2Fb", "%00", "%ZZ", "%C0%AF", "~", "%20")
#: A 30 MB run of zeros in under 30 KB: what a decompressing server would choke on.
GZIP_BOMB = gzip.compress(b"\0" * 30_000_000, compresslevel=9)
DEEP_JSON = "[" * 14_000 + "]" * 14_000
BROKEN_BODIES = (b"{", b"[]", b"null", b"\"text\"", b"\xff\xfe\x00", GZIP_BOMB, DEEP_JSON.encode(), b"{\"a\":" * 5000)


@dataclass(frozen=True)
class Mutation:
    """One change to the serialized request; `kind` is none, leaf, body, query or path."""

    kind: str
    index: int = 0
    value: Any = None


def huge_string(location: str | None) -> st.SearchStrategy[str]:
    """Long strings, kept under http.server's 64 KB request line when they travel in the URL."""
    if location in ("uri", "querystring", "header"):
        return st.sampled_from(["x" * 4000, "é" * 1500, "%" * 3000, "../" * 1000])
    return st.sampled_from(["x" * 300_000, "é" * 40_000, "\U0001f4a5" * 10_000, "\\u0000" * 20_000])


def hostile_string(location: str | None) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=24), huge_string(location))


def shape_strategy(
    shape: Shape, pool: Mapping[str, list[Any]], plausible: bool, location: str | None = None
) -> st.SearchStrategy[Any]:
    """Values of a shape's type: real ones from the pool when `plausible` and the pool has some, else hostile."""
    real = pool.get(shape.name, [])
    kind = shape.type_name
    if kind == "structure":
        return structure_strategy(shape, pool, plausible)  # type: ignore[arg-type]
    if kind == "list":
        member = shape_strategy(shape.member, pool, plausible, location)  # type: ignore[attr-defined]
        if plausible:
            return st.lists(member, min_size=1, max_size=3)
        return st.one_of(st.lists(member, max_size=3), _many(shape.member, pool, 201).map(list))  # type: ignore[attr-defined]
    if kind == "map":
        keys = shape_strategy(shape.key, pool, plausible)  # type: ignore[attr-defined]
        values = shape_strategy(shape.value, pool, plausible)  # type: ignore[attr-defined]
        if plausible:
            return st.dictionaries(keys, values, min_size=1, max_size=3)
        many = _many(shape.key, pool, 51).map(lambda found: {key: "v" for key in found})  # type: ignore[attr-defined]
        return st.one_of(st.dictionaries(keys, values, max_size=3), many)
    if kind == "string":
        hostile = hostile_string(location)
        if getattr(shape, "enum", None):
            hostile = st.one_of(st.sampled_from(list(shape.enum)), hostile)  # type: ignore[attr-defined]
    elif kind in ("integer", "long"):
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 100)
        hostile = st.one_of(st.integers(low, high), st.integers(), st.sampled_from([0, -1, 2**31, 2**63, 2**64]))
    elif kind == "boolean":
        hostile = st.booleans()
    elif kind == "timestamp":
        hostile = st.datetimes(timezones=st.just(dt.timezone.utc))
    elif kind == "blob":
        hostile = st.one_of(st.binary(max_size=64), st.sampled_from([GZIP_BOMB, DEEP_JSON.encode(), b"\xff" * 30_001]))
    else:
        hostile = st.nothing()
    return st.sampled_from(real) if real and plausible else hostile


def _many(shape: Shape, pool: Mapping[str, list[Any]], count: int) -> st.SearchStrategy[set[Any]]:
    """`count` distinct short values of a scalar shape: past a collection's limit without a huge request."""
    if shape.type_name != "string":
        return st.just(set())
    base = st.sampled_from(pool.get(shape.name) or ["item"])
    return base.map(lambda first: {f"{first}{index}"[:128] for index in range(count)})


def structure_strategy(
    shape: StructureShape, pool: Mapping[str, list[Any]], plausible: bool
) -> st.SearchStrategy[dict[str, Any]]:
    """Required members always, optional ones sometimes; a union gets one member (hostile: or two, or none)."""
    members = {
        name: shape_strategy(member, pool, plausible, member.serialization.get("location"))
        for name, member in shape.members.items()
    }
    if shape.metadata.get("union"):
        one = st.one_of(*[st.fixed_dictionaries({name: value}) for name, value in members.items()])
        return one if plausible else st.one_of(one, st.fixed_dictionaries({}, optional=members))
    required = {name: members[name] for name in shape.required_members}
    optional = {name: value for name, value in members.items() if name not in required}
    return st.fixed_dictionaries(required, optional=optional)


def request_strategy(shape: StructureShape, pool: Mapping[str, list[Any]]) -> st.SearchStrategy[tuple[dict[str, Any], Mutation]]:
    """Half plausible requests (real ids, hostile values only where no real one is known) sent as serialized,
    half hostile requests, each with a wire mutation or none."""
    plausible = st.tuples(structure_strategy(shape, pool, plausible=True), st.just(Mutation("none")))
    hostile = st.tuples(structure_strategy(shape, pool, plausible=False), mutation_strategy())
    return st.one_of(plausible, hostile)


def mutation_strategy() -> st.SearchStrategy[Mutation]:
    index = st.integers(0, 1000)
    return st.one_of(
        st.just(Mutation("none")),
        st.builds(Mutation, st.just("leaf"), index, st.sampled_from(WRONG_JSON_VALUES)),
        st.builds(Mutation, st.just("body"), index, st.sampled_from(BROKEN_BODIES)),
        st.builds(Mutation, st.just("query"), index, st.sampled_from(JUNK_QUERY_VALUES)),
        st.builds(Mutation, st.just("path"), index, st.sampled_from(RAW_PATH_SEGMENTS)),
    )


def mutate_body(body: bytes, mutation: Mutation) -> tuple[bytes, dict[str, str]]:
    """The body (and extra headers) after a leaf or body mutation; other kinds leave it alone."""
    if mutation.kind == "body":
        extra = {"Content-Encoding": "gzip"} if mutation.value is GZIP_BOMB else {}
        return mutation.value, extra
    if mutation.kind != "leaf" or not body:
        return body, {}
    document = json.loads(body)
    paths = list(_leaf_paths(document, ()))
    if not paths:
        return body, {}
    *parents, last = paths[mutation.index % len(paths)]
    target = document
    for step in parents:
        target = target[step]
    target[last] = mutation.value
    return json.dumps(document).encode(), {}


def mutate_url(url: str, mutation: Mutation) -> str:
    """The URL after a query or path mutation (raw text, sent as is)."""
    base, _, query = url.partition("?")
    if mutation.kind == "query" and query:
        pairs = query.split("&")
        position = mutation.index % len(pairs)
        key = pairs[position].split("=", 1)[0]
        pairs[position] = f"{key}={mutation.value}"
        return f"{base}?{'&'.join(pairs)}"
    if mutation.kind == "path":
        scheme_host, _, path = base.partition("//")[2].partition("/")
        segments = path.split("/")
        if len(segments) > 1:
            segments[1 + mutation.index % (len(segments) - 1)] = mutation.value
            base = f"{base.split('//')[0]}//{scheme_host}/{'/'.join(segments)}"
        return base + (f"?{query}" if query else "")
    return url


def _leaf_paths(node: Any, prefix: tuple[Any, ...]) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaf_paths(value, (*prefix, key))
    elif isinstance(node, list) and node:
        for position, value in enumerate(node):
            yield from _leaf_paths(value, (*prefix, position))
    elif prefix:
        yield prefix
