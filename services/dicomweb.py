"""DICOMweb calls of the console: SigV4-signed HTTP to HealthImaging's DICOMweb host (or the local endpoint).

None of DICOMweb is in botocore's model, so requests are built here, signed with botocore's SigV4Auth
(service `medical-imaging`) from the session's credentials, sent through botocore's HTTP session (urllib3
with the proxies and CA bundle boto3 would use) and recorded in the call log with an equivalent `curl --aws-sigv4` line. Throttling (429)
and unavailability (503) go through the console's backoff (docs/dicomweb.md#console).
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies

from ahi.services.atomic_file import new_binary_file
from ahi.services.backoff import Backoff, worth_retrying
from ahi.services.call_log import CallLog, CallRecord
from ahi.services.dicomweb_multipart import multipart_parts
from ahi.services.dicomweb_urls import LOCAL_REGION, DicomwebTarget, dicomweb_origin, dicomweb_url
from ahi.services.errors import AwsCallError

if TYPE_CHECKING:
    from ahi.services.session import AwsSession

SERVICE = "medical-imaging"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
AS_STORED = "*"
CHUNK_BYTES = 1024 * 1024
#: Seconds to connect, and between bytes read (a whole large instance may take far longer).
TIMEOUT = (10.0, 60.0)
#: Connections kept to the DICOMweb host (an export runs four requests at once).
CONNECTIONS = 4
#: What a 429 or 503 is retried as when the body names no code the backoff knows (docs/dicomweb.md#console).
RETRY_CODES = {429: "ThrottlingException", 503: "ServiceUnavailable"}

Credentials = Callable[[], Any]


def instance_accept(transfer_syntax: str) -> str:
    """The Accept header of GetDICOMInstance for one transfer syntax UID (or `*`: as stored)."""
    return f"application/dicom; transfer-syntax={transfer_syntax}"


@dataclass(frozen=True)
class InstanceFile:
    """One instance written: where, how many bytes, and the transfer syntax asked for."""

    path: Path
    size: int
    transfer_syntax: str


class DicomwebService:
    """DICOMweb requests of one session; thread-safe (botocore's HTTP session is)."""

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        origin: str,
        call_log: CallLog,
        backoff: Backoff,
        http: URLLib3Session | None = None,
    ) -> None:
        self._credentials = credentials
        self.region = region
        self.origin = origin
        self.call_log = call_log
        self.backoff = backoff
        self._http = http or URLLib3Session(timeout=TIMEOUT, max_pool_connections=CONNECTIONS)

    @classmethod
    def for_session(cls, aws: AwsSession, backoff: Backoff) -> DicomwebService:
        """The DICOMweb service of a session: its credentials and region, AWS's DICOMweb host or the local origin."""
        region = aws.region or LOCAL_REGION
        origin = dicomweb_origin(aws.endpoint_url, region, aws.is_local)
        ca_bundle = aws.boto_session._session.get_config_variable("ca_bundle")  # noqa: SLF001 - botocore's config chain
        http = URLLib3Session(
            verify=ca_bundle or True, proxies=get_environ_proxies(origin), timeout=TIMEOUT, max_pool_connections=CONNECTIONS
        )
        return cls(aws.boto_session.get_credentials, region, origin, aws.call_log, backoff, http)

    def url(self, target: DicomwebTarget) -> str:
        return dicomweb_url(self.origin, target)

    # --- GetDICOMInstance -----------------------------------------------------------------------------

    def get_instance(self, target: DicomwebTarget, folder: Path, stem: str, transfer_syntax: str = EXPLICIT_VR_LITTLE_ENDIAN) -> InstanceFile:
        """GetDICOMInstance into `folder/<stem>.dcm` (a free name when taken), written whole or not at all."""
        accept = instance_accept(transfer_syntax)

        def once() -> InstanceFile:
            with self._request("GetDICOMInstance", self.url(target), accept, f"{stem}.dcm") as response:
                with new_binary_file(folder / f"{stem}.dcm") as written:
                    size = 0
                    for chunk in response.stream(CHUNK_BYTES):
                        written.handle.write(chunk)
                        size += len(chunk)
                    _check_length("GetDICOMInstance", response, size)
            return InstanceFile(written.path, size, transfer_syntax)

        return self.backoff.call("GetDICOMInstance", once)

    # --- GetDICOMInstanceFrames ---------------------------------------------------------------------

    def get_frames(self, target: DicomwebTarget, frames: Sequence[int], transfer_syntax: str = AS_STORED) -> list[bytes]:
        """GetDICOMInstanceFrames: the 1-based `frames` of an instance, in order, one multipart part each."""
        accept = f"multipart/related; type=application/octet-stream; transfer-syntax={transfer_syntax}"
        frame_list = ",".join(str(n) for n in frames)
        url = dicomweb_url(self.origin, target, f"/frames/{frame_list}")

        def once() -> list[bytes]:
            with self._request("GetDICOMInstanceFrames", url, accept, "frames.multipart") as response:
                body = response.read()
                _check_length("GetDICOMInstanceFrames", response, len(body))
                parts = multipart_parts(response.headers.get("Content-Type", ""), body)
            if len(parts) != len(frames):
                raise AwsCallError("GetDICOMInstanceFrames", "BadMultipart", f"{len(parts)} parts for {len(frames)} frames")
            return parts

        return self.backoff.call("GetDICOMInstanceFrames", once)

    # --- one request --------------------------------------------------------------------------------

    def _request(self, operation: str, url: str, accept: str, output: str) -> _Response:
        """Send one signed GET; a non-2xx answer leaves as AwsCallError (with a code the backoff retries on 429/503)."""
        request = AWSRequest(method="GET", url=url, headers={"Accept": accept}, stream_output=True)
        credentials = self._credentials()
        if credentials is None:
            raise AwsCallError(operation, "NoCredentialsError", "no AWS credentials to sign the DICOMweb request with")
        SigV4Auth(credentials.get_frozen_credentials(), SERVICE, self.region).add_auth(request)
        prepared = request.prepare()
        started_at, t0 = self.call_log.now(), time.monotonic()
        command = curl_command(url, accept, self.region, output, bool(credentials.token))

        def record(outcome: str) -> None:
            self.call_log.add(CallRecord(started_at, time.monotonic() - t0, SERVICE, operation, outcome, 0, command))

        try:
            response = self._http.send(prepared).raw
        except BotoCoreError as exc:
            record(type(exc).__name__)
            raise AwsCallError.from_exception(operation, exc) from exc
        if response.status >= 300:
            error = _error_of(operation, response)
            record(error.code)
            raise error
        return _Response(response, record)


class _Response:
    """A 2xx answer being read; the call is recorded when the block ends (OK, or how reading failed)."""

    def __init__(self, response: Any, record: Callable[[str], None]) -> None:
        self.response = response
        self._record = record

    def __enter__(self) -> Any:
        return self.response

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        self.response.release_conn()
        self._record("OK" if exc is None else getattr(exc, "code", None) or type(exc).__name__)


def _check_length(operation: str, response: Any, size: int) -> None:
    """A body shorter than its Content-Length is a dropped connection, not an answer."""
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) != size:
        raise AwsCallError(operation, "IncompleteRead", f"the response stopped after {size} of {length} bytes")


def _error_of(operation: str, response: Any) -> AwsCallError:
    """The service's error as an AwsCallError, its code read as botocore reads a REST-JSON error (the
    `x-amzn-ErrorType` header, else the body's `__type`/`code`); 429/503 keep a code the backoff retries."""
    body = response.read(64 * 1024, decode_content=True) or b""
    response.release_conn()
    message = body.decode("utf-8", "replace").strip()[:500]
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    found = response.headers.get("x-amzn-ErrorType")
    if isinstance(document, dict):
        found = found or document.get("__type") or document.get("code") or document.get("Code")
        message = str(document.get("message") or document.get("Message") or "")
    code = str(found).split(":", 1)[0].rsplit("#", 1)[-1] if found else f"HTTP{response.status}"
    if response.status in RETRY_CODES and not worth_retrying(operation, code):
        message = f"{code}: {message}" if message else code
        code = RETRY_CODES[response.status]
    return AwsCallError(operation, code, message or f"HTTP {response.status}")


def curl_command(url: str, accept: str, region: str, output: str, session_token: bool) -> str:
    """The `curl --aws-sigv4` line that sends the same request (credentials from the environment, never shown)."""
    words = ["curl", "--aws-sigv4", f"aws:amz:{region}:{SERVICE}"]
    line = " ".join(shlex.quote(word) for word in words) + ' --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"'
    if session_token:
        line += ' -H "x-amz-security-token: $AWS_SESSION_TOKEN"'
    return f"{line} -H {shlex.quote('Accept: ' + accept)} {shlex.quote(url)} -o {shlex.quote(output)}"

