"""Why a file did not import (a FAILURE line) or imported with a caveat (a WARNING line)."""

from __future__ import annotations

from dataclasses import dataclass


class FileFailure(Exception):
    """One input file that cannot become an instance; the job goes on with the others.

    `customer` failures are the file's fault (ValidationException, counted as customer errors);
    the others are ours (InternalServerException, counted as server errors).
    """

    def __init__(self, message: str, *, exception_type: str = "ValidationException", customer: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.exception_type = exception_type
        self.customer = customer

    def to_exception(self) -> dict[str, str]:
        """The `exception` object of a failure.ndjson line."""
        return {"exceptionType": self.exception_type, "message": self.message}


def server_failure(exc: BaseException) -> FileFailure:
    """An unexpected error in our own code while processing a file."""
    return FileFailure(
        f"The file could not be processed because of an internal error ({type(exc).__name__}: {exc}).",
        exception_type="InternalServerException",
        customer=False,
    )


@dataclass(frozen=True)
class ImportCaveat:
    """A file imported, but something about it deserves attention (one entry of `warnings`)."""

    code: int
    type: str
    message: str

    def to_json(self) -> dict[str, object]:
        """One warning as warning.ndjson holds it (docs/clients.md#import-job-output)."""
        return {"warning_reason_code": self.code, "type": self.type, "message": self.message}
