"""The dispatch table names a handler for every operation of the medical-imaging model, and nothing else."""

from __future__ import annotations

from ahi.emulator.handlers import HANDLERS
from ahi.emulator.model import service_model


def test_every_modelled_operation_has_a_handler() -> None:
    assert set(HANDLERS) == set(service_model().operation_names)


def test_each_handler_is_named_after_its_operation() -> None:
    for operation, handler in HANDLERS.items():
        assert handler.__name__.replace("_", "") == operation.lower(), operation
