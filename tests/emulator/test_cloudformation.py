"""CloudFormation stacks with `AWS::HealthImaging::Datastore` deploy against the local endpoint (docs/cloudformation.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import WaiterError
from cdk_workflow_stack import STACK_NAME, bootstrap
from cdk_workflow_stack import template as workflow_template
from local_endpoints import quick_config, running, until
from raw_http import ACCESS_KEY, REGION, SECRET_KEY

from ahi.emulator.demo.phantoms import ct_series

CLIENT_CONFIG = Config(inject_host_prefix=False, retries={"mode": "standard", "total_max_attempts": 1})
STORE_TEMPLATE = {
    "Parameters": {"Name": {"Type": "String"}},
    "Resources": {
        "Store": {
            "Type": "AWS::HealthImaging::Datastore",
            "Properties": {"DatastoreName": {"Ref": "Name"}, "Tags": {"team": "imaging", "cost-center": "42"}},
        },
    },
    "Outputs": {
        "Id": {"Value": {"Ref": "Store"}},
        "Arn": {"Value": {"Fn::GetAtt": ["Store", "DatastoreArn"]}},
        "IdAttribute": {"Value": {"Fn::GetAtt": ["Store", "DatastoreId"]}},
        "Status": {"Value": {"Fn::GetAtt": ["Store", "DatastoreStatus"]}},
        "Created": {"Value": {"Fn::GetAtt": ["Store", "CreatedAt"]}},
    },
}


@pytest.fixture(scope="module")
def make_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Any]]:
    """Clients of one endpoint shared by the module's tests (each uses its own stack names)."""
    with running(quick_config(tmp_path_factory.mktemp("cloudformation"))) as endpoint:
        options = {"region_name": REGION, "endpoint_url": endpoint.url, "aws_access_key_id": ACCESS_KEY,
                   "aws_secret_access_key": SECRET_KEY, "config": CLIENT_CONFIG}
        yield lambda service: boto3.session.Session().client(service, **options)


@pytest.fixture(scope="module")
def mi(make_client: Callable[[str], Any]) -> Any:
    return make_client("medical-imaging")


def outputs(cf: Any, stack: str) -> dict[str, str]:
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def status_of(mi: Any, datastore_id: str) -> str:
    return str(mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"])


def test_a_stack_creates_replaces_and_deletes_a_tagged_data_store(make_client: Any, mi: Any) -> None:
    cf = make_client("cloudformation")
    cf.create_stack(StackName="imaging", TemplateBody=json.dumps(STORE_TEMPLATE), Parameters=[{"ParameterKey": "Name", "ParameterValue": "from-cfn"}])
    cf.get_waiter("stack_create_complete").wait(StackName="imaging")
    created = outputs(cf, "imaging")
    datastore_id = created["Id"]
    assert created["IdAttribute"] == datastore_id
    assert created["Arn"] == f"arn:aws:medical-imaging:{REGION}:123456789012:datastore/{datastore_id}"
    assert created["Status"] == "ACTIVE"
    assert created["Created"].endswith("Z")
    listed = {summary["datastoreId"]: summary for summary in mi.list_datastores()["datastoreSummaries"]}
    assert (listed[datastore_id]["datastoreName"], listed[datastore_id]["datastoreStatus"]) == ("from-cfn", "ACTIVE")
    assert mi.list_tags_for_resource(resourceArn=created["Arn"])["tags"] == {"team": "imaging", "cost-center": "42"}
    resource = cf.describe_stack_resources(StackName="imaging")["StackResources"][0]
    assert (resource["LogicalResourceId"], resource["PhysicalResourceId"]) == ("Store", datastore_id)

    cf.update_stack(StackName="imaging", UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Name", "ParameterValue": "renamed"}])
    cf.get_waiter("stack_update_complete").wait(StackName="imaging")
    replacement = outputs(cf, "imaging")["Id"]
    assert replacement != datastore_id
    assert mi.get_datastore(datastoreId=replacement)["datastoreProperties"]["datastoreName"] == "renamed"
    assert status_of(mi, datastore_id) == "DELETED"

    cf.delete_stack(StackName="imaging")
    cf.get_waiter("stack_delete_complete").wait(StackName="imaging")
    assert status_of(mi, replacement) == "DELETED"


def test_a_data_store_the_service_refuses_rolls_the_stack_back(make_client: Any, mi: Any) -> None:
    cf = make_client("cloudformation")
    broken = json.loads(json.dumps(STORE_TEMPLATE))
    missing_key = f"arn:aws:kms:{REGION}:123456789012:key/00000000-0000-0000-0000-000000000000"
    broken["Resources"]["Store"]["Properties"]["KmsKeyArn"] = missing_key
    before = len(mi.list_datastores()["datastoreSummaries"])
    stack_id = cf.create_stack(StackName="refused", TemplateBody=json.dumps(broken), Parameters=[{"ParameterKey": "Name", "ParameterValue": "x"}])["StackId"]
    with pytest.raises(WaiterError):
        cf.get_waiter("stack_create_complete").wait(StackName="refused")
    assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in cf.describe_stack_events(StackName="refused")["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Store"
    assert "kmsKeyArn" in failed[0]["ResourceStatusReason"] and "ValidationException" in failed[0]["ResourceStatusReason"]
    assert len(mi.list_datastores()["datastoreSummaries"]) == before


def test_an_unknown_attribute_is_a_validation_error_not_a_server_page(make_client: Any) -> None:
    cf = make_client("cloudformation")
    broken = json.loads(json.dumps(STORE_TEMPLATE))
    broken["Outputs"]["Bad"] = {"Value": {"Fn::GetAtt": ["Store", "NoSuchAttribute"]}}
    with pytest.raises(cf.exceptions.ClientError) as caught:
        cf.create_stack(StackName="bad-attribute", TemplateBody=json.dumps(broken), Parameters=[{"ParameterKey": "Name", "ParameterValue": "x"}])
    error = caught.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (400, "ValidationError")


def test_the_aws_workflow_example_stack_deploys_and_is_destroyed(make_client: Any, mi: Any) -> None:
    """The example's deploy() and destroy() calls, with its CDK stack's template and an import in between."""
    s3 = make_client("s3")
    account_id = make_client("sts").get_caller_identity()["Account"]
    bootstrap(make_client("ssm"), s3, account_id, REGION)
    cf_resource = boto3.session.Session().resource(
        "cloudformation", region_name=REGION, endpoint_url=s3.meta.endpoint_url,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )
    stack = cf_resource.create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(workflow_template(), indent=1),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": "datastoreName", "ParameterValue": "workflow-store"},
            {"ParameterKey": "userAccountID", "ParameterValue": account_id},
        ],
    )
    cf_resource.meta.client.get_waiter("stack_create_complete").wait(StackName=stack.name)
    stack.load()
    assert stack.stack_status == "CREATE_COMPLETE"
    found = {output["OutputKey"]: output["OutputValue"] for output in stack.outputs}
    datastore_id, role_arn = found["DatastoreID"], found["RoleArn"]
    assert status_of(mi, datastore_id) == "ACTIVE"
    assert role_arn.startswith(f"arn:aws:iam::{account_id}:role/")
    for name, body in ct_series(1, 32):
        s3.put_object(Bucket=found["InputBucketName"], Key=f"input/{name}", Body=body)
    job_id = mi.start_dicom_import_job(
        jobName="workflow", datastoreId=datastore_id, dataAccessRoleArn=role_arn,
        inputS3Uri=f"s3://{found['InputBucketName']}/input/", outputS3Uri=f"s3://{found['OutputBucketName']}/output/",
    )["jobId"]
    until(lambda: mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] == "COMPLETED")

    for summary in mi.search_image_sets(datastoreId=datastore_id)["imageSetsMetadataSummaries"]:
        mi.delete_image_set(datastoreId=datastore_id, imageSetId=summary["imageSetId"])
    stack.delete()
    cf_resource.meta.client.get_waiter("stack_delete_complete").wait(StackName=stack.name)
    assert status_of(mi, datastore_id) == "DELETED"
    buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert not {found["InputBucketName"], found["OutputBucketName"]} & buckets


def test_a_data_store_holding_image_sets_fails_the_stack_delete(make_client: Any, mi: Any) -> None:
    cf, s3 = make_client("cloudformation"), make_client("s3")
    cf.create_stack(StackName="holding", TemplateBody=json.dumps(STORE_TEMPLATE), Parameters=[{"ParameterKey": "Name", "ParameterValue": "holding"}])
    datastore_id = outputs(cf, "holding")["Id"]
    s3.create_bucket(Bucket="holding-in")
    for name, body in ct_series(1, 32):
        s3.put_object(Bucket="holding-in", Key=f"in/{name}", Body=body)
    job_id = mi.start_dicom_import_job(
        datastoreId=datastore_id, dataAccessRoleArn="arn:aws:iam::123456789012:role/Import",
        inputS3Uri="s3://holding-in/in/", outputS3Uri="s3://holding-in/out/",
    )["jobId"]
    until(lambda: mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"] == "COMPLETED")

    cf.delete_stack(StackName="holding")
    with pytest.raises(WaiterError):
        cf.get_waiter("stack_delete_complete").wait(StackName="holding")
    assert cf.describe_stacks(StackName="holding")["Stacks"][0]["StackStatus"] == "DELETE_FAILED"
    failed = [e for e in cf.describe_stack_events(StackName="holding")["StackEvents"] if e["LogicalResourceId"] == "Store"]
    assert failed[0]["ResourceStatus"] == "DELETE_FAILED" and "ConflictException" in failed[0]["ResourceStatusReason"]
    assert status_of(mi, datastore_id) == "ACTIVE"

    image_set_id = mi.search_image_sets(datastoreId=datastore_id)["imageSetsMetadataSummaries"][0]["imageSetId"]
    mi.delete_image_set(datastoreId=datastore_id, imageSetId=image_set_id)
    cf.delete_stack(StackName="holding")
    cf.get_waiter("stack_delete_complete").wait(StackName="holding")
    assert status_of(mi, datastore_id) == "DELETED"
