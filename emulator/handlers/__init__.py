"""The dispatch table: operation name -> handler function.

A handler takes the request context and the parsed, validated input (member names as in the
botocore model, Python values: str, int, bool, datetime, bytes, dict, list) and returns the output
dict in the same form. It raises `emulator.errors.ServiceError` subclasses for failures.
"""

from __future__ import annotations

from typing import Any, Callable

from ahi.emulator.context import RequestContext
from ahi.emulator.handlers import datastores, imagesets_read, imagesets_write, jobs, search, tags

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]

#: One handler for each operation of the medical-imaging model, and nothing else.
HANDLERS: dict[str, Handler] = {
    "CreateDatastore": datastores.create_datastore,
    "GetDatastore": datastores.get_datastore,
    "ListDatastores": datastores.list_datastores,
    "DeleteDatastore": datastores.delete_datastore,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsForResource": tags.list_tags_for_resource,
    "StartDICOMImportJob": jobs.start_dicom_import_job,
    "GetDICOMImportJob": jobs.get_dicom_import_job,
    "ListDICOMImportJobs": jobs.list_dicom_import_jobs,
    "GetImageSet": imagesets_read.get_image_set,
    "ListImageSetVersions": imagesets_read.list_image_set_versions,
    "GetImageSetMetadata": imagesets_read.get_image_set_metadata,
    "GetImageFrame": imagesets_read.get_image_frame,
    "UpdateImageSetMetadata": imagesets_write.update_image_set_metadata,
    "CopyImageSet": imagesets_write.copy_image_set,
    "DeleteImageSet": imagesets_write.delete_image_set,
    "SearchImageSets": search.search_image_sets,
}
