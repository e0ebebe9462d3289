"""The local AWS world survives a restart on the same state directory: S3, KMS, IAM, STS, SSM, SQS as acknowledged.

A real restart is a new process, whose moto starts empty; `restart_as_new_process` stops the
endpoint, empties this process's moto the way a new process would find it, and starts again on the
same state directory and port. (tests/reliability/test_world_kill.py does the same with kill -9.)
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import threading
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from local_endpoints import quick_config, running, until
from raw_http import ACCESS_KEY, REGION, SECRET_KEY

from ahi.emulator.demo.phantoms import ct_series
from ahi.emulator.server import LocalEndpoint
from ahi.emulator.world.blobs import BodyFile

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "medical-imaging.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
LARGE_BYTES = 20 * 1024 * 1024


def forget_moto() -> None:
    """Empty moto as a new process finds it (not through the endpoint, so nothing of it is saved)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def restart_as_new_process(endpoint: LocalEndpoint) -> None:
    port = endpoint.port
    endpoint.stop()
    forget_moto()
    wanted, endpoint.config.port = endpoint.config.port, port
    try:
        endpoint.start()
    finally:
        endpoint.config.port = wanted


def large_body() -> bytes:
    """20 MB that do not repeat (seeded random bytes), so a truncated or reordered copy shows."""
    return random.Random(LARGE_BYTES).randbytes(LARGE_BYTES)


def streamed_digest(s3: Any, bucket: str, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def test_s3_kms_iam_sts_ssm_and_sqs_survive_a_restart(endpoint: LocalEndpoint, make_client: Any) -> None:
    s3, kms, iam, sts = (make_client(name) for name in ("s3", "kms", "iam", "sts"))
    s3.create_bucket(Bucket="kept-bucket")
    s3.put_bucket_tagging(Bucket="kept-bucket", Tagging={"TagSet": [{"Key": "team", "Value": "imaging"}]})
    for index in range(3):
        s3.put_object(Bucket="kept-bucket", Key=f"dicom/{index}.dcm", Body=f"small {index}".encode())
    s3.put_object(Bucket="kept-bucket", Key="dicom/0.dcm", Body=b"overwritten")
    s3.delete_object(Bucket="kept-bucket", Key="dicom/2.dcm")
    s3.put_object(Bucket="kept-bucket", Key="/odd/é ü+%20.dcm", Body=b"odd name")
    s3.put_object(Bucket="kept-bucket", Key="batch/gone.dcm", Body=b"deleted in a batch")
    s3.delete_objects(Bucket="kept-bucket", Delete={"Objects": [{"Key": "batch/gone.dcm"}]})
    s3.put_object_tagging(Bucket="kept-bucket", Key="dicom/1.dcm", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    large = large_body()
    s3.put_object(Bucket="kept-bucket", Key="large.bin", Body=large)
    large_digest = hashlib.sha256(large).hexdigest()
    del large
    upload = s3.create_multipart_upload(Bucket="kept-bucket", Key="multipart.bin")["UploadId"]
    part = s3.upload_part(Bucket="kept-bucket", Key="multipart.bin", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    s3.create_bucket(Bucket="gone-bucket")
    s3.delete_bucket(Bucket="gone-bucket")

    enabled = kms.create_key(Description="enabled")["KeyMetadata"]
    disabled = kms.create_key(Description="disabled")["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    doomed = kms.create_key(Description="doomed")["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    kms.create_alias(AliasName="alias/kept", TargetKeyId=enabled["KeyId"])
    ciphertext = kms.encrypt(KeyId=enabled["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    role = iam.create_role(RoleName="import-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]
    assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="importer")
    ssm, sqs = make_client("ssm"), make_client("sqs")
    ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="21", Type="String",
                      Tags=[{"Key": "owner", "Value": "cdk"}])
    queue = sqs.create_queue(QueueName="kept-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="kept message")
    listing = s3.list_objects_v2(Bucket="kept-bucket")["Contents"]
    # One body file per live object and uploaded part: overwritten and deleted objects' files are gone.
    bodies = endpoint.config.state_dir / "world" / "s3" / "bodies"
    assert len(list(bodies.iterdir())) == len(listing) + 1

    restart_as_new_process(endpoint)

    assert s3.list_objects_v2(Bucket="kept-bucket")["Contents"] == listing
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept-bucket"]
    assert s3.get_object(Bucket="kept-bucket", Key="dicom/0.dcm")["Body"].read() == b"overwritten"
    assert s3.get_object(Bucket="kept-bucket", Key="dicom/1.dcm")["Body"].read() == b"small 1"
    assert s3.get_object(Bucket="kept-bucket", Key="/odd/é ü+%20.dcm")["Body"].read() == b"odd name"
    s3.complete_multipart_upload(Bucket="kept-bucket", Key="multipart.bin", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part}]})
    assert s3.get_object(Bucket="kept-bucket", Key="multipart.bin")["Body"].read() == b"part"
    assert s3.get_object_tagging(Bucket="kept-bucket", Key="dicom/1.dcm")["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert s3.get_bucket_tagging(Bucket="kept-bucket")["TagSet"] == [{"Key": "team", "Value": "imaging"}]
    assert streamed_digest(s3, "kept-bucket", "large.bin") == large_digest
    # The large object is read from its file in the state directory, not held in memory.
    from moto.s3.models import s3_backends

    loaded = s3_backends["123456789012"]["aws"].buckets["kept-bucket"].keys["large.bin"]
    assert isinstance(loaded._value_buffer, BodyFile)

    described = {key["KeyId"]: kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"] for key in (enabled, disabled, doomed)}
    for before in (enabled, disabled, doomed):
        after = described[before["KeyId"]]
        assert (after["Arn"], after["CreationDate"]) == (before["Arn"], before["CreationDate"])
    states = {key_id: metadata["KeyState"] for key_id, metadata in described.items()}
    assert states == {enabled["KeyId"]: "Enabled", disabled["KeyId"]: "Disabled", doomed["KeyId"]: "PendingDeletion"}
    assert kms.decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"secret"
    assert kms.describe_key(KeyId="alias/kept")["KeyMetadata"]["KeyId"] == enabled["KeyId"]
    assert iam.get_role(RoleName="import-role")["Role"] == role
    credentials = assumed["Credentials"]
    as_role = make_client("sts", aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"])
    assert as_role.get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert ssm.get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"] == "21"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/cdk-bootstrap/hnb659fds/version")
    assert tags["TagList"] == [{"Key": "owner", "Value": "cdk"}]
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)["Messages"]
    assert [message["Body"] for message in messages] == ["kept message"]


def test_a_job_interrupted_by_a_restart_resumes_and_writes_its_outputs(endpoint: LocalEndpoint, make_client: Any) -> None:
    s3, mi = make_client("s3"), make_client("medical-imaging")
    for bucket in ("resume-input", "resume-output"):
        s3.create_bucket(Bucket=bucket)
    for name, data in ct_series(2, 32, series_key="resume"):
        s3.put_object(Bucket="resume-input", Key=f"in/{name}", Body=data)
    datastore_id = mi.create_datastore(datastoreName="resume")["datastoreId"]
    until(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE")
    role = make_client("iam").create_role(RoleName="resume-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]

    # The job's thread waits for moto (the world's lock) until the endpoint is stopping: it is interrupted
    # before its first file, as a restart interrupts a running job.
    runtime = endpoint.runtime
    assert runtime is not None
    with runtime.moto._lock:
        job_id = mi.start_dicom_import_job(
            datastoreId=datastore_id, dataAccessRoleArn=role["Arn"],
            inputS3Uri="s3://resume-input/in/", outputS3Uri="s3://resume-output/out/")["jobId"]
        stopping = threading.Thread(target=endpoint.stop)
        stopping.start()
        until(runtime.imports._stopping.is_set, "the endpoint to stop its jobs")
    stopping.join()
    with sqlite3.connect(endpoint.config.state_dir / "state.sqlite3") as conn:
        (status,) = conn.execute("SELECT status FROM import_jobs WHERE job_id = ?", (job_id,)).fetchone()
    assert status == "IN_PROGRESS"

    forget_moto()
    endpoint.start()
    s3, mi = make_client("s3", endpoint_url=endpoint.url), make_client("medical-imaging", endpoint_url=endpoint.url)

    def ended() -> dict[str, Any] | None:
        properties = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]
        return properties if properties["jobStatus"] in ("COMPLETED", "FAILED") else None

    job = until(ended, "the resumed job to end", timeout=60)
    assert job["jobStatus"] == "COMPLETED", job.get("message")
    written = {item["Key"] for item in s3.list_objects_v2(Bucket="resume-output")["Contents"]}
    assert any(key.endswith("job-output-manifest.json") for key in written), written


def test_a_key_iam_issued_still_signs_after_a_restart_with_verification_on(tmp_path: Path) -> None:
    config = quick_config(tmp_path / "state", verify_signatures=True, secrets={ACCESS_KEY: SECRET_KEY})

    def client(endpoint: LocalEndpoint, service: str, access_key: str, secret: str) -> Any:
        return boto3.session.Session().client(
            service, endpoint_url=endpoint.url, region_name=REGION, aws_access_key_id=access_key,
            aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))

    with running(config) as endpoint:
        iam = client(endpoint, "iam", ACCESS_KEY, SECRET_KEY)
        iam.create_user(UserName="uploader")
        issued = iam.create_access_key(UserName="uploader")["AccessKey"]
        as_user = client(endpoint, "s3", issued["AccessKeyId"], issued["SecretAccessKey"])
        as_user.create_bucket(Bucket="signed-bucket")

        restart_as_new_process(endpoint)

        # The very first request after the start is signed with the key IAM issued before it.
        as_user.put_object(Bucket="signed-bucket", Key="after-restart", Body=b"signed")
        assert as_user.get_object(Bucket="signed-bucket", Key="after-restart")["Body"].read() == b"signed"
