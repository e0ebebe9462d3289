"""Fleet bench: `:fleet`'s gathering of failed imports over N regions of one local endpoint, parallel against serial.

Each region (the SigV4 scope's region partitions the endpoint's data) gets `--stores` data stores with
one FAILED import job each (an input bucket that does not exist). The console's gathering
(services/fleet.py: FLEET_WORKERS regions at a time, each on its own session) is timed against the same
gathering one region at a time. "cold" is a fresh connection (every region's session and clients made
inside the timing, as the first `:fleet` of a console run); "warm" reuses them (as `r` does). The
local endpoint answers in a millisecond or two, where a region of AWS is tens of milliseconds away;
`--rtt-ms` adds that round trip to every request (a sleep in botocore's `before-send`), and the bench
runs with none and with it.

    .venv/bin/python bench/fleet.py [--regions 8] [--stores 3] [--rounds 5] [--rtt-ms 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fleet_world import active_store, ended_job, region_clients  # noqa: E402

from ahi.emulator.config import EndpointConfig  # noqa: E402
from ahi.emulator.server import LocalEndpoint  # noqa: E402
from ahi.services.connection import Connection  # noqa: E402
from ahi.services.fleet import FLEET_WORKERS, FleetTarget, gather_failed_imports  # noqa: E402
from ahi.services.session import ConnectionSettings  # noqa: E402

REGIONS = (
    "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-south-1", "ca-central-1", "sa-east-1",
)  # fmt: skip


def seed(url: str, regions: list[str], stores: int) -> None:
    """`stores` data stores per region, each with one FAILED import."""
    for region in regions:
        (mi,) = region_clients(url, region, "medical-imaging")
        for n in range(stores):
            store = active_store(mi, f"{region}-store-{n}")
            ended_job(mi, store, f"{region}-missing-{n}", "s3://no-such-bench-bucket/in/")


def gather_seconds(
    url: str, targets: list[FleetTarget], workers: int, hub: Connection | None, rtt_s: float
) -> tuple[float, Connection, int]:
    """One gathering's wall time, the connection it used, and the rows found."""
    hub = hub or Connection.for_settings(ConnectionSettings(region=targets[0].region, endpoint_url=url, local_credentials=True))

    def connect(target: FleetTarget) -> Connection:
        region = hub.sibling(replace(hub.settings, region=target.region))
        if rtt_s:
            region.aws.boto_session.events.register_first("before-send", lambda **_: time.sleep(rtt_s), unique_id="bench-rtt")
        return region

    started = time.perf_counter()
    report = gather_failed_imports(targets, connect, workers=workers)
    return time.perf_counter() - started, hub, len(report.rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--stores", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rtt-ms", type=float, default=40.0, help="round trip added to each request in the second run")
    args = parser.parse_args()
    regions = list(REGIONS[: args.regions])
    targets = [FleetTarget(region) for region in regions]
    with tempfile.TemporaryDirectory() as state:
        endpoint = LocalEndpoint(EndpointConfig(state_dir=Path(state) / "state", port=0, datastore_transition_seconds=0.05)).start()
        try:
            seed(endpoint.url, regions, args.stores)
            print(f"{len(regions)} regions x {args.stores} data stores, one FAILED job each; {args.rounds} rounds, median\n")
            print("| round trip | gathering | cold (new sessions) | warm (sessions reused) | rows |\n| --- | --- | --- | --- | --- |")
            for rtt_ms in (0.0, args.rtt_ms):
                for label, workers in ((f"parallel, {FLEET_WORKERS} regions at a time (ours)", FLEET_WORKERS), ("serial, one region at a time", 1)):
                    cold, warm, rows = [], [], 0
                    for _ in range(args.rounds):
                        seconds, hub, rows = gather_seconds(endpoint.url, targets, workers, None, rtt_ms / 1000)
                        cold.append(seconds)
                        warm.append(gather_seconds(endpoint.url, targets, workers, hub, rtt_ms / 1000)[0])
                    print(f"| {rtt_ms:g} ms | {label} | {statistics.median(cold) * 1000:.0f} ms | {statistics.median(warm) * 1000:.0f} ms | {rows} |")
        finally:
            endpoint.stop()


if __name__ == "__main__":
    main()
