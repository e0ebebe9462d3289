"""Data stores: typed results, listing across all pages, details, create and delete."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from ahi.services.backoff import Backoff
from ahi.services.errors import AwsCallError
from ahi.services.tags import tag_problems
from ahi.services.validation import FieldProblem, member_problems, shape

STORAGE_FORMATS: tuple[str, ...] = tuple(shape("LosslessStorageFormat").enum)
DATASTORE_STATUSES: tuple[str, ...] = tuple(shape("DatastoreStatus").enum)
#: GetDatastore calls in flight at once when filling in details (its rate limit is 10 TPS, burst 20).
DETAIL_CONCURRENCY = 4


@dataclass(frozen=True)
class Datastore:
    """A data store as the console shows it; `raw` is the last API response it came from."""

    id: str
    name: str
    status: str
    arn: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    kms_key_arn: str | None = None
    storage_format: str | None = None
    lambda_authorizer_arn: str | None = None
    #: True once GetDatastore filled in the key and storage format (ListDatastores does not carry them).
    detailed: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> Datastore:
        return cls(
            id=summary["datastoreId"],
            name=summary["datastoreName"],
            status=summary["datastoreStatus"],
            arn=summary.get("datastoreArn"),
            created_at=summary.get("createdAt"),
            updated_at=summary.get("updatedAt"),
            raw=dict(summary),
        )

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> Datastore:
        """From GetDatastore's `datastoreProperties`: the summary fields plus key, format and authorizer."""
        return cls.from_summary(properties).with_details_of_properties(properties)

    def with_details_of_properties(self, properties: Mapping[str, Any]) -> Datastore:
        return replace(
            self,
            kms_key_arn=properties.get("kmsKeyArn"),
            storage_format=properties.get("losslessStorageFormat"),
            lambda_authorizer_arn=properties.get("lambdaAuthorizerArn"),
            detailed=True,
        )

    def with_details_of(self, detailed: Datastore) -> Datastore:
        """This summary plus the immutable details (key, format, authorizer) of an earlier GetDatastore."""
        return replace(
            self.with_details_of_properties(detailed.raw),
            arn=self.arn or detailed.arn,
            raw={**detailed.raw, **self.raw},
        )


@dataclass(frozen=True)
class CreateDatastoreRequest:
    """What the create form collects."""

    name: str
    storage_format: str | None = None
    kms_key_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    client_token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def problems(self) -> list[FieldProblem]:
        """Every rule the request breaks, by the model's constraints (checked before sending)."""
        problems = member_problems("CreateDatastore", "datastoreName", self.name)
        if self.storage_format is not None:
            problems += member_problems("CreateDatastore", "losslessStorageFormat", self.storage_format)
        if self.kms_key_arn:
            problems += member_problems("CreateDatastore", "kmsKeyArn", self.kms_key_arn)
        return problems + tag_problems(self.tags)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"datastoreName": self.name, "clientToken": self.client_token}
        if self.storage_format:
            params["losslessStorageFormat"] = self.storage_format
        if self.kms_key_arn:
            params["kmsKeyArn"] = self.kms_key_arn
        if self.tags:
            params["tags"] = dict(self.tags)
        return params


class DatastoreService:
    """Data store calls on one medical-imaging client; remembers each store's immutable details."""

    def __init__(self, client: Any, backoff: Backoff | None = None) -> None:
        self.client = client
        self.backoff = backoff or Backoff()
        self._details: dict[str, Datastore] = {}

    def list(self, status: str | None = None, page_size: int | None = None) -> list[Datastore]:
        """Every data store across all pages (ListDatastores), optionally of one status."""
        params: dict[str, Any] = {}
        if status:
            params["datastoreStatus"] = status
        if page_size:
            params["PaginationConfig"] = {"PageSize": page_size}

        def fetch() -> list[Datastore]:
            pages = self.client.get_paginator("list_datastores").paginate(**params)
            return [Datastore.from_summary(s) for page in pages for s in page.get("datastoreSummaries", [])]

        return self.backoff.call("ListDatastores", fetch)

    def list_detailed(self, status: str | None = None, page_size: int | None = None) -> list[Datastore]:
        """All data stores, with key and storage format from GetDatastore for stores not seen before."""
        return self.with_details(self.list(status, page_size))

    def with_known_details(self, summaries: list[Datastore]) -> list[Datastore]:
        """Summaries with the key and storage format already fetched, without a call."""
        return [s.with_details_of(self._details[s.id]) if s.id in self._details else s for s in summaries]

    def with_details(self, summaries: list[Datastore]) -> list[Datastore]:
        """Summaries with key and storage format, from GetDatastore for stores not seen before."""
        missing = [s.id for s in summaries if s.id not in self._details]
        if missing:
            with ThreadPoolExecutor(max_workers=DETAIL_CONCURRENCY) as pool:
                for found in pool.map(self._get_or_none, missing):
                    if found is not None:
                        self._details[found.id] = found
        return self.with_known_details(summaries)

    def get(self, datastore_id: str) -> Datastore:
        response = self.backoff.call("GetDatastore", lambda: self.client.get_datastore(datastoreId=datastore_id))
        datastore = Datastore.from_properties(response["datastoreProperties"])
        self._details[datastore.id] = datastore
        return datastore

    def create(self, request: CreateDatastoreRequest) -> tuple[str, str]:
        """CreateDatastore; returns (datastoreId, datastoreStatus). Refuses locally broken input."""
        problems = request.problems()
        if problems:
            raise AwsCallError("CreateDatastore", "ValidationException", "; ".join(map(str, problems)))
        response = self.backoff.call("CreateDatastore", lambda: self.client.create_datastore(**request.params()))
        return response["datastoreId"], response["datastoreStatus"]

    def delete(self, datastore_id: str) -> str:
        """DeleteDatastore; returns the new status (DELETING)."""
        response = self.backoff.call(
            "DeleteDatastore", lambda: self.client.delete_datastore(datastoreId=datastore_id)
        )
        return str(response["datastoreStatus"])

    def _get_or_none(self, datastore_id: str) -> Datastore | None:
        try:
            return self.get(datastore_id)
        except AwsCallError:
            return None
