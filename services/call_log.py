"""A record of every AWS call the console makes, with its AWS CLI equivalent.

Hooked into botocore's event system, so every operation of every client of a session is
recorded without per-call code. Only identifiers, enums and numbers reach the command line:
names, tag values and metadata are shown as placeholders.
"""

from __future__ import annotations

import logging
import shlex
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from botocore import xform_name
from botocore.model import OperationModel, Shape

from ahi.services.errors import error_code

#: String shapes whose values are identifiers (safe to show) even though they carry no enum.
IDENTIFIER_SHAPE_SUFFIXES = ("Id", "Arn", "ARN", "IdType", "ArnType")
PLACEHOLDER = "<omitted>"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallRecord:
    """One AWS call as it happened."""

    started_at: datetime
    duration_s: float
    service: str
    operation: str
    #: "OK", or the AWS error code (or exception class name) of the failure.
    outcome: str
    retries: int
    cli_command: str

    @property
    def ok(self) -> bool:
        return self.outcome == "OK"


@dataclass(frozen=True)
class CliContext:
    """The connection flags every command line carries when they differ from the defaults."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None

    def flags(self) -> list[str]:
        out: list[str] = []
        if self.endpoint_url:
            out += ["--endpoint-url", self.endpoint_url]
        if self.profile:
            out += ["--profile", self.profile]
        if self.region:
            out += ["--region", self.region]
        return out


def _is_identifier(shape: Shape) -> bool:
    if shape.type_name in ("integer", "long", "boolean"):
        return True
    if shape.type_name != "string" or shape.metadata.get("sensitive"):
        return False
    return bool(shape.enum) or shape.name.endswith(IDENTIFIER_SHAPE_SUFFIXES)


def cli_arguments(model: OperationModel, params: dict[str, Any], paginated: dict[str, str] | None) -> list[str]:
    """The `--member value` arguments of an operation, identifiers only, placeholders for the rest."""
    input_shape = model.input_shape
    if input_shape is None:
        return []
    members = input_shape.members
    args: list[str] = []
    input_token = (paginated or {}).get("input_token")
    limit_key = (paginated or {}).get("limit_key")
    for name, value in params.items():
        if name not in members or name == input_token or name == "clientToken":
            continue
        shape = members[name]
        flag = "--page-size" if name == limit_key else "--" + xform_name(name, "-")
        if shape.type_name == "boolean":
            args.append(flag if value else "--no-" + flag[2:])
        elif _is_identifier(shape):
            args += [flag, str(value)]
        elif shape.type_name == "list" and _is_identifier(shape.member) and shape.member.type_name == "string":
            args += [flag, *[str(item) for item in value]]
        else:
            args += [flag, PLACEHOLDER]
    return args


def cli_command(
    service: str,
    model: OperationModel,
    params: dict[str, Any],
    cli: CliContext,
    paginated: dict[str, str] | None = None,
) -> str:
    """The `aws <service> <operation> ...` line equivalent to one call."""
    words = ["aws", service, xform_name(model.name, "-"), *cli_arguments(model, params, paginated), *cli.flags()]
    return " ".join(shlex.quote(word) for word in words)


Listener = Callable[[CallRecord], None]


class CallLog:
    """Thread-safe ring buffer of call records, with listeners told of each new record."""

    def __init__(self, capacity: int = 2000, clock: Callable[[], datetime] | None = None) -> None:
        self._records: deque[CallRecord] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(record)

    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` for every new record (from the calling thread); returns an unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def now(self) -> datetime:
        return self._clock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


class CallRecorder:
    """botocore event handlers that turn each API call into a CallRecord in a CallLog."""

    CONTEXT_KEY = "ahi_call"

    def __init__(
        self,
        log: CallLog,
        cli_for: Callable[[str], CliContext],
        paginators: Callable[[str, str], dict[str, str] | None],
    ) -> None:
        self.log = log
        self._cli_for = cli_for
        self._paginators = paginators

    def register(self, events: Any) -> None:
        """Attach to a botocore/boto3 event emitter (a Session's or a client's)."""
        events.register("provide-client-params.*.*", self._started)
        events.register("after-call.*.*", self._finished)
        events.register("after-call-error.*.*", self._failed)

    def _started(self, params: dict[str, Any], model: OperationModel, context: dict[str, Any], **_: Any) -> None:
        context[self.CONTEXT_KEY] = (self.log.now(), time.monotonic(), dict(params), model)

    def _finished(self, http_response: Any, parsed: dict[str, Any], model: OperationModel, context: dict[str, Any], **_: Any) -> None:
        outcome = "OK"
        if getattr(http_response, "status_code", 200) >= 300:
            outcome = str(parsed.get("Error", {}).get("Code") or getattr(http_response, "status_code", "Error"))
        retries = int(parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
        self._record(context, outcome, retries)

    def _failed(self, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        self._record(context, error_code(exception), 0)

    def _record(self, context: dict[str, Any], outcome: str, retries: int) -> None:
        started = context.pop(self.CONTEXT_KEY, None)
        if started is None:
            return
        started_at, t0, params, model = started
        service = model.service_model.service_name
        try:
            command = cli_command(service, model, params, self._cli_for(service), self._paginators(service, model.name))
        except Exception:  # the log must never break the call it records
            logger.exception("could not build the CLI line for %s", model.name)
            command = f"aws {service} {xform_name(model.name, '-')}"
        self.log.add(
            CallRecord(
                started_at=started_at,
                duration_s=time.monotonic() - t0,
                service=service,
                operation=model.name,
                outcome=outcome,
                retries=retries,
                cli_command=command,
            )
        )

