"""boto3 clients for seeding and checking a journey's world on the console's endpoint."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def journey_clients(endpoint_url: str, *services: str) -> tuple[Any, ...]:
    """One client per named service, with the local endpoint's settings and no retries (a failure shows at once)."""
    options: dict[str, Any] = {
        "region_name": "us-east-1", "endpoint_url": endpoint_url, "aws_access_key_id": "e2e",
        "aws_secret_access_key": "e2e", "config": Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    }  # fmt: skip
    return tuple(boto3.client(service, **options) for service in services)  # type: ignore[call-overload]
