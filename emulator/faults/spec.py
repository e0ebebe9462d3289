"""The `--faults` grammar: which medical-imaging operations fail, how often, and how.

Operations are the model's (ListDatastores, ...) and DICOMweb's (GetDICOMInstance, SearchDICOMStudies,
StoreDICOM, ...: the names of emulator/dicomweb's routes, as IAM knows them).

    SPEC   := RULE (";" RULE)*
    RULE   := TARGET ":" FAULT ("," FAULT)*
    TARGET := "*" | Operation ("|" Operation)*
    FAULT  := KIND "=" VALUE

Kinds and their values:

- `throttle`, `5xx`, `quota`: a rate (`0.2` or `20%`) of ThrottlingException (429),
  InternalServerException (500) or ServiceQuotaExceededException (402), answered BEFORE the handler
  runs, so nothing happened.
- `drop`: a rate of connections closed without a response, before the handler runs.
- `5xx-after`, `drop-after`: a rate of requests whose handler runs and commits, and whose response is
  then replaced by a 500 or a dropped connection (the "succeeded, but the client never heard" case
  that clientToken idempotency exists for).
- `latency`: added delay for every matching request, `50ms`, `1.5s`, or a uniform range `20ms-80ms`.

A named operation's faults override the `*` rule's faults of the same kind and inherit the others.
`quota` under `*` applies only to operations whose model lists ServiceQuotaExceededException (no
DICOMweb operation has a model: none gets it); naming an operation that does not list it is an error. The rates of one operation may add up to at most 1.

Example: `ListDatastores:throttle=0.2,5xx=0.05;*:latency=50ms,drop=0.01`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ahi.emulator.model import service_model

ALL = "*"
QUOTA_CODE = "ServiceQuotaExceededException"


@dataclass(frozen=True)
class Outcome:
    """What one rate-driven fault kind does to a request."""

    kind: str
    #: The error code answered, or None for a dropped connection.
    code: str | None
    #: True when the handler runs (and commits) before the fault replaces its response.
    after_handler: bool


OUTCOMES: Mapping[str, Outcome] = MappingProxyType(
    {
        "throttle": Outcome("throttle", "ThrottlingException", False),
        "5xx": Outcome("5xx", "InternalServerException", False),
        "quota": Outcome("quota", QUOTA_CODE, False),
        "drop": Outcome("drop", None, False),
        "5xx-after": Outcome("5xx-after", "InternalServerException", True),
        "drop-after": Outcome("drop-after", None, True),
    }
)
LATENCY = "latency"
KINDS = (*OUTCOMES, LATENCY)

_RATE = re.compile(r"^(?P<number>\d+(?:\.\d*)?|\.\d+)(?P<percent>%?)$")
_DURATION = re.compile(r"^(?P<number>\d+(?:\.\d*)?|\.\d+)(?P<unit>ms|s)$")


class FaultSpecError(ValueError):
    """A `--faults` spec that cannot be read; the message quotes the part at fault and the rule."""


@dataclass(frozen=True)
class Latency:
    """Added delay in seconds: fixed when low == high, else uniform in [low, high]."""

    low: float
    high: float

    def seconds(self, draw: float) -> float:
        """The delay for a uniform draw in [0, 1)."""
        return self.low + (self.high - self.low) * draw


@dataclass(frozen=True)
class OperationFaults:
    """The faults of one operation after merging its own rule over the `*` rule."""

    rates: Mapping[str, float] = field(default_factory=dict)
    latency: Latency | None = None

    def outcome_for(self, draw: float) -> Outcome | None:
        """The outcome a uniform draw in [0, 1) lands on, the kinds laid end to end in a fixed order."""
        edge = 0.0
        for kind in OUTCOMES:
            edge += self.rates.get(kind, 0.0)
            if draw < edge:
                return OUTCOMES[kind]
        return None

    @property
    def empty(self) -> bool:
        return self.latency is None and not any(self.rates.values())


@dataclass(frozen=True)
class FaultSpec:
    """A parsed spec: the merged faults of every operation that has any."""

    text: str
    operations: Mapping[str, OperationFaults]

    def for_operation(self, name: str) -> OperationFaults | None:
        return self.operations.get(name)


def parse_spec(text: str) -> FaultSpec:
    """Parse and check a spec against the model; FaultSpecError explains the first problem."""
    known = [*service_model().operation_names, *_dicomweb_operations()]
    raw_rules: dict[str, dict[str, float | Latency]] = {}
    rules = [part.strip() for part in text.split(";")]
    if not any(rules):
        raise FaultSpecError("the fault spec is empty; expected e.g. 'ListDatastores:throttle=0.2;*:latency=50ms'")
    for number, rule in enumerate(rules, start=1):
        if not rule:
            continue
        where = f"rule {number} ({rule!r})"
        targets_text, colon, faults_text = rule.partition(":")
        if not colon or not faults_text.strip():
            raise FaultSpecError(f"{where}: expected TARGET:KIND=VALUE[,KIND=VALUE...], e.g. 'ListDatastores:throttle=0.2'")
        targets = _targets(targets_text, known, where)
        faults = _faults(faults_text, where)
        for target in targets:
            merged = raw_rules.setdefault(target, {})
            for kind, value in faults.items():
                if kind in merged:
                    raise FaultSpecError(f"{where}: {kind} for {target} is given twice")
                merged[kind] = value
            if target != ALL and "quota" in faults and QUOTA_CODE not in _error_codes(target):
                raise FaultSpecError(
                    f"{where}: quota: {target} never answers {QUOTA_CODE} (its model does not list it); "
                    "it is listed by " + ", ".join(name for name in known if QUOTA_CODE in _error_codes(name))
                )
    operations: dict[str, OperationFaults] = {}
    defaults = raw_rules.get(ALL, {})
    for name in known:
        values = {**defaults, **raw_rules.get(name, {})}
        if QUOTA_CODE not in _error_codes(name):  # named with quota itself was refused above
            values.pop("quota", None)
        latency = values.pop(LATENCY, None)
        rates = {kind: float(value) for kind, value in values.items() if not isinstance(value, Latency)}
        total = sum(rates.values())
        if total > 1.0 + 1e-9:
            raise FaultSpecError(f"the failure rates for {name} add up to {total:g}; they may add up to at most 1")
        faults = OperationFaults(MappingProxyType(rates), latency if isinstance(latency, Latency) else None)
        if not faults.empty:
            operations[name] = faults
    return FaultSpec(text, MappingProxyType(operations))


def _dicomweb_operations() -> list[str]:
    """The DICOMweb operation names, in route order, each once."""
    from ahi.emulator.dicomweb.app import ROUTES  # the routes import the model-driven app: only when a spec is read

    return list(dict.fromkeys(route.operation for route in ROUTES))


def _error_codes(operation: str) -> set[str]:
    model = service_model()
    if operation not in model.operation_names:
        return set()  # DICOMweb: not in the model
    return {shape.name for shape in model.operation_model(operation).error_shapes}


def _targets(text: str, known: list[str], where: str) -> list[str]:
    names = [name.strip() for name in text.split("|")]
    if names == [ALL]:
        return [ALL]
    for name in names:
        if name == ALL:
            raise FaultSpecError(f"{where}: '*' stands alone; it cannot be combined with operation names")
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else "; operations are the API names, e.g. ListDatastores"
            raise FaultSpecError(f"{where}: unknown operation {name!r}{hint}")
    return names


def _faults(text: str, where: str) -> dict[str, float | Latency]:
    faults: dict[str, float | Latency] = {}
    for item in (part.strip() for part in text.split(",")):
        kind, equals, value = (piece.strip() for piece in item.partition("="))
        if not equals or not value:
            raise FaultSpecError(f"{where}: {item!r} should be KIND=VALUE, e.g. throttle=0.2 or latency=50ms")
        if kind not in KINDS:
            raise FaultSpecError(f"{where}: unknown fault {kind!r}; kinds are {', '.join(KINDS)}")
        if kind in faults:
            raise FaultSpecError(f"{where}: {kind} is given twice")
        faults[kind] = _latency(value, where) if kind == LATENCY else _rate(kind, value, where)
    return faults


def _rate(kind: str, value: str, where: str) -> float:
    match = _RATE.match(value)
    if match is None:
        raise FaultSpecError(f"{where}: {kind}={value!r} is not a rate; use a number from 0 to 1 (0.05) or a percentage (5%)")
    rate = float(match["number"]) / (100 if match["percent"] else 1)
    if rate > 1:
        raise FaultSpecError(f"{where}: {kind}={value} is more than 1 (100%)")
    return rate


def _latency(value: str, where: str) -> Latency:
    low_text, dash, high_text = value.partition("-")
    low = _duration(low_text.strip(), value, where)
    high = _duration(high_text.strip(), value, where) if dash else low
    if high < low:
        raise FaultSpecError(f"{where}: latency={value}: the range must go from the smaller to the larger delay")
    return Latency(low, high)


def _duration(text: str, value: str, where: str) -> float:
    match = _DURATION.match(text)
    if match is None:
        raise FaultSpecError(f"{where}: latency={value!r} is not a duration; use e.g. 50ms, 1.5s or 20ms-80ms")
    number = float(match["number"])
    return number / 1000 if match["unit"] == "ms" else number
