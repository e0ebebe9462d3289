"""Every error shape of the model reaches boto3 as `client.exceptions.<Code>` with the model's status."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ahi.emulator.errors import ServiceError
from ahi.emulator.handlers import HANDLERS
from ahi.emulator.model import service_model

ERROR_SHAPES = sorted((shape.name, shape.metadata["error"]["httpStatusCode"]) for shape in service_model().error_shapes)


def raising(error: Exception) -> Any:
    def handler(context: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise error

    return handler


def test_the_table_covers_the_model() -> None:
    assert dict(ERROR_SHAPES)["ServiceQuotaExceededException"] == 402
    assert len(ERROR_SHAPES) == 9


@pytest.mark.parametrize(("code", "status"), ERROR_SHAPES)
def test_error_shape_reaches_boto3_as_its_exception(code: str, status: int, mi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(HANDLERS, "ListDatastores", raising(ServiceError(f"{code} for the table test", code=code)))
    with pytest.raises(getattr(mi.exceptions, code)) as caught:
        mi.list_datastores()
    response = caught.value.response
    assert response["Error"] == {"Code": code, "Message": f"{code} for the table test"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["RequestId"]
    assert response["ResponseMetadata"]["RetryAttempts"] == 0


def test_streaming_operation_errors_are_json_too(mi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(HANDLERS, "GetImageFrame", raising(ServiceError("frame format not acceptable", code="NotAcceptableException")))
    with pytest.raises(mi.exceptions.NotAcceptableException) as caught:
        mi.get_image_frame(datastoreId="a" * 32, imageSetId="b" * 32, imageFrameInformation={"imageFrameId": "c" * 32})
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 406


def test_unexpected_exception_is_a_json_internal_server_error_with_a_logged_traceback(
    mi: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(HANDLERS, "ListDatastores", raising(ZeroDivisionError("secret-tag-value")))
    with caplog.at_level(logging.ERROR, logger="emulator"), pytest.raises(mi.exceptions.InternalServerException) as caught:
        mi.list_datastores()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "secret-tag-value" not in caught.value.response["Error"]["Message"]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "emulator")
    assert "unexpected ZeroDivisionError in ListDatastores" in logged
    assert "in handler" in logged  # the frames of the traceback
    assert "secret-tag-value" not in logged
