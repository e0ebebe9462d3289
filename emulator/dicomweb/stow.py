"""STOW-RS: storing instances with POST /studies and /studies/{study} (docs/dicomweb.md#stow-rs)."""

from __future__ import annotations

from ahi.emulator.dicomweb.route import Route

ROUTES: list[Route] = []
