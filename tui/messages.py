"""Messages workers post back to the UI; widgets change only in their handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from textual.message import Message

from ahi.services.call_log import CallRecord
from ahi.services.errors import AwsCallError


@dataclass
class Fetched(Message):
    """A screen's refresh worker finished; `result` is what its `fetch` returned."""

    result: Any


@dataclass
class FetchedPart(Message):
    """A screen's refresh worker has a first part of its result (the rows, before their details)."""

    result: Any


@dataclass
class AwsCallFailed(Message):
    """An AWS call of a worker failed; `during` names what the user was doing."""

    error: AwsCallError
    during: str = "refresh"


@dataclass
class CallDone(Message):
    """A one-off call (create, delete, ...) finished; `then` runs on the UI thread with the result."""

    result: Any
    then: Callable[[Any], None]


@dataclass
class CallRecorded(Message):
    """A new entry in the call log."""

    record: CallRecord


@dataclass
class AccountResolved(Message):
    """STS answered (or not) who we are, and the client knows its endpoint."""

    session: Any
    account_id: str | None
    endpoint: str
    local: bool
