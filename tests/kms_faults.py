"""KMS error injection at the local endpoint: WSGI middleware in front of moto for chosen operations and keys.

The endpoint's own fault injection covers medical-imaging only; KMS is moto's, and moto has no key
policies to deny with. `inject_kms_faults(endpoint)` puts this in front of moto on the running
endpoint (it is stopped at the end of the test, which removes it).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ahi.emulator.server import LocalEndpoint

KMS_TARGET_PREFIX = "TrentService."


class KmsFaults:
    """Answers `fail(operation, key, code)` requests with that error; everything else goes to moto."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.rules: list[tuple[str, str, str]] = []
        self.hits: list[tuple[str, str]] = []

    def fail(self, operation: str, key: str, code: str) -> None:
        """Fail `operation` (e.g. DescribeKey) for every KeyId containing `key` (an ID, ARN or "*")."""
        self.rules.append((operation, key, code))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith(KMS_TARGET_PREFIX):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            operation = target.removeprefix(KMS_TARGET_PREFIX)
            key_id = str(json.loads(body or b"{}").get("KeyId", ""))
            for rule_operation, key, code in self.rules:
                if rule_operation == operation and (key == "*" or key in key_id):
                    self.hits.append((operation, key_id))
                    return self._error(start_response, code, f"injected {code} for {operation} on {key_id}")
        return self.app(environ, start_response)

    @staticmethod
    def _error(start_response: StartResponse, code: str, message: str) -> list[bytes]:
        payload = json.dumps({"__type": code, "message": message}).encode()
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(payload)))])
        return [payload]


def inject_kms_faults(endpoint: LocalEndpoint) -> KmsFaults:
    """Install the middleware on a running endpoint and return it."""
    dispatcher: Any = endpoint._server.app  # type: ignore[union-attr]  # noqa: SLF001 - test-only hook
    faults = KmsFaults(dispatcher.other)
    dispatcher.other = faults
    return faults
