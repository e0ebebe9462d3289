"""Match a request's method and raw, still-encoded path to an operation of the model.

The raw path matters: an ARN label arrives as `arn%3Aaws%3A...%3Adatastore%2Fabc`, and the decoded
PATH_INFO would split it at the `/`. Each label is unquoted after matching (LocalStack's op_router).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Mapping
from urllib.parse import quote, unquote

from botocore.model import OperationModel, ServiceModel
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from ahi.emulator.errors import UnknownOperationException

_LABEL = re.compile(r"\{([^}]+?)(\+)?\}")


def _rule_path(request_uri_path: str) -> str:
    """`/tags/{resourceArn}` -> `/tags/<resourceArn>`; a greedy `{Key+}` becomes `<path:Key>`."""

    def convert(match: re.Match[str]) -> str:
        name, greedy = match.group(1), match.group(2)
        return f"<path:{name}>" if greedy else f"<{name}>"

    return _LABEL.sub(convert, request_uri_path)


def _required_query(request_uri: str) -> frozenset[str]:
    """Query keys fixed by the request URI itself (e.g. `/x?restore`), used to tell ops on one path apart."""
    _, _, query = request_uri.partition("?")
    return frozenset(part.split("=", 1)[0] for part in query.split("&") if part)


def raw_path(environ: Mapping[str, object]) -> str:
    """The path exactly as the client sent it, without query; absolute-form (proxy) URIs are reduced to the path."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not isinstance(raw, str) or not raw:
        path_info = str(environ.get("PATH_INFO", "/"))
        return quote(path_info.encode("latin-1").decode("utf-8", "replace"), safe="/~!$&'()*+,;=:@")
    if "://" in raw:
        after_scheme = raw.split("://", 1)[1]
        raw = "/" + after_scheme.split("/", 1)[1] if "/" in after_scheme else "/"
    return raw.partition("?")[0]


class OperationRouter:
    """A Werkzeug Map with one rule per (path, method), built from every operation's `http` trait."""

    def __init__(self, model: ServiceModel) -> None:
        self._model = model
        candidates: dict[tuple[str, str], list[tuple[frozenset[str], str]]] = defaultdict(list)
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = http["requestUri"]
            path = _rule_path(uri.partition("?")[0].rstrip("/") or "/")
            candidates[(path, http["method"])].append((_required_query(uri), name))
        self._candidates = {key: sorted(ops, key=lambda o: -len(o[0])) for key, ops in candidates.items()}
        rules = [Rule(path, methods=[method], endpoint=(path, method)) for path, method in self._candidates]
        self._map = Map(rules, strict_slashes=False, merge_slashes=False, redirect_defaults=False)

    def matches(self, method: str, path: str) -> bool:
        """Whether some operation has this method and path (query-string tie-breaks aside)."""
        try:
            self.match(method, path, query_keys=None)
        except UnknownOperationException:
            return False
        return True

    def match(
        self, method: str, path: str, query_keys: frozenset[str] | None = frozenset()
    ) -> tuple[OperationModel, dict[str, str]]:
        """The operation and its unquoted URI labels; an unknown route is UnknownOperationException (404).

        `query_keys` breaks ties between operations sharing a path and method; None skips that check.
        """
        verb = method.upper()
        unknown = UnknownOperationException(f"No operation matches {verb} {path}")
        adapter = self._map.bind("local", url_scheme="http")
        try:
            key, values = adapter.match(path.rstrip("/") or "/", method=verb)
        except (NotFound, MethodNotAllowed):
            raise unknown from None
        if key[1] != verb:  # Werkzeug lets HEAD match a GET rule; the model has no HEAD operations
            raise unknown
        for required, name in self._candidates[key]:
            if query_keys is None or required <= query_keys:
                return self._model.operation_model(name), {label: unquote(v) for label, v in values.items()}
        raise unknown


@functools.cache
def service_router() -> OperationRouter:
    """The one router of the medical-imaging model, shared: building its URL map takes a moment."""
    from ahi.emulator.model import service_model

    return OperationRouter(service_model())
