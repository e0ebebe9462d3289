"""EventBridge events of the local endpoint: a user's rule with an SQS target receives them, in order (docs/events.md)."""

from __future__ import annotations

import json
import threading
from typing import Any

from local_endpoints import until

from ahi.emulator.demo.phantoms import ct_series
from ahi.emulator.events.publisher import PUBLISHER
from ahi.emulator.events.saved_rules import load_moto_for_saved_rules

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"


def received(sqs: Any, queue_url: str, datastore_id: str, count: int) -> list[dict[str, Any]]:
    """The first `count` events of the data store the queue got, in the order they arrived.

    Events of other data stores are skipped: an earlier test's endpoint in this process (same account and
    region) may still have a timed data store event waiting in the publisher.
    """
    events: list[dict[str, Any]] = []

    def enough() -> bool:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(message["Body"])
            if event["detail"].get("datastoreId") == datastore_id:
                events.append(event)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(events) >= count

    until(enough, f"{count} events")
    return events


def active(mi: Any, datastore_id: str, image_set_id: str) -> dict[str, Any]:
    return dict(until(lambda: (s := mi.get_image_set(datastoreId=datastore_id, imageSetId=image_set_id))["imageSetState"] != "LOCKED" and s))


def test_a_rule_with_a_queue_target_gets_the_events_in_order(make_client: Any, mi: Any, s3: Any) -> None:
    sqs, events = make_client("sqs"), make_client("events")
    queue_url = sqs.create_queue(QueueName="imaging-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="imaging", EventPattern=json.dumps({"source": ["aws.medical-imaging"]}))
    events.put_targets(Rule="imaging", Targets=[{"Id": "queue", "Arn": queue_arn}])

    datastore_id = mi.create_datastore(datastoreName="evented")["datastoreId"]
    until(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE")
    s3.create_bucket(Bucket="events-in")
    for name, body in ct_series(2, 32):
        s3.put_object(Bucket="events-in", Key=f"in/{name}", Body=body)
    job_id = mi.start_dicom_import_job(
        jobName="evented-job", datastoreId=datastore_id, dataAccessRoleArn=ROLE,
        inputS3Uri="s3://events-in/in/", outputS3Uri="s3://events-in/out/",
    )["jobId"]
    until(lambda: mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] == "COMPLETED")
    image_set_id = mi.search_image_sets(datastoreId=datastore_id)["imageSetsMetadataSummaries"][0]["imageSetId"]
    first = received(sqs, queue_url, datastore_id, 6)

    mi.update_image_set_metadata(
        datastoreId=datastore_id, imageSetId=image_set_id, latestVersionId="1",
        updateImageSetMetadataUpdates={"DICOMUpdates": {"updatableAttributes": json.dumps(
            {"SchemaVersion": 1.1, "Study": {"DICOM": {"StudyDescription": "evented"}}}).encode()}},
    )
    active(mi, datastore_id, image_set_id)
    copy_id = mi.copy_image_set(
        datastoreId=datastore_id, sourceImageSetId=image_set_id,
        copyImageSetInformation={"sourceImageSet": {"latestVersionId": "2"}},
    )["destinationImageSetProperties"]["imageSetId"]
    active(mi, datastore_id, copy_id)
    mi.delete_image_set(datastoreId=datastore_id, imageSetId=copy_id)
    active(mi, datastore_id, copy_id)
    second = received(sqs, queue_url, datastore_id, 7)

    every = first + second
    assert [event["detail-type"] for event in every] == [
        "Data Store Creating", "Data Store Created",
        "Import Job Submitted", "Import Job In Progress", "Image Set Created", "Import Job Completed",
        "Image Set Updating", "Image Set Updated",
        "Image Set Copying", "Image Set Copying With Read Only Access", "Image Set Copied",
        "Image Set Deleting", "Image Set Deleted",
    ]
    for event in every:
        assert (event["source"], event["account"], event["region"], event["version"]) == (
            "aws.medical-imaging", "123456789012", "us-east-1", "0")
        assert event["detail"]["imagingVersion"] == "1.0"
        assert event["detail"]["datastoreId"] == datastore_id
    store_arn = f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{datastore_id}"
    assert every[1]["resources"] == [store_arn]
    assert every[1]["detail"] == {
        "imagingVersion": "1.0", "datastoreId": datastore_id, "datastoreName": "evented", "datastoreStatus": "ACTIVE"}
    job = every[5]["detail"]
    assert (job["jobId"], job["jobName"], job["jobStatus"], job["inputS3Uri"]) == (
        job_id, "evented-job", "COMPLETED", "s3://events-in/in/")
    assert job["outputS3Uri"].startswith("s3://events-in/out/")
    created, updated, copying, copied, deleted = every[4], every[7], every[8], every[10], every[12]
    assert created["resources"] == [f"{store_arn}/imageset/{image_set_id}"]
    assert created["detail"] | {"imagingVersion": None} == {
        "imagingVersion": None, "isPrimary": True, "imageSetVersion": "1", "datastoreId": datastore_id,
        "imagesetId": image_set_id, "imageSetState": "ACTIVE", "imageSetWorkflowStatus": "CREATED"}
    assert (updated["detail"]["imageSetVersion"], updated["detail"]["imageSetState"]) == ("2", "ACTIVE")
    assert copying["detail"]["imagesetId"] == copy_id
    assert copying["detail"]["sourceImageSetArn"] == f"{store_arn}/imageset/{image_set_id}"
    assert every[9]["detail"]["imagesetId"] == image_set_id
    assert (copied["detail"]["imagesetId"], copied["detail"]["imageSetState"]) == (copy_id, "ACTIVE")
    assert (deleted["detail"]["imageSetState"], deleted["detail"]["imageSetWorkflowStatus"]) == ("DELETED", "DELETED")
    until(PUBLISHER.idle, "the publisher to drain")
    assert received(sqs, queue_url, datastore_id, 0) == []


def test_saved_rules_load_moto_at_start(tmp_path: Any) -> None:
    """Only a state directory whose saved world holds EventBridge state loads moto at start (docs/events.md#delivery)."""
    loaded = threading.Event()
    assert load_moto_for_saved_rules(tmp_path, loaded.set) is None
    services = tmp_path / "world" / "services"
    services.mkdir(parents=True)
    (services / "s3.pickle").write_bytes(b"")
    assert load_moto_for_saved_rules(tmp_path, loaded.set) is None
    (services / "events.pickle").write_bytes(b"")
    thread = load_moto_for_saved_rules(tmp_path, loaded.set)
    assert thread is not None
    until(loaded.is_set, "moto to be loaded")
