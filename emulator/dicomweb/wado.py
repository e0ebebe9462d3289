"""WADO-RS: instances, metadata, frames and bulk data (docs/dicomweb.md#wado-rs)."""

from __future__ import annotations

from ahi.emulator.dicomweb.route import Route

ROUTES: list[Route] = []
