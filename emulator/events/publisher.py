"""Deliver events to moto's EventBridge from one background thread, in the order they were published.

Delivery is best effort, as the real service's is (docs/events.md#delivery): a failure is logged and
dropped, never raised into the call that changed state. Nothing here loads moto: while moto is not
loaded no rule can exist, so an event is dropped at once, and an account and region without rules
costs one dictionary look-up in the worker. Events due later (a data store that settles as ACTIVE
after its transition time) wait in a heap, so the request that caused them returns at once.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ahi.emulator.events")

SOURCE = "aws.medical-imaging"
#: The detail schema version every HealthImaging event carries.
IMAGING_VERSION = "1.0"


@dataclass(frozen=True)
class Event:
    """One EventBridge event of the service, as PutEvents takes it."""

    account_id: str
    region: str
    detail_type: str
    resources: list[str]
    detail: dict[str, Any]
    #: Seconds since the epoch at which the state changed (the event's `time`).
    at: float = field(default_factory=time.time)

    def message(self) -> dict[str, Any]:
        """The event as EventBridge hands it to a target (moto's SQS target writes `time` as ISO 8601 itself)."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": self.detail_type,
            "source": SOURCE,
            "account": self.account_id,
            "time": self.at,
            "region": self.region,
            "resources": list(self.resources),
            "detail": {"imagingVersion": IMAGING_VERSION, **self.detail},
        }


class Publisher:
    """A daemon thread that delivers published events when they are due, earliest (then first published) first."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int, Event]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._busy = 0

    def publish(self, event: Event, due: float | None = None) -> None:
        """Queue `event` for delivery at `due` (a time.time() value), or now; dropped at once while moto is not loaded."""
        if not moto_loaded():
            return
        with self._wake:
            heapq.heappush(self._heap, (event.at if due is None else due, next(self._order), event))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ahi-events", daemon=True)
                self._thread.start()
            self._wake.notify()

    def idle(self) -> bool:
        """Whether every event due by now has been delivered (tests poll this before reading a queue)."""
        with self._wake:
            return self._busy == 0 and not any(due <= time.time() for due, _, _ in self._heap)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.time():
                    self._wake.wait(None if not self._heap else self._heap[0][0] - time.time())
                _, _, event = heapq.heappop(self._heap)
                self._busy += 1
            try:
                deliver(event)
            except Exception:  # noqa: BLE001 - best effort: an event that cannot be delivered is dropped
                log.warning("EventBridge delivery of %r failed", event.detail_type, exc_info=True)
            finally:
                with self._wake:
                    self._busy -= 1


def moto_loaded() -> bool:
    """Whether moto's EventBridge is in this process (no rule can exist before it is)."""
    return "moto.events.models" in sys.modules


def deliver(event: Event) -> None:
    """Hand the event to every rule of the default bus of its account and region; each rule matches its pattern.

    moto's PutEvents would pass each target its default input template, which drops `account` and
    needs a numeric `time`, so a target without an InputTransformer gets the whole event here, as
    EventBridge sends it.
    """
    from moto.events.models import events_backends

    bus = events_backends[event.account_id][event.region].event_buses.get("default")
    if bus is None or not bus.rules:
        return
    message = event.message()
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED":
            continue
        transform = any("InputTransformer" in target for target in rule.targets)
        copy = {**message, "detail": dict(message["detail"]), "ingestion-time": time.time()} if transform else dict(message)
        rule.send_to_targets(copy, transform_input=transform)


#: The process's publisher: moto's EventBridge is process-wide too.
PUBLISHER = Publisher()


def publish(event: Event, due: float | None = None) -> None:
    """Queue an event on the process's publisher (see Publisher.publish)."""
    PUBLISHER.publish(event, due)
