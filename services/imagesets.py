"""Image sets: typed search, get, versions, metadata, update, copy and delete on one medical-imaging client.

Update, copy and delete are asynchronous (docs/service.md#image-set-states): each answers LOCKED at once and the
console follows GetImageSet until the state leaves LOCKED. `settled` says when that is.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ahi.services.atomic_file import atomic_text_file
from ahi.services.backoff import Backoff
from ahi.services.errors import AwsCallError
from ahi.services.metadata_patch import MetadataUpdate

PAGE_SIZE = 50
#: The largest metadata document (unpacked JSON) the console reads: the service's quota on a version's
#: ImageSetMetadata (50 MB per import, copy or update), so no document the service holds is over it
#: (docs/console-limits.md). Past it the body is refused unparsed, never read on.
METADATA_JSON_CAP = 50 * 1024 * 1024
#: Bytes of the gzip body read at a time while it is inflated, and the most one inflate step writes
#: (zlib builds each step's output in blocks and joins them, so a large step costs twice its size).
READ_CHUNK_BYTES = 256 * 1024
INFLATE_PIECE_BYTES = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
#: Workflow statuses that end an asynchronous write badly; the version's `message` says why.
FAILED_STATUSES = frozenset({"COPY_FAILED", "UPDATE_FAILED", "IMPORT_FAILED"})


def image_set_arn(region: str, account_id: str, datastore_id: str, image_set_id: str) -> str:
    """The image set's ARN (docs/service.md#arns); the partition follows the region."""
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:medical-imaging:{region}:{account_id}:datastore/{datastore_id}/imageset/{image_set_id}"


@dataclass(frozen=True)
class ImageSetSummary:
    """One SearchImageSets result; `dicom` is its DICOMTags."""

    id: str
    datastore_id: str
    version: int | None
    created_at: datetime | None
    updated_at: datetime | None
    dicom: Mapping[str, Any] = field(default_factory=dict)
    is_primary: bool | None = None
    storage_tier: str | None = None
    last_accessed_at: datetime | None = None
    arn: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_summary(cls, datastore_id: str, summary: Mapping[str, Any], arn: str | None = None) -> ImageSetSummary:
        return cls(
            id=summary["imageSetId"],
            datastore_id=datastore_id,
            version=summary.get("version"),
            created_at=summary.get("createdAt"),
            updated_at=summary.get("updatedAt"),
            dicom=dict(summary.get("DICOMTags") or {}),
            is_primary=summary.get("isPrimary"),
            storage_tier=summary.get("storageTier"),
            last_accessed_at=summary.get("lastAccessedAt"),
            arn=arn,
            raw=dict(summary),
        )


@dataclass(frozen=True)
class ImageSetState:
    """One version's properties (GetImageSet, ListImageSetVersions, or a write's immediate answer)."""

    id: str
    datastore_id: str
    version_id: str | None
    state: str
    workflow_status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    message: str | None = None
    arn: str | None = None
    is_primary: bool | None = None
    forced: bool | None = None
    storage_tier: str | None = None
    last_accessed_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_response(cls, datastore_id: str, response: Mapping[str, Any]) -> ImageSetState:
        """From any of the shapes: `versionId` or `latestVersionId`; `imageSetWorkflowStatus` or, in
        ListImageSetVersions, `ImageSetWorkflowStatus` (the model spells it with a capital I there)."""
        body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        return cls(
            id=body["imageSetId"],
            datastore_id=body.get("datastoreId", datastore_id),
            version_id=body.get("versionId") or body.get("latestVersionId"),
            state=body.get("imageSetState", ""),
            workflow_status=body.get("imageSetWorkflowStatus") or body.get("ImageSetWorkflowStatus"),
            created_at=body.get("createdAt"),
            updated_at=body.get("updatedAt"),
            deleted_at=body.get("deletedAt"),
            message=body.get("message"),
            arn=body.get("imageSetArn"),
            is_primary=body.get("isPrimary"),
            forced=(body.get("overrides") or {}).get("forced"),
            storage_tier=body.get("storageTier"),
            last_accessed_at=body.get("lastAccessedAt"),
            raw=body,
        )

    @property
    def locked(self) -> bool:
        return self.state == "LOCKED"

    @property
    def failed(self) -> bool:
        return self.workflow_status in FAILED_STATUSES


@dataclass(frozen=True)
class SearchPage:
    """One page of SearchImageSets: its summaries, the token for the next page, the sort echoed back."""

    summaries: list[ImageSetSummary]
    next_token: str | None
    sort: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CopyResult:
    """CopyImageSet's immediate answer: both image sets, LOCKED while the copy runs."""

    source: ImageSetState
    destination: ImageSetState


@dataclass(frozen=True)
class MetadataDocument:
    """A version's metadata: the parsed document and its size on the wire (gzip) and unpacked."""

    document: Mapping[str, Any]
    compressed_bytes: int
    json_bytes: int


class DocumentTooLarge(AwsCallError):
    """A metadata document past the cap, unpacked or as sent: refused before it is parsed, its size a lower bound."""

    def __init__(self, cap: int, compressed_read: int, unpacked_at_least: int) -> None:
        super().__init__(
            "GetImageSetMetadata",
            "DocumentTooLarge",
            f"the metadata document is more than {cap / 2**20:,.0f} MiB (the most the console reads); "
            f"stopped after {compressed_read:,} bytes of its body",
        )
        self.cap = cap
        self.compressed_read = compressed_read
        self.unpacked_at_least = unpacked_at_least


def inflate_bounded(chunks: Iterable[bytes], cap: int) -> tuple[bytes, int]:
    """The unpacked body (gzip, any number of members, or plain JSON) and its gzip size; DocumentTooLarge
    as soon as more than `cap` bytes would come out, so a small gzip bomb never expands in memory.
    Pieces are kept apart until the end, so a refusal never holds more than about `cap` bytes."""
    pieces: list[bytes] = []
    size = compressed = 0
    inflater: Any = None
    gzipped: bool | None = None
    pending = b""
    for chunk in chunks:
        compressed += len(chunk)
        if compressed > cap + cap // 64 + READ_CHUNK_BYTES:  # no real gzip of `cap` bytes is this long
            raise DocumentTooLarge(cap, compressed, size)
        if gzipped is None:
            pending += chunk
            if len(pending) < len(_GZIP_MAGIC):
                continue
            gzipped, chunk, pending = pending.startswith(_GZIP_MAGIC), pending, b""
        while chunk:
            if not gzipped:
                piece, chunk = chunk, b""
            else:
                if inflater is None:
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                try:
                    piece = inflater.decompress(chunk, min(cap - size + 1, INFLATE_PIECE_BYTES))
                except zlib.error as exc:
                    raise AwsCallError("GetImageSetMetadata", "InvalidDocument", f"the metadata body is not valid gzip: {exc}") from exc
                chunk = inflater.unconsumed_tail
                if inflater.eof:
                    chunk, inflater = inflater.unused_data + chunk, None
            size += len(piece)
            if size > cap:
                raise DocumentTooLarge(cap, compressed, size)
            pieces.append(piece)
    pieces.append(pending)
    if inflater is not None:
        raise AwsCallError("GetImageSetMetadata", "InvalidDocument", "the metadata body ends inside its gzip stream")
    return b"".join(pieces), compressed


def readable_version(latest: ImageSetState) -> str | None:
    """The newest version whose metadata can be read now: the latest, or while a write is still
    producing it (LOCKED), the version before it (the service answers ConflictException for the new one)."""
    if not latest.locked or not latest.version_id or not latest.version_id.isdigit():
        return latest.version_id
    previous = int(latest.version_id) - 1
    return str(previous) if previous >= 1 else latest.version_id


def settled(state: ImageSetState | None) -> bool:
    """True once an asynchronous write is over: the image set is not LOCKED (or is gone: None)."""
    return state is None or not state.locked


class ImageSetService:
    """Image-set calls on one medical-imaging client; `account_id` lets search results carry ARNs."""

    def __init__(
        self,
        client: Any,
        backoff: Backoff | None = None,
        account_id: Callable[[], str | None] | None = None,
        writes_client: Any = None,
    ) -> None:
        self.client = client
        #: Copy and update carry no clientToken, so they go through a client that never resends them.
        self.writes_client = writes_client if writes_client is not None else client
        self.backoff = backoff or Backoff()
        self._account_id = account_id or (lambda: None)
        #: Results per SearchImageSets page (the model's maximum, 50, unless a caller wants fewer).
        self.page_size = PAGE_SIZE
        #: The most unpacked metadata JSON `metadata` reads (DocumentTooLarge past it).
        self.metadata_cap = METADATA_JSON_CAP

    def arn(self, datastore_id: str, image_set_id: str) -> str | None:
        account, region = self._account_id(), self.client.meta.region_name
        return image_set_arn(region, account, datastore_id, image_set_id) if account and region else None

    # --- reads ---------------------------------------------------------------------------------

    def search(self, datastore_id: str, criteria: Mapping[str, Any], next_token: str | None = None) -> SearchPage:
        """One page of SearchImageSets (the console loads more on request, not everything at once)."""
        params: dict[str, Any] = {"datastoreId": datastore_id, "searchCriteria": dict(criteria), "maxResults": self.page_size}
        if next_token:
            params["nextToken"] = next_token
        response = self.backoff.call("SearchImageSets", lambda: self.client.search_image_sets(**params))
        summaries = [
            ImageSetSummary.from_summary(datastore_id, item, self.arn(datastore_id, item["imageSetId"]))
            for item in response.get("imageSetsMetadataSummaries", [])
        ]
        return SearchPage(summaries, response.get("nextToken"), response.get("sort"))

    def get(self, datastore_id: str, image_set_id: str, version_id: str | None = None) -> ImageSetState:
        params = {"datastoreId": datastore_id, "imageSetId": image_set_id}
        if version_id:
            params["versionId"] = version_id
        response = self.backoff.call("GetImageSet", lambda: self.client.get_image_set(**params))
        return ImageSetState.from_response(datastore_id, response)

    def get_or_none(self, datastore_id: str, image_set_id: str) -> ImageSetState | None:
        """The latest version, or None once the image set is gone (ResourceNotFoundException)."""
        try:
            return self.get(datastore_id, image_set_id)
        except AwsCallError as error:
            if error.code == "ResourceNotFoundException":
                return None
            raise

    def versions(self, datastore_id: str, image_set_id: str) -> list[ImageSetState]:
        """Every version across all pages of ListImageSetVersions, newest first."""

        def fetch() -> list[ImageSetState]:
            pages = self.client.get_paginator("list_image_set_versions").paginate(
                datastoreId=datastore_id, imageSetId=image_set_id
            )
            return [
                ImageSetState.from_response(datastore_id, item)
                for page in pages
                for item in page.get("imageSetPropertiesList", [])
            ]

        found = self.backoff.call("ListImageSetVersions", fetch)
        return sorted(found, key=lambda v: int(v.version_id or 0), reverse=True)

    def metadata(self, datastore_id: str, image_set_id: str, version_id: str | None = None) -> MetadataDocument:
        """GetImageSetMetadata, gunzipped as it streams (the body is gzip whatever the client asks), then
        parsed; DocumentTooLarge when it unpacks past `metadata_cap`."""
        params = {"datastoreId": datastore_id, "imageSetId": image_set_id}
        if version_id:
            params["versionId"] = version_id
        cap = self.metadata_cap

        def fetch() -> tuple[bytes, int]:
            response = self.client.get_image_set_metadata(**params)
            body = response["imageSetMetadataBlob"]
            try:
                return inflate_bounded(body.iter_chunks(READ_CHUNK_BYTES), cap)
            finally:
                body.close()

        raw, compressed = self.backoff.call("GetImageSetMetadata", fetch)
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise AwsCallError("GetImageSetMetadata", "InvalidDocument", f"the metadata document is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise AwsCallError("GetImageSetMetadata", "InvalidDocument", "the metadata document is not a JSON object")
        return MetadataDocument(document, compressed, len(raw))

    def export_raw_metadata(
        self, datastore_id: str, image_set_id: str, version_id: str | None, path: str | os.PathLike[str], cap: int
    ) -> RawExport:
        """Stream a version's document, unpacked but not parsed, to a file of at most `cap` bytes (for a
        document too large to open)."""
        params = {"datastoreId": datastore_id, "imageSetId": image_set_id}
        if version_id:
            params["versionId"] = version_id

        def fetch() -> RawExport:
            response = self.client.get_image_set_metadata(**params)
            body = response["imageSetMetadataBlob"]
            try:
                return write_inflated(body.iter_chunks(READ_CHUNK_BYTES), path, cap)
            finally:
                body.close()

        return self.backoff.call("GetImageSetMetadata", fetch)

    # --- writes --------------------------------------------------------------------------------

    def update(
        self, datastore_id: str, image_set_id: str, latest_version_id: str, update: MetadataUpdate, force: bool = False
    ) -> ImageSetState:
        """UpdateImageSetMetadata with a patch; answers LOCKED/UPDATING with the new version."""
        problems = update.problems()
        if problems:
            raise AwsCallError("UpdateImageSetMetadata", "ValidationException", "; ".join(map(str, problems)))
        return self._update(datastore_id, image_set_id, latest_version_id, update.payload(), force)

    def revert(self, datastore_id: str, image_set_id: str, latest_version_id: str, to_version_id: str) -> ImageSetState:
        """UpdateImageSetMetadata with `revertToVersionId`: a new version with an older one's metadata."""
        return self._update(datastore_id, image_set_id, latest_version_id, {"revertToVersionId": to_version_id}, False)

    def _update(
        self, datastore_id: str, image_set_id: str, latest_version_id: str, updates: Mapping[str, Any], force: bool
    ) -> ImageSetState:
        params: dict[str, Any] = {
            "datastoreId": datastore_id,
            "imageSetId": image_set_id,
            "latestVersionId": latest_version_id,
            "updateImageSetMetadataUpdates": dict(updates),
        }
        if force:
            params["force"] = True
        response = self.backoff.call("UpdateImageSetMetadata", lambda: self.writes_client.update_image_set_metadata(**params))
        return ImageSetState.from_response(datastore_id, response)

    def copy(
        self,
        datastore_id: str,
        source_id: str,
        source_version_id: str,
        destination_id: str | None = None,
        destination_version_id: str | None = None,
        *,
        force: bool = False,
        promote_to_primary: bool = False,
    ) -> CopyResult:
        """CopyImageSet into a new image set, or into `destination_id` (its latest version looked up if not given)."""
        information: dict[str, Any] = {"sourceImageSet": {"latestVersionId": source_version_id}}
        if destination_id:
            version = destination_version_id or self.get(datastore_id, destination_id).version_id
            information["destinationImageSet"] = {"imageSetId": destination_id, "latestVersionId": version}
        params: dict[str, Any] = {
            "datastoreId": datastore_id,
            "sourceImageSetId": source_id,
            "copyImageSetInformation": information,
        }
        if force:
            params["force"] = True
        if promote_to_primary:
            params["promoteToPrimary"] = True
        response = self.backoff.call("CopyImageSet", lambda: self.writes_client.copy_image_set(**params))
        return CopyResult(
            ImageSetState.from_response(datastore_id, response["sourceImageSetProperties"]),
            ImageSetState.from_response(datastore_id, response["destinationImageSetProperties"]),
        )

    def delete(self, datastore_id: str, image_set_id: str) -> ImageSetState:
        """DeleteImageSet; answers LOCKED/DELETING."""
        response = self.backoff.call(
            "DeleteImageSet", lambda: self.client.delete_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
        )
        return ImageSetState.from_response(datastore_id, response)


@dataclass(frozen=True)
class RawExport:
    """A document streamed to a file unparsed: where, how many bytes, and whether it was cut at the cap."""

    path: Path
    written: int
    cut: bool


def write_inflated(chunks: Iterable[bytes], path: str | os.PathLike[str], cap: int) -> RawExport:
    """Unpack a gzip (or plain) stream into a file chunk by chunk, stopping at `cap` bytes written."""
    target = Path(path).expanduser()
    inflater: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
    gzipped: bool | None = None
    written = 0
    with open(target, "wb") as out:
        for chunk in chunks:
            if gzipped is None:
                gzipped = chunk.startswith(_GZIP_MAGIC)
            while chunk:
                if gzipped:
                    try:
                        piece = inflater.decompress(chunk, READ_CHUNK_BYTES)
                    except zlib.error as exc:
                        raise AwsCallError("GetImageSetMetadata", "InvalidDocument", f"the metadata body is not valid gzip: {exc}") from exc
                    chunk = inflater.unconsumed_tail
                    if inflater.eof:
                        chunk, inflater = inflater.unused_data + chunk, zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    piece, chunk = chunk, b""
                if written + len(piece) > cap:
                    out.write(piece[: cap - written])
                    return RawExport(target, cap, True)
                out.write(piece)
                written += len(piece)
    return RawExport(target, written, False)


def export_metadata(document: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a metadata document as indented JSON; atomic, so no half-written file is left behind."""
    with atomic_text_file(path) as out:
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
    return Path(path).expanduser()
