"""The CloudFormation template AWS's HealthImaging workflow example deploys, as its CDK app synthesizes it.

The example (awsdocs/aws-doc-sdk-examples, python/example_code/medical-imaging/imaging_set_and_frames_workflow)
reads the template its CDK stack (`SetupStack`, resources/cdk/setup.ts of the healthimaging_image_sets scenario)
synthesizes and calls CreateStack with it. The stack: two buckets with `autoDeleteObjects` (each with CDK's
bucket policy and `Custom::S3AutoDeleteObjects` resource, sharing one provider role and Lambda function), the
`AWS::HealthImaging::Datastore` named by the `datastoreName` parameter, an import role trusted by
medical-imaging for that data store's ARN with its default policy, CDK's metadata resource and bootstrap
version rule. Logical IDs are CDK's: the construct path without `Default`, non-alphanumerics removed, plus
the first 8 hex digits (upper case) of the MD5 of the path.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

STACK_NAME = "doc-example-healthimaging-workflow-stack"
BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
#: The asset key of CDK's auto-delete-objects provider (a content hash; any CDK release has its own).
PROVIDER_ASSET = "faa95a81ae7d7373f3e1f242268f904eb748d8d0fdd306e8a6fe515a1905a7d6.zip"
PROVIDER_ROLE = "CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092"
PROVIDER_HANDLER = "CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F"
METADATA_REGIONS = [
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1", "cn-north-1", "cn-northwest-1",
    "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1", "me-central-1", "me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
]


def logical_id(*path: str) -> str:
    """CDK's logical ID of a construct path below the stack."""
    components = [part for part in path if part != "Default"]
    if len(components) == 1:
        return "".join(ch for ch in components[0] if ch.isalnum())
    digest = hashlib.md5("/".join(components).encode()).hexdigest()[:8].upper()
    human = "".join("".join(ch for ch in part if ch.isalnum()) for part in components if part != "Resource")
    return human + digest


def _get_att(name: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [name, attribute]}


def _objects(bucket: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [_get_att(bucket, "Arn"), "/*"]]}


def _auto_delete_bucket(construct: str) -> dict[str, dict[str, Any]]:
    """A Bucket with removalPolicy DESTROY and autoDeleteObjects: the bucket, its policy and its custom resource."""
    bucket, policy = logical_id(construct, "Resource"), logical_id(construct, "Policy", "Resource")
    return {
        bucket: {
            "Type": "AWS::S3::Bucket",
            "Properties": {"Tags": [{"Key": "aws-cdk:auto-delete-objects", "Value": "true"}]},
            "UpdateReplacePolicy": "Delete",
            "DeletionPolicy": "Delete",
        },
        policy: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": bucket},
                "PolicyDocument": {
                    "Statement": [{
                        "Action": ["s3:DeleteObject*", "s3:GetBucket*", "s3:List*", "s3:PutBucketPolicy"],
                        "Effect": "Allow",
                        "Principal": {"AWS": _get_att(PROVIDER_ROLE, "Arn")},
                        "Resource": [_get_att(bucket, "Arn"), _objects(bucket)],
                    }],
                    "Version": "2012-10-17",
                },
            },
        },
        logical_id(construct, "AutoDeleteObjectsCustomResource", "Default"): {
            "Type": "Custom::S3AutoDeleteObjects",
            "Properties": {"ServiceToken": _get_att(PROVIDER_HANDLER, "Arn"), "BucketName": {"Ref": bucket}},
            "DependsOn": [policy],
            "UpdateReplacePolicy": "Delete",
            "DeletionPolicy": "Delete",
        },
    }


def template() -> dict[str, Any]:
    """The synthesized template of SetupStack."""
    in_bucket = logical_id("doc-example-dicom_in_bucket", "Resource")
    out_bucket = logical_id("doc-example-dicom_out_bucket", "Resource")
    role = logical_id("doc-example-import-role", "Resource")
    policy = logical_id("doc-example-import-role", "DefaultPolicy", "Resource")
    resources: dict[str, Any] = {
        **_auto_delete_bucket("doc-example-dicom_in_bucket"),
        PROVIDER_ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}],
                },
                "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}],
            },
        },
        PROVIDER_HANDLER: {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": PROVIDER_ASSET},
                "Timeout": 900,
                "MemorySize": 128,
                "Handler": "index.handler",
                "Role": _get_att(PROVIDER_ROLE, "Arn"),
                "Runtime": "nodejs20.x",
                "Description": {"Fn::Join": ["", ["Lambda function for auto-deleting objects in ", {"Ref": in_bucket}, " S3 bucket."]]},
            },
            "DependsOn": [PROVIDER_ROLE],
        },
        **_auto_delete_bucket("doc-example-dicom_out_bucket"),
        "MyCfnDatastore": {"Type": "AWS::HealthImaging::Datastore", "Properties": {"DatastoreName": {"Ref": "datastoreName"}}},
        role: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [{
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "ForAllValues:StringEquals": {"aws:SourceAccount": {"Ref": "userAccountID"}},
                            "ForAllValues:ArnEquals": {"aws:SourceArn": _get_att("MyCfnDatastore", "DatastoreArn")},
                        },
                        "Effect": "Allow",
                        "Principal": {"Service": "medical-imaging.amazonaws.com"},
                    }],
                    "Version": "2012-10-17",
                },
            },
        },
        policy: {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [
                        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": [_get_att(in_bucket, "Arn"), _get_att(out_bucket, "Arn")]},
                        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": _objects(in_bucket)},
                        {"Action": "s3:PutObject", "Effect": "Allow", "Resource": _objects(out_bucket)},
                    ],
                    "Version": "2012-10-17",
                },
                "PolicyName": policy,
                "Roles": [{"Ref": role}],
            },
        },
        "CDKMetadata": {
            "Type": "AWS::CDK::Metadata",
            "Properties": {"Analytics": "v2:deflate64:H4sIAAAAAAAA/zPSMzQ20DNQTCwv1k1OydbNyUzSqw4uSUzO1nFOy/MvLSkoLQGxwEK1Onn5Kal6WcX6ZYYGeoaWegbGWVnFmbpFpXklmbmpekEQGgDnTimNUwAAAA=="},
            "Metadata": {"aws:cdk:path": f"{STACK_NAME}/CDKMetadata/Default"},
            "Condition": "CDKMetadataAvailable",
        },
    }
    groups = [METADATA_REGIONS[start:start + 10] for start in range(0, len(METADATA_REGIONS), 10)]
    return {
        "Parameters": {
            "datastoreName": {"Type": "String", "Description": "The name for the data store."},
            "userAccountID": {"Type": "String", "Description": "The user's account ID used for the IAM role."},
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": BOOTSTRAP_PARAMETER,
                "Description": "Version of the CDK Bootstrap resources in this environment, automatically retrieved from SSM "
                "Parameter Store. [cdk:skip]",
            },
        },
        "Resources": resources,
        "Outputs": {
            "OutputBucketName": {"Value": {"Ref": out_bucket}},
            "InputBucketName": {"Value": {"Ref": in_bucket}},
            "RoleArn": {"Value": _get_att(role, "Arn")},
            "DatastoreID": {"Value": _get_att("MyCfnDatastore", "DatastoreId")},
        },
        "Conditions": {
            "CDKMetadataAvailable": {
                "Fn::Or": [{"Fn::Or": [{"Fn::Equals": [{"Ref": "AWS::Region"}, region]} for region in group]} for group in groups]
            },
        },
        "Rules": {
            "CheckBootstrapVersion": {
                "Assertions": [{
                    "Assert": {"Fn::Not": [{"Fn::Contains": [["1", "2", "3", "4", "5"], {"Ref": "BootstrapVersion"}]}]},
                    "AssertDescription": "CDK bootstrap stack version 6 required. Please run 'cdk bootstrap' with a recent "
                    "version of the CDK CLI.",
                }],
            },
        },
    }


def bootstrap(ssm: Any, s3: Any, account_id: str, region: str) -> None:
    """What `cdk bootstrap` and a `cdk deploy` of this app leave in the account: the version parameter and the provider's code."""
    ssm.put_parameter(Name=BOOTSTRAP_PARAMETER, Value="21", Type="String")
    bucket = f"cdk-hnb659fds-assets-{account_id}-{region}"
    s3.create_bucket(Bucket=bucket)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => {};\n")
    s3.put_object(Bucket=bucket, Key=PROVIDER_ASSET, Body=code.getvalue())
