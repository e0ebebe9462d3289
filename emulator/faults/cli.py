"""`ahi local --faults SPEC [--faults-seed N]`: the options, and the line printed once the endpoint is up."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ahi.emulator.config import EndpointConfig
from ahi.emulator.faults.spec import FaultSpecError, parse_spec

if TYPE_CHECKING:
    from ahi.emulator.server import LocalEndpoint

SPEC_HELP = (
    "inject faults into medical-imaging requests: RULE;RULE..., each TARGET:KIND=VALUE,... where TARGET is * or "
    "Operation|Operation (API names, DICOMweb's too: GetDICOMInstance, SearchDICOMStudies, StoreDICOM, ...) and KIND is throttle, 5xx, quota, drop (before the handler), 5xx-after, drop-after (after "
    "it committed) with a rate (0.05 or 5%%), or latency (50ms, 1s, 20ms-80ms). "
    "Example: 'ListDatastores:throttle=0.2,5xx=0.05;*:latency=50ms,drop=0.01'"
)


def fault_spec(text: str) -> str:
    """argparse type: the spec unchanged when it parses, else the parser's reason as the error."""
    try:
        parse_spec(text)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faults", type=fault_spec, default=None, metavar="SPEC", help=SPEC_HELP)
    parser.add_argument("--faults-seed", type=int, default=None, metavar="N",
                        help="seed of the fault draws: the same seed and requests give the same faults "
                        "(default: a random seed, printed at start)")


def configure(args: argparse.Namespace, config: EndpointConfig) -> None:
    config.faults = args.faults
    config.faults_seed = args.faults_seed


def on_started(args: argparse.Namespace, endpoint: LocalEndpoint) -> None:
    if endpoint.faults is not None:
        print(f"# fault injection: {endpoint.faults.spec.text} (--faults-seed {endpoint.faults.seed} reproduces it)",
              file=sys.stdout, flush=True)
