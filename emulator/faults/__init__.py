"""Fault injection for the local endpoint: `ahi local --faults SPEC` and EndpointConfig.faults."""

from __future__ import annotations

from ahi.emulator.faults.injector import FAULT_HEADER, FaultInjector, InjectedFault
from ahi.emulator.faults.spec import FaultSpec, FaultSpecError, parse_spec

__all__ = ["FAULT_HEADER", "FaultInjector", "FaultSpec", "FaultSpecError", "InjectedFault", "parse_spec"]
