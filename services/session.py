"""Client factory: one boto3 Session per console connection, with the call log attached.

Endpoint resolution follows the AWS CLI: an explicit endpoint URL wins, otherwise botocore reads
`AWS_ENDPOINT_URL_MEDICAL_IMAGING` / `AWS_ENDPOINT_URL` and the shared config itself. Whenever the
effective endpoint is not an AWS one, host-prefix injection is switched off, because
`runtime-<host>` names do not resolve for local endpoints.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError

from ahi.services.call_log import CallLog, CallRecorder, CliContext
from ahi.services.errors import AwsCallError

MEDICAL_IMAGING = "medical-imaging"
LOCAL_CREDENTIALS = ("ahi-local", "ahi-local-secret")
AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws", ".c2s.ic.gov", ".sc2s.sgov.gov")


class EndpointOrigin(Enum):
    """Where the endpoint URL came from (the value is how `ahi info` and the header name it)."""

    AWS = "AWS default for the region"
    FLAG = "flag --endpoint-url"
    ENVIRONMENT = "environment"
    CONFIG = "config profile"
    LOCAL = "--local (local endpoint process)"


@dataclass(frozen=True)
class ConnectionSettings:
    """What the user chose (flags, config): None means "let the AWS credential chain decide"."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    endpoint_origin: EndpointOrigin = EndpointOrigin.AWS
    #: Dummy static credentials for the in-process local endpoint (it does not check them by default).
    local_credentials: bool = False
    #: Total attempts per call in botocore's standard retry mode; None keeps botocore's default (3).
    max_attempts: int | None = None

    def with_region(self, region: str | None) -> ConnectionSettings:
        return replace(self, region=region)


def available_profiles() -> list[str]:
    """The profiles in the shared AWS config and credentials files."""
    return list(boto3.Session().available_profiles)


def is_aws_endpoint(url: str | None) -> bool:
    """True for AWS's own service hosts (where the `runtime-` host prefix resolves)."""
    if not url:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith(AWS_HOST_SUFFIXES)


def refuse_truncated_body(response_dict: dict[str, Any], operation_model: Any = None, **_: Any) -> None:
    """botocore's `before-parse` hook: a body shorter than its Content-Length is a dropped connection.

    botocore reads responses with urllib3's `enforce_content_length=False` and parses an empty or cut
    JSON body as a success without its members, so an endpoint that dies mid-response would otherwise
    look like an empty answer. HEAD responses (S3 HeadObject) and 204/304 carry a length but no body.
    """
    if getattr(operation_model, "http", {}).get("method") == "HEAD" or response_dict.get("status_code") in (204, 304):
        return
    body, length = response_dict.get("body"), response_dict.get("headers", {}).get("content-length")
    if isinstance(body, bytes) and length is not None and length.isdigit() and int(length) != len(body):
        raise ConnectionClosedError(endpoint_url=f"(the response stopped after {len(body)} of {length} bytes)")


class AwsSession:
    """Clients for one profile/region/endpoint, created lazily and shared across worker threads."""

    def __init__(self, settings: ConnectionSettings, call_log: CallLog | None = None, models_from: AwsSession | None = None) -> None:
        """`models_from`: a session whose loaded service models this one reuses (same profile; docs/startup.md)."""
        self.settings = settings
        self.call_log = call_log if call_log is not None else CallLog()
        credentials: dict[str, Any] = {}
        if settings.local_credentials:
            credentials = {"aws_access_key_id": LOCAL_CREDENTIALS[0], "aws_secret_access_key": LOCAL_CREDENTIALS[1]}
        self.boto_session = boto3.Session(profile_name=settings.profile, region_name=settings.region, **credentials)
        if models_from is not None:
            # botocore caches each JSON model it loads in its loader; a new session would parse them all again.
            self.boto_session._session.register_component("data_loader", models_from.models_loader)  # noqa: SLF001
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._account_id: str | None = None
        self._account_error: AwsCallError | None = None
        CallRecorder(self.call_log, self.cli_context, self._paginator_keys).register(self.boto_session.events)

    @property
    def models_loader(self) -> Any:
        """botocore's loader of this session, with the service models it has parsed (docs/startup.md)."""
        return self.boto_session._session.get_component("data_loader")  # noqa: SLF001 - botocore's loader

    @property
    def region(self) -> str | None:
        return self.boto_session.region_name

    @property
    def profile(self) -> str:
        return self.boto_session.profile_name

    def client(self, service: str, *, single_attempt: bool = False) -> Any:
        """The (cached) client for an AWS service; `single_attempt` turns botocore's own retries off."""
        key = f"{service}/once" if single_attempt else service
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._create_client(service, max_attempts=1 if single_attempt else None)
            return self._clients[key]

    @property
    def medical_imaging(self) -> Any:
        return self.client(MEDICAL_IMAGING)

    @property
    def medical_imaging_writes(self) -> Any:
        """For writes with no clientToken (CopyImageSet, UpdateImageSetMetadata): never resent by botocore.

        A 5xx can come after the write committed; resending a copy would make a second copy. Throttled
        requests did not run, so the service layer's own backoff may still resend those.
        """
        return self.client(MEDICAL_IMAGING, single_attempt=True)

    @property
    def kms(self) -> Any:
        return self.client("kms")

    @property
    def sts(self) -> Any:
        return self.client("sts")

    @property
    def endpoint_url(self) -> str:
        """The URL medical-imaging requests actually go to."""
        return str(self.medical_imaging.meta.endpoint_url)

    @property
    def is_local(self) -> bool:
        """True when the endpoint is not AWS's own (the local endpoint, LocalStack, a proxy)."""
        return not is_aws_endpoint(self.endpoint_url)

    def cli_context(self, service: str) -> CliContext:
        """The connection flags an equivalent AWS CLI command line needs for this service."""
        endpoint = str(self.client(service).meta.endpoint_url)
        return CliContext(
            endpoint_url=None if is_aws_endpoint(endpoint) else endpoint,
            profile=self.settings.profile,
            region=self.settings.region,
        )

    def account_id(self) -> str | None:
        """The caller's account from STS GetCallerIdentity; None (remembered) when that fails."""
        if self._account_id is None and self._account_error is None:
            try:
                self._account_id = str(self.sts.get_caller_identity()["Account"])
            except Exception as exc:  # any failure leaves the console usable without an account
                self._account_error = AwsCallError.from_exception("GetCallerIdentity", exc)
        return self._account_id

    @property
    def account_error(self) -> AwsCallError | None:
        return self._account_error

    def _create_client(self, service: str, max_attempts: int | None = None) -> Any:
        retries: dict[str, Any] = {"mode": "standard"}
        attempts = max_attempts if max_attempts is not None else self.settings.max_attempts
        if attempts is not None:
            retries["total_max_attempts"] = attempts
        endpoint = self.settings.endpoint_url
        config = Config(retries=retries, inject_host_prefix=False) if endpoint else Config(retries=retries)
        client = self.boto_session.client(service, endpoint_url=endpoint, config=config)
        if not endpoint and not is_aws_endpoint(client.meta.endpoint_url):
            client = self.boto_session.client(
                service, config=Config(retries=retries, inject_host_prefix=False)
            )
        client.meta.events.register("before-parse.*.*", refuse_truncated_body)
        return client

    def _paginator_keys(self, service: str, operation: str) -> dict[str, str] | None:
        """The paginator's token and limit keys for an operation, or None when it does not paginate."""
        try:
            model = self.boto_session._session.get_paginator_model(service)  # noqa: SLF001 - botocore's loader
            config = model.get_paginator(operation)
        except Exception:
            return None
        return {"input_token": str(config.get("input_token")), "limit_key": str(config.get("limit_key"))}
