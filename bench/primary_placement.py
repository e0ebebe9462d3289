"""What placing series against a study's primary image sets costs an import job (docs/primary-image-sets.md).

One import job of N two-slice series of one study, on a fresh local endpoint each run, timed from
StartDICOMImportJob to COMPLETED, and the time spent inside the placement itself. The alternative is the
same job with placement replaced by "everything is a new primary image set" (what imports did before).
Runs alternate between the two so that a shared machine's load falls on both.

    .venv/bin/python bench/primary_placement.py [--series 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ahi.emulator.config import EndpointConfig
from ahi.emulator.demo import phantoms
from ahi.emulator.imagesets.primary import Placement
from ahi.emulator.imports import runner
from ahi.emulator.server import LocalEndpoint
from local_import import clients, timed_import

PLACE = runner.place_import


def one_job(series: int, placement: Callable[..., Placement]) -> tuple[float, float]:
    """(job seconds, seconds inside placement) for one job of `series` series of one study."""
    spent = [0.0]

    def timed(*args: Any, **kwargs: Any) -> Placement:
        started = time.perf_counter()
        try:
            return placement(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    runner.place_import = timed
    config = EndpointConfig(state_dir=Path(tempfile.mkdtemp()), port=0, datastore_transition_seconds=0.05)
    endpoint = LocalEndpoint(config).start()
    try:
        files = [
            (f"study/{index}/{name}", data)
            for index in range(series)
            for name, data in phantoms.ct_series(2, 32, series_key=f"s{index}")
        ]
        seconds, _ = timed_import(*clients(endpoint.url), files)
        return seconds, spent[0]
    finally:
        endpoint.stop()
        runner.place_import = PLACE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"placement": [], "all primary (alternative)": []}
    for _ in range(args.runs):
        results["placement"].append(one_job(args.series, PLACE))
        results["all primary (alternative)"].append(one_job(args.series, lambda *_, **__: Placement(is_primary=True)))
    print(f"one import job of {args.series} two-slice series of one study, median of {args.runs} runs")
    for name, runs in results.items():
        job = statistics.median(seconds for seconds, _ in runs)
        placing = statistics.median(inside for _, inside in runs)
        print(f"  {name:28} job {job:6.2f} s   inside placement {placing * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
