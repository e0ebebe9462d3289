"""The botocore service model for medical-imaging, loaded once, and the HTTP status of each error code."""

from __future__ import annotations

import functools

from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel

SERVICE_NAME = "medical-imaging"

#: Codes the medical-imaging model does not list but the real front door answers with.
UNMODELED_ERROR_STATUS: dict[str, int] = {
    "SerializationException": 400,
    "UnknownOperationException": 404,
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 403,
    "NotImplemented": 501,
}


@functools.cache
def service_model() -> ServiceModel:
    """botocore's own model (the wire contract boto3 and the AWS CLI use).

    Read straight from botocore's data folder: a botocore Session would first register its handlers
    and list every service's folder, a tenth of the endpoint's start-up, for the same document.
    """
    loader = create_loader()
    version = loader.determine_latest_version(SERVICE_NAME, "service-2")
    document, _path = loader.load_data_with_path(f"{SERVICE_NAME}/{version}/service-2")
    return ServiceModel(document, service_name=SERVICE_NAME)


def operation_model(name: str) -> OperationModel:
    """The model of one operation by its name, e.g. "ListDatastores"."""
    return service_model().operation_model(name)


@functools.cache
def error_statuses() -> dict[str, int]:
    """Error code -> HTTP status: the model's error shapes, then the unmodeled codes we answer with."""
    modeled = {s.name: s.metadata["error"]["httpStatusCode"] for s in service_model().error_shapes}
    return {**UNMODELED_ERROR_STATUS, **modeled}


def error_status(code: str) -> int:
    """HTTP status for an error code; an unknown code is a server fault (500)."""
    return error_statuses().get(code, 500)
