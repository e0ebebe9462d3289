"""CDK's `Custom::S3AutoDeleteObjects` answered in-process, as its provider Lambda would answer it.

A CDK bucket with `autoDeleteObjects` gets this custom resource, whose Node.js provider empties the
bucket when the resource is deleted. moto would run the provider in Docker and leave the stack
CREATE_IN_PROGRESS without it, so the endpoint plays the provider: create and update succeed at once,
delete empties the bucket (docs/cloudformation.md#cdk-stacks). The provider's Lambda function itself is
still created by moto from the template, so its code object must be in the bootstrap assets bucket.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel

TYPE_NAME = "Custom::S3AutoDeleteObjects"


class S3AutoDeleteObjects(CloudFormationModel):
    """One bucket whose objects go when the resource does."""

    def __init__(self, account_id: str, bucket_name: str, logical_id: str, stack_resources: Any = None) -> None:
        self.account_id, self.bucket_name, self.logical_id = account_id, bucket_name, logical_id
        #: The stack's resource map: whether moto already went past the bucket when the stack is deleted.
        self.stack_resources = stack_resources

    @staticmethod
    def cloudformation_type() -> str:
        return TYPE_NAME

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return f"{self.logical_id}-{self.bucket_name}"

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> S3AutoDeleteObjects:
        from moto.cloudformation.models import cloudformation_backends

        bucket = str((cloudformation_json.get("Properties") or {}).get("BucketName", ""))
        stack = cloudformation_backends[account_id][region_name].stacks.get(kwargs.get("StackId", ""))
        return cls(account_id, bucket, kwargs.get("LogicalId", resource_name), getattr(stack, "resource_map", None))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: S3AutoDeleteObjects, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> S3AutoDeleteObjects:
        bucket = str((cloudformation_json.get("Properties") or {}).get("BucketName", ""))
        if bucket != original_resource.bucket_name:
            original_resource.delete(account_id, region_name)
        return cls(account_id, bucket, original_resource.logical_id, original_resource.stack_resources)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        bucket = str((cloudformation_json.get("Properties") or {}).get("BucketName", ""))
        cls(account_id, bucket, resource_name).delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """Empty the bucket, as the provider does; a bucket already gone is fine."""
        from moto.s3.exceptions import MissingBucket
        from moto.s3.models import s3_backends

        backend = s3_backends[self.account_id]["aws"]
        try:
            bucket = backend.get_bucket(self.bucket_name)
        except MissingBucket:
            return
        for name in list(bucket.keys.keys()):
            backend.delete_object(self.bucket_name, name, bypass=True)
        if self._bucket_already_passed():
            backend.delete_bucket(self.bucket_name)

    def _bucket_already_passed(self) -> bool:
        """Whether moto already deleted the bucket's resource, skipping the bucket because it was not empty yet.

        CloudFormation deletes this resource before the bucket it depends on; moto deletes in no order and
        leaves a bucket with objects in place, so the bucket goes here once it is empty.
        """
        parsed = getattr(self.stack_resources, "_parsed_resources", None)
        if parsed is None:
            return False
        return not any(getattr(resource, "name", None) == self.bucket_name for resource in parsed.values())
