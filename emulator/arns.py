"""medical-imaging ARNs: build them for our resources and parse the ones callers send."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ahi.emulator.errors import ValidationException

SERVICE = "medical-imaging"
#: The partition this endpoint serves; other partitions' ARNs are well-formed but name nothing here.
PARTITION = "aws"

#: The model's `Arn` pattern (botocore shape `Arn`), anchored, with the pieces captured.
RESOURCE_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-us-gov|-iso|-iso-b|-cn)?):medical-imaging:(?P<region>[a-z0-9-]+)"
    r":(?P<account>[0-9]{12}):datastore/(?P<datastore>[0-9a-z]{32})(?:/imageset/(?P<imageset>[0-9a-z]{32}))?"
)


@dataclass(frozen=True)
class ResourceArn:
    """A parsed data store or image set ARN."""

    partition: str
    region: str
    account_id: str
    datastore_id: str
    image_set_id: str | None = None

    @property
    def kind(self) -> str:
        """`datastore` or `imageset`, the ARN's resource type."""
        return "datastore" if self.image_set_id is None else "imageset"

    def __str__(self) -> str:
        resource = f"datastore/{self.datastore_id}"
        if self.image_set_id is not None:
            resource += f"/imageset/{self.image_set_id}"
        return f"arn:{self.partition}:{SERVICE}:{self.region}:{self.account_id}:{resource}"


def datastore_arn(region: str, account_id: str, datastore_id: str) -> str:
    """The ARN of a data store in this endpoint's partition."""
    return str(ResourceArn(PARTITION, region, account_id, datastore_id))


def image_set_arn(region: str, account_id: str, datastore_id: str, image_set_id: str) -> str:
    """The ARN of an image set (lowercase `imageset` in the ARN, unlike the HTTP paths)."""
    return str(ResourceArn(PARTITION, region, account_id, datastore_id, image_set_id))


def parse_resource_arn(value: str, member: str = "resourceArn") -> ResourceArn:
    """Parse a data store or image set ARN; anything else is a ValidationException naming `member`."""
    match = RESOURCE_ARN.fullmatch(value)
    if match is None:
        raise ValidationException(
            f"{member} {value!r} is not a medical-imaging data store or image set ARN "
            "(arn:aws:medical-imaging:<region>:<account>:datastore/<id>[/imageset/<id>])"
        )
    return ResourceArn(
        partition=match["partition"],
        region=match["region"],
        account_id=match["account"],
        datastore_id=match["datastore"],
        image_set_id=match["imageset"],
    )
