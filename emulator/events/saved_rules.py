"""After a restart, load moto in the background when the saved world holds EventBridge state, so saved rules fire.

Events are dropped while moto is not loaded (docs/events.md#delivery), which is right while no rule can
exist. A state directory whose saved world has EventBridge state may hold a user's rules from an earlier
run, so the endpoint then loads moto at start instead of on the first request that needs it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from ahi.emulator.world.persisted import FOLDER
from ahi.emulator.world.services import SUFFIX

log = logging.getLogger("ahi.emulator.events")

EVENTS_SERVICE = "events"


def saved_events_state(state_dir: Path) -> bool:
    """Whether the state directory's saved world has moto's EventBridge state (rules, buses)."""
    return (Path(state_dir) / FOLDER / "services" / f"{EVENTS_SERVICE}{SUFFIX}").is_file()


def load_moto_for_saved_rules(state_dir: Path, ready: Callable[[], object]) -> threading.Thread | None:
    """Start loading moto (`ready`) in a daemon thread when saved rules may exist; the thread, or None."""
    if not saved_events_state(state_dir):
        return None
    thread = threading.Thread(target=_quietly, args=(ready,), name="ahi-events-saved-rules", daemon=True)
    thread.start()
    return thread


def _quietly(ready: Callable[[], object]) -> None:
    try:
        ready()
    except Exception:  # noqa: BLE001 - the endpoint stopped first, or moto failed to load: the next request says so
        log.debug("loading moto for saved EventBridge rules failed", exc_info=True)
