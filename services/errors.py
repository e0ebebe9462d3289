"""One error type for every failed AWS call, so the console can name the call and the code."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError


class AwsCallError(Exception):
    """A failed AWS call: the operation, the AWS error code and the service's message."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message

    @classmethod
    def from_exception(cls, operation: str, exc: Exception) -> AwsCallError:
        """Translate a botocore exception (or anything else) into an AwsCallError."""
        if isinstance(exc, AwsCallError):
            return exc
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "Unknown")
            message = str(error.get("Message") or exc)
            return cls(operation, code, message)
        if isinstance(exc, BotoCoreError):
            return cls(operation, type(exc).__name__, str(exc))
        return cls(operation, type(exc).__name__, str(exc) or type(exc).__name__)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore exception, or the exception's class name."""
    if isinstance(exc, AwsCallError):
        return exc.code
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "Unknown")
    return type(exc).__name__
