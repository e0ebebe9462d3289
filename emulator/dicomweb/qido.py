"""QIDO-RS: searching studies, series and instances (docs/dicomweb.md#qido-rs)."""

from __future__ import annotations

from ahi.emulator.dicomweb.route import Route

ROUTES: list[Route] = []
