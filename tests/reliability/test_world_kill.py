"""kill -9 of `ahi local` loses nothing of the local AWS world that was acknowledged: S3, KMS, IAM, STS.

Each write below is acknowledged before the next starts; the endpoint dies by SIGKILL (no handler
runs) right after the last one and starts again on the same state directory.
"""

from __future__ import annotations

import json
from pathlib import Path

from local_process import start_local

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "medical-imaging.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def test_sigkill_keeps_every_acknowledged_write_to_the_local_world(tmp_path: Path) -> None:
    state, logs = tmp_path / "state", tmp_path / "logs"
    child = start_local(logs, "--state-dir", str(state))
    s3, kms, iam, sts = (child.client(name) for name in ("s3", "kms", "iam", "sts"))
    s3.create_bucket(Bucket="acknowledged")
    bodies = {f"in/{index:03d}.dcm": bytes([index]) * (1000 + index) for index in range(20)}
    for key, body in bodies.items():
        s3.put_object(Bucket="acknowledged", Key=key, Body=body)
    s3.delete_object(Bucket="acknowledged", Key="in/000.dcm")
    del bodies["in/000.dcm"]
    key = kms.create_key(Description="acknowledged")["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    role = iam.create_role(RoleName="acknowledged", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]
    credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="acknowledged")["Credentials"]
    s3.put_object(Bucket="acknowledged", Key="last", Body=b"the last write before the kill")
    child.kill()

    child = start_local(logs, "--state-dir", str(state), "--port", str(child.port))
    try:
        s3, kms, iam = (child.client(name) for name in ("s3", "kms", "iam"))
        listed = {item["Key"]: item["Size"] for item in s3.list_objects_v2(Bucket="acknowledged")["Contents"]}
        assert listed == {**{name: len(body) for name, body in bodies.items()}, "last": 30}
        for name, body in bodies.items():
            assert s3.get_object(Bucket="acknowledged", Key=name)["Body"].read() == body
        assert s3.get_object(Bucket="acknowledged", Key="last")["Body"].read() == b"the last write before the kill"
        after = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        assert (after["Arn"], after["KeyState"]) == (key["Arn"], "Disabled")
        assert iam.get_role(RoleName="acknowledged")["Role"] == role
        as_role = child.client("sts", aws_access_key_id=credentials["AccessKeyId"],
                               aws_secret_access_key=credentials["SecretAccessKey"],
                               aws_session_token=credentials["SessionToken"])
        assert ":assumed-role/acknowledged/acknowledged" in as_role.get_caller_identity()["Arn"]
    finally:
        assert child.stop() == 0
    assert "Traceback" not in child.stderr(), child.stderr()[-3000:]
