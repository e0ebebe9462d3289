"""`AWS::HealthImaging::Datastore` for moto's CloudFormation: create, replace and delete data stores in our store.

Imported only once moto is loaded (it subclasses moto's model); `register()` makes moto's template
parser know the type. Properties, return values and waits: docs/cloudformation.md#the-resource-type.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from ahi.emulator.cloudformation.runtime_scope import current_runtime
from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ServiceError
from ahi.emulator.handlers import datastores
from ahi.emulator.model import error_status, operation_model
from ahi.emulator.protocol.validate import validate_input
from ahi.emulator.runtime import Runtime
from ahi.emulator.store import datastores as rows

TYPE_NAME = "AWS::HealthImaging::Datastore"
PROPERTIES = ("DatastoreName", "KmsKeyArn", "Tags")
ATTRIBUTES = ("CreatedAt", "DatastoreArn", "DatastoreId", "DatastoreStatus", "UpdatedAt")
#: Longest a stack waits for a data store to leave CREATING or DELETING (the endpoint's transition is shorter).
SETTLE_SECONDS = 60.0
POLL_SECONDS = 0.02


class ResourceFailure(Exception):
    """A resource handler failed; the stack operation fails with this reason, as CloudFormation reports it."""

    def __init__(self, logical_id: str, physical_id: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id, self.physical_id, self.reason = logical_id, physical_id, reason


class HealthImagingDatastore(CloudFormationModel):
    """One data store a stack owns: its id, account and region; every attribute is read from the store.

    It holds no runtime (moto's state is saved by pickling it): the endpoint handling the request lends its own.
    """

    def __init__(self, account_id: str, region: str, datastore_id: str, properties: dict[str, Any]) -> None:
        self.account_id, self.region = account_id, region
        self.datastore_id = datastore_id
        self.properties = properties

    @property
    def runtime(self) -> Runtime:
        return _runtime(getattr(self, "logical_resource_id", self.datastore_id), self.datastore_id)

    @staticmethod
    def cloudformation_type() -> str:
        return TYPE_NAME

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DatastoreName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        """What `Ref` returns: the data store id (the type's primary identifier)."""
        return self.datastore_id

    def is_created(self) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        store = self._row()
        values = {
            "DatastoreId": self.datastore_id,
            "DatastoreArn": store.arn,
            "DatastoreStatus": store.status,
            "CreatedAt": _iso(store.created_at),
            "UpdatedAt": _iso(store.updated_at),
        }
        if attribute_name not in values:
            raise UnformattedGetAttTemplateException()
        return values[attribute_name]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> HealthImagingDatastore:
        logical_id = kwargs.get("LogicalId", resource_name)
        token_seed = f"{kwargs.get('StackId', '')}/{logical_id}"
        return _create(resource_name, cloudformation_json.get("Properties") or {}, account_id, region_name, logical_id, token_seed)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: HealthImagingDatastore, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> HealthImagingDatastore:
        """Every property requires replacement: a changed one creates a new data store, then deletes the old one."""
        properties = cloudformation_json.get("Properties") or {}
        if properties == original_resource.properties:
            return original_resource
        logical_id = original_resource.logical_resource_id
        replacement = _create(
            new_resource_name, properties, account_id, region_name, logical_id, f"{original_resource.datastore_id}/replacement"
        )
        original_resource.delete(account_id, region_name)
        return replacement

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        HealthImagingDatastore(account_id, region_name, resource_name, {}).delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """DeleteDatastore, then wait until it is DELETED; one already gone counts as deleted, as CloudFormation has it."""
        logical_id = getattr(self, "logical_resource_id", self.datastore_id)
        context = _context(self.runtime, self.account_id, self.region, "DeleteDatastore")
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                store = self._find()
                if store is None:
                    return
                if store.status != "DELETED":
                    datastores.delete_datastore(context, {"datastoreId": self.datastore_id})
                break
            except ServiceError as error:
                if error.code == "ResourceNotFoundException":
                    return
                if error.code != "ConflictException" or not self._only_deleting() or time.monotonic() > deadline:
                    raise ResourceFailure(logical_id, self.datastore_id, _reason(error)) from None
                time.sleep(POLL_SECONDS)
        self._settled("DELETING", logical_id)

    def _only_deleting(self) -> bool:
        """Whether every image set the data store still holds is being deleted (DeleteImageSet answered, not settled).

        The stack's delete waits for those rather than failing: a user who deletes every image set and then
        the stack, as AWS's own example does, gets a deleted stack (docs/cloudformation.md#the-resource-type).
        """
        with self.runtime.store.read() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM image_sets s JOIN image_set_versions v"
                " ON v.image_set_id = s.image_set_id AND v.version = s.latest_version"
                " WHERE s.datastore_id = ? AND v.state != 'DELETED' AND v.workflow_status != 'DELETING'",
                (self.datastore_id,),
            ).fetchone()
        return int(row[0]) == 0

    def _find(self) -> rows.Datastore | None:
        with self.runtime.store.read() as conn:
            return rows.get_datastore(conn, self.account_id, self.region, self.datastore_id, self.runtime.now())

    def _row(self) -> rows.Datastore:
        store = self._find()
        if store is None:
            raise ResourceFailure(self.datastore_id, self.datastore_id, f"Data store {self.datastore_id} does not exist")
        return store

    def _settled(self, passing: str, logical_id: str) -> str:
        """Wait while the data store is `passing` (CREATING or DELETING); its status then."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while (status := self._row().status) == passing:
            if time.monotonic() > deadline:
                raise ResourceFailure(logical_id, self.datastore_id, f"Data store {self.datastore_id} stayed {passing}")
            time.sleep(POLL_SECONDS)
        return status


def _create(
    name: str, properties: dict[str, Any], account_id: str, region: str, logical_id: str, token_seed: str
) -> HealthImagingDatastore:
    """CreateDatastore through our handler, then wait until the data store leaves CREATING (CREATE_FAILED fails)."""
    runtime = _runtime(logical_id, "")
    unknown = sorted(set(properties) - set(PROPERTIES))
    if unknown:
        raise ResourceFailure(logical_id, "", f"Encountered unsupported properties in {{{TYPE_NAME}}}: {unknown}")
    tags = properties.get("Tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ResourceFailure(logical_id, "", "Properties validation failed: Tags must be a map of strings to strings")
    params: dict[str, Any] = {"datastoreName": str(properties.get("DatastoreName") or name), "tags": dict(tags)}
    if properties.get("KmsKeyArn") is not None:
        params["kmsKeyArn"] = str(properties["KmsKeyArn"])
    digest = hashlib.sha256(json.dumps([token_seed, params], sort_keys=True).encode()).hexdigest()
    params["clientToken"] = digest[:64]
    context = _context(runtime, account_id, region, "CreateDatastore")
    try:
        validate_input(operation_model("CreateDatastore").input_shape, params)
        datastore_id = datastores.create_datastore(context, params)["datastoreId"]
    except ServiceError as error:
        raise ResourceFailure(logical_id, "", _reason(error)) from None
    resource = HealthImagingDatastore(account_id, region, datastore_id, properties)
    if resource._settled("CREATING", logical_id) != "ACTIVE":
        raise ResourceFailure(logical_id, datastore_id, f"Data store {datastore_id} is CREATE_FAILED")
    return resource


def _runtime(logical_id: str, physical_id: str) -> Runtime:
    runtime = current_runtime()
    if runtime is None:
        raise ResourceFailure(logical_id, physical_id, "No local endpoint is handling this stack operation")
    return runtime


def _context(runtime: Runtime, account_id: str, region: str, operation: str) -> RequestContext:
    return RequestContext(operation=operation, account_id=account_id, region=region, request_id=str(uuid.uuid4()), runtime=runtime)


def _reason(error: ServiceError) -> str:
    """The failure as CloudFormation shows a resource handler's error."""
    status = error.status or error_status(error.code)
    return f'Resource handler returned message: "{error.message}" (Service: MedicalImaging, Status Code: {status}, Error Code: {error.code})'


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def register() -> None:
    """Make moto's template parser know our types (it caches its list of CloudFormationModel subclasses).

    moto sends every `Custom::` type to a Lambda it runs in Docker, so the types answered here are looked
    up before that rule.
    """
    from ahi.emulator.cloudformation.cdk_auto_delete import S3AutoDeleteObjects

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    own: dict[str, type[CloudFormationModel]] = {TYPE_NAME: HealthImagingDatastore, S3AutoDeleteObjects.cloudformation_type(): S3AutoDeleteObjects}
    moto_lookup = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> type[CloudFormationModel]:
        return own.get(resource_type) or moto_lookup(resource_type)

    parsing.resource_class_from_type = resource_class_from_type  # type: ignore[assignment]

