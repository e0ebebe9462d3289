"""Service errors raised by handlers and the protocol layer, rendered as rest-json errors."""

from __future__ import annotations


class ServiceError(Exception):
    """An error the endpoint answers with; `code` is the x-amzn-ErrorType, the status comes from the model."""

    code: str = "InternalServerException"
    #: Only for codes the medical-imaging model does not list (e.g. InvalidSignatureException).
    status: int | None = None

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ValidationException(ServiceError):
    code = "ValidationException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ConflictException(ServiceError):
    code = "ConflictException"


class ServiceQuotaExceededException(ServiceError):
    code = "ServiceQuotaExceededException"


class ThrottlingException(ServiceError):
    code = "ThrottlingException"


class BadRequestException(ServiceError):
    code = "BadRequestException"


class NotAcceptableException(ServiceError):
    code = "NotAcceptableException"
    status = 406


class InvalidSignatureException(ServiceError):
    """Unmodeled in medical-imaging; AWS answers it for a bad SigV4 signature."""

    code = "InvalidSignatureException"
    status = 403


class SerializationException(ServiceError):
    """A body or parameter that cannot be read as the model's type (Smithy's malformed-request code)."""

    code = "SerializationException"
    status = 400


class UnknownOperationException(ServiceError):
    """No operation of the model matches the method and path."""

    code = "UnknownOperationException"
    status = 404


class MissingAuthenticationTokenException(ServiceError):
    code = "MissingAuthenticationTokenException"
    status = 403


class UnrecognizedClientException(ServiceError):
    """The access key id is not one the endpoint knows a secret for."""

    code = "UnrecognizedClientException"
    status = 403


class IncompleteSignatureException(ServiceError):
    code = "IncompleteSignatureException"
    status = 403


class PayloadHashMismatch(InvalidSignatureException):
    """X-Amz-Content-SHA256 names another body than the one that arrived (S3: XAmzContentSHA256Mismatch, 400)."""


class SignatureExpired(InvalidSignatureException):
    """X-Amz-Date further from the endpoint's clock than the allowed skew (S3: RequestTimeTooSkewed)."""


class PresignedUrlExpired(InvalidSignatureException):
    """A presigned URL used after X-Amz-Date + X-Amz-Expires (S3: AccessDenied "Request has expired")."""


class UnsupportedSigning(ServiceError):
    """A signing variant the endpoint cannot verify (signed streaming payloads); refused rather than trusted."""

    code = "NotImplemented"
    status = 501
