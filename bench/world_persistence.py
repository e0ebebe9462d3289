"""What keeping the local AWS world costs: per-write overhead, and start-up with an N-object world.

1. Per request, boto3 against an in-process endpoint, saving on (as shipped) and off (moto alone, the
   alternative), call by call in turn: PutObject of 1 KiB, PutObject of 20 MiB, GetObject of 1 KiB (a read:
   no save), KMS CreateKey and IAM CreateRole (services saved whole). PutObject is timed again once the
   bucket holds N objects: a save writes one key file, so it should not grow with N.
2. Start-up on a state directory holding N objects: loading the world into an empty moto (what a new
   process does on its first S3 request), and start to the first GetObject answered, against the same
   on a world of one object. (Listing is left out: moto and botocore take about 2 ms per listed object
   whether the world was loaded or not.)

Usage: .venv/bin/python bench/world_persistence.py [--objects N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ahi.emulator.config import EndpointConfig
from ahi.emulator.server import LocalEndpoint
from ahi.emulator.world import persisted
from ahi.emulator.world.persisted import PersistedWorld

POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


def client(endpoint: LocalEndpoint, service: str) -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=endpoint.url, region_name="us-east-1", aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="bench", config=Config(retries={"total_max_attempts": 1}))


def forget_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@contextmanager
def saving(on: bool) -> Iterator[None]:
    """Saving as shipped, or switched off (every request taken for a read): moto alone."""
    original = PersistedWorld._change
    if not on:
        PersistedWorld._change = lambda self, app, environ: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        PersistedWorld._change = original  # type: ignore[method-assign]


def timed_ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def interleaved(call: Callable[[str], object], repeat: int) -> tuple[float, float]:
    """Median ms of `call` with saving off and on, alternating call by call (a busy machine slows both alike)."""
    alone, saved = [], []
    for index in range(repeat):
        for on, times in ((False, alone), (True, saved)):
            with saving(on):
                times.append(timed_ms(lambda: call(f"{index}-{on}")))
    return statistics.median(alone), statistics.median(saved)


def per_request(root: Path, objects: int, repeat: int) -> dict[str, tuple[float, float]]:
    forget_moto()
    with LocalEndpoint(EndpointConfig(state_dir=root / "per-request", port=0)) as endpoint:
        s3, kms, iam = client(endpoint, "s3"), client(endpoint, "kms"), client(endpoint, "iam")
        s3.create_bucket(Bucket="bench")
        large = os.urandom(20 * 1024 * 1024)
        figures = {
            "PutObject 1 KiB": interleaved(lambda i: s3.put_object(Bucket="bench", Key=f"small/{i}", Body=b"x" * 1024), repeat),
            "GetObject 1 KiB": interleaved(lambda i: s3.get_object(Bucket="bench", Key=f"small/{i}")["Body"].read(), repeat),
            "PutObject 20 MiB": interleaved(lambda i: s3.put_object(Bucket="bench", Key=f"large/{i}", Body=large), 3),
            "KMS CreateKey": interleaved(lambda i: kms.create_key(), repeat),
            "IAM CreateRole": interleaved(lambda i: iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=POLICY), repeat),
        }
        for index in range(objects):
            s3.put_object(Bucket="bench", Key=f"many/{index:06d}", Body=b"y" * 1024)
        figures[f"PutObject 1 KiB, bucket of {objects + 2 * repeat + 6}"] = interleaved(
            lambda i: s3.put_object(Bucket="bench", Key=f"after/{i}", Body=b"x" * 1024), repeat)
    forget_moto()
    return figures


def start_up(root: Path, objects: int) -> dict[str, float]:
    """Load into an empty moto, and the first listing, for an N-object world and an empty one."""
    figures = {}
    for count in (1, objects):
        state = root / f"start-{count}"
        forget_moto()
        with LocalEndpoint(EndpointConfig(state_dir=state, port=0)) as endpoint:
            s3 = client(endpoint, "s3")
            s3.create_bucket(Bucket="world")
            for index in range(count):
                s3.put_object(Bucket="world", Key=f"obj/{index:06d}", Body=b"z" * 1024)
        forget_moto()
        started = time.perf_counter()
        PersistedWorld(state).load()
        figures[f"load into an empty moto, {count} objects"] = (time.perf_counter() - started) * 1000
        for world in list(persisted._loaded):
            world.close()
        forget_moto()
        started = time.perf_counter()
        with LocalEndpoint(EndpointConfig(state_dir=state, port=0)) as endpoint:
            client(endpoint, "s3").get_object(Bucket="world", Key="obj/000000")["Body"].read()
            figures[f"start to the first GetObject, {count} objects"] = (time.perf_counter() - started) * 1000
        forget_moto()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="ahi-bench-world-") as folder:
        root = Path(folder)
        print("\nper request, median ms | moto alone | saved (as shipped) | overhead")
        for name, (alone, saved) in per_request(root, args.objects, args.repeat).items():
            print(f"{name:40} | {alone:8.2f} | {saved:8.2f} | {saved - alone:+8.2f}")
        print("\nstart-up, ms")
        for name, value in start_up(root, args.objects).items():
            print(f"{name:50} {value:9.1f}")


if __name__ == "__main__":
    main()
