"""The dispatch table: operation name -> handler function.

A handler takes the request context and the parsed, validated input (member names as in the
botocore model, Python values: str, int, bool, datetime, bytes, dict, list) and returns the output
dict in the same form. It raises `emulator.errors.ServiceError` subclasses for failures.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from ahi.emulator.context import RequestContext

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]

HANDLERS: dict[str, Handler] = {}

#: Modules under emulator.handlers that register operations; imported once by `load_handlers`.
HANDLER_MODULES: tuple[str, ...] = ("datastores", "tags", "jobs", "imagesets_read", "imagesets_write", "search")


def handler(operation: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of a medical-imaging operation."""

    def register(fn: Handler) -> Handler:
        if operation in HANDLERS:
            raise RuntimeError(f"two handlers for {operation}")
        HANDLERS[operation] = fn
        return fn

    return register


def load_handlers() -> dict[str, Handler]:
    """Import every handler module so the table is complete; missing modules are skipped."""
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(f"ahi.emulator.handlers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"ahi.emulator.handlers.{name}":
                raise
    return HANDLERS
