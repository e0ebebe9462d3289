"""Input object size and last-modified, looked up on demand with HeadObject and cached."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triage_helpers import INPUT_BUCKET

from ahi.services.input_objects import InputObjects, ObjectInfo, candidate_keys, input_key
from ahi.services.s3_location import S3Problem, S3ProblemKind, S3Uri

PREFIX = S3Uri(INPUT_BUCKET, "dicom/batch-7/")


def test_keys_named_by_input_file() -> None:
    assert input_key(PREFIX, "dicom/batch-7/sub/a.dcm") == "dicom/batch-7/sub/a.dcm"
    assert input_key(PREFIX, "sub/a.dcm") == "dicom/batch-7/sub/a.dcm"
    assert candidate_keys(PREFIX, "sub/a.dcm") == ["dicom/batch-7/sub/a.dcm", "sub/a.dcm"]
    assert input_key(S3Uri(INPUT_BUCKET, ""), "a.dcm") == "a.dcm"


def test_lookups_give_size_and_last_modified_or_a_typed_problem(buckets: Any, s3: Any) -> None:
    s3.put_object(Bucket=INPUT_BUCKET, Key="dicom/batch-7/a.dcm", Body=b"D" * 1234)
    s3.put_object(Bucket=INPUT_BUCKET, Key="dicom/batch-7/sub/b.dcm", Body=b"D" * 10)
    objects = InputObjects(s3, PREFIX)
    found = objects.lookup(["dicom/batch-7/a.dcm", "sub/b.dcm", "dicom/batch-7/gone.dcm"])
    a, b, gone = found.values()
    assert isinstance(a, ObjectInfo) and a.size == 1234 and isinstance(a.last_modified, datetime)
    assert isinstance(b, ObjectInfo) and str(b.uri) == f"s3://{INPUT_BUCKET}/dicom/batch-7/sub/b.dcm"
    assert isinstance(gone, S3Problem) and gone.kind is S3ProblemKind.MISSING
    assert objects.cached("sub/b.dcm") == b and objects.cached("never-asked.dcm") is None


def test_cached_lookups_make_no_new_calls(buckets: Any, s3: Any) -> None:
    s3.put_object(Bucket=INPUT_BUCKET, Key="dicom/batch-7/a.dcm", Body=b"D")
    calls: list[str] = []
    s3.meta.events.register("before-parameter-build.s3.HeadObject", lambda **kw: calls.append(kw["params"]["Key"]))
    objects = InputObjects(s3, PREFIX)
    objects.lookup(["dicom/batch-7/a.dcm"])
    s3.delete_object(Bucket=INPUT_BUCKET, Key="dicom/batch-7/a.dcm")
    again = objects.lookup(["dicom/batch-7/a.dcm"])
    assert calls == ["dicom/batch-7/a.dcm"] and isinstance(again["dicom/batch-7/a.dcm"], ObjectInfo)


def test_a_missing_input_bucket_is_a_problem_not_an_exception(s3: Any, endpoint: Any) -> None:
    result = InputObjects(s3, S3Uri("no-such-input-bucket", "x/")).lookup(["x/a.dcm"])
    assert isinstance(result["x/a.dcm"], S3Problem)
