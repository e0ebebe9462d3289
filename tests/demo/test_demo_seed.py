"""The demo world: seeded through the public API, settled, and put back after a restart loses moto's state."""

from __future__ import annotations

import argparse
import json
import urllib.request
from collections.abc import Callable
from typing import Any

from ahi.emulator.cli import build_parser
from ahi.emulator.demo import cli as demo_cli
from ahi.emulator.demo import world
from ahi.emulator.demo.seed import seed_demo


def job_outputs(s3: Any, properties: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    bucket, _, folder = properties["outputS3Uri"].removeprefix("s3://").partition("/")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=folder + "job-output-manifest.json")["Body"].read())
    failures = s3.get_object(Bucket=bucket, Key=folder + "FAILURE/failure.ndjson")["Body"].read().decode().splitlines()
    return manifest["jobSummary"], failures


def demo_jobs(mi: Any) -> dict[str, dict[str, Any]]:
    jobs = {}
    for store in mi.list_datastores()["datastoreSummaries"]:
        for summary in mi.list_dicom_import_jobs(datastoreId=store["datastoreId"])["jobSummaries"]:
            jobs[summary["jobName"]] = mi.get_dicom_import_job(
                datastoreId=store["datastoreId"], jobId=summary["jobId"]
            )["jobProperties"]
    return jobs


def test_seed_builds_the_whole_demo_world_once_and_a_restart_without_moto_state_puts_it_back(
    endpoint: Any, restart_endpoint: Callable[[], Any], make_client: Callable[..., Any]
) -> None:
    """One seed (the slowest part of this module) serves both: the world it builds, then that world after a restart."""
    assert seed_demo(endpoint.url) is True
    assert seed_demo(endpoint.url) is False, "a second seed finds the world and adds nothing"
    seeded_world_is_whole(make_client("medical-imaging"), make_client("s3"), make_client("kms"))
    restart_without_moto_state_restores_the_demo_buckets_and_keys(endpoint, restart_endpoint, make_client)


def seeded_world_is_whole(mi: Any, s3: Any, kms: Any) -> None:
    """Every data store, key, tag, job and job output the demo promises."""
    stores = {store["datastoreName"]: store for store in mi.list_datastores()["datastoreSummaries"]}
    assert {name: store["datastoreStatus"] for name, store in stores.items()} == {
        "demo-imaging": "ACTIVE",
        "demo-aws-owned-key": "ACTIVE",
        "demo-disabled-key": "CREATE_FAILED",
    }
    imaging = mi.get_datastore(datastoreId=stores["demo-imaging"]["datastoreId"])["datastoreProperties"]
    assert kms.describe_key(KeyId=imaging["kmsKeyArn"])["KeyMetadata"]["KeyState"] == "Enabled"
    assert (
        "kmsKeyArn"
        not in mi.get_datastore(datastoreId=stores["demo-aws-owned-key"]["datastoreId"])["datastoreProperties"]
    )
    aliases = {alias["AliasName"]: alias.get("TargetKeyId") for alias in kms.list_aliases()["Aliases"]}
    disabled = kms.describe_key(KeyId=aliases[world.DISABLED_KEY.alias])["KeyMetadata"]
    assert disabled["KeyState"] == "Disabled"
    tags = mi.list_tags_for_resource(resourceArn=imaging["datastoreArn"])["tags"]
    assert tags == {world.DEMO_TAG: world.DEMO_TAG_VALUE, "Environment": "demo", "CostCenter": "radiology"}

    jobs = demo_jobs(mi)
    assert {name: job["jobStatus"] for name, job in jobs.items()} == {
        "demo-clean-studies": "COMPLETED",
        "demo-mixed-batch": "COMPLETED",
        "demo-missing-bucket": "FAILED",
    }
    assert world.MISSING_BUCKET in jobs["demo-missing-bucket"]["message"]

    clean, clean_failures = job_outputs(s3, jobs["demo-clean-studies"])
    assert clean_failures == []
    assert (clean["numberOfScannedFiles"], clean["numberOfImportedFiles"], clean["numberOfGeneratedImageSets"]) == (
        38,
        38,
        4,
    )
    first = clean["imageSetsSummary"][0]["imageSetId"]
    image_set = mi.get_image_set(datastoreId=imaging["datastoreId"], imageSetId=first)
    assert mi.list_tags_for_resource(resourceArn=image_set["imageSetArn"])["tags"] == {
        "Review": "pending",
        "Source": "phantom",
    }

    mixed, mixed_failures = job_outputs(s3, jobs["demo-mixed-batch"])
    assert mixed["numberOfFilesWithCustomerError"] == len(mixed_failures) > 6
    assert mixed["numberOfScannedFiles"] == mixed["numberOfImportedFiles"] + len(mixed_failures)
    reasons = " ".join(mixed_failures)
    for reason in ("not a DICOM P10 file", "truncated", "is not supported", "TransferSyntaxUID does not exist"):
        assert reason in reasons


def restart_without_moto_state_restores_the_demo_buckets_and_keys(
    endpoint: Any, restart_endpoint: Callable[[], Any], make_client: Callable[..., Any]
) -> None:
    """With moto's state gone (a new process) and the endpoint restarted, the demo's keys and buckets are back as they were."""
    kms, s3 = make_client("kms"), make_client("s3")
    keys = sorted(
        (key["KeyId"], kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"])
        for key in kms.list_keys()["Keys"]
    )
    outputs = {item["Key"]: item["Size"] for item in s3.list_objects_v2(Bucket=world.OUTPUT_BUCKET)["Contents"]}
    inputs = s3.list_objects_v2(Bucket=world.INPUT_BUCKET)["KeyCount"]

    reset = urllib.request.Request(f"{endpoint.url}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()  # what a new process would start with
    assert s3.list_buckets()["Buckets"] == []
    restart_endpoint()

    kms, s3, mi = make_client("kms"), make_client("s3"), make_client("medical-imaging")
    assert (
        sorted(
            (key["KeyId"], kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"])
            for key in kms.list_keys()["Keys"]
        )
        == keys
    )
    assert {item["Key"]: item["Size"] for item in s3.list_objects_v2(Bucket=world.OUTPUT_BUCKET)["Contents"]} == outputs
    assert s3.list_objects_v2(Bucket=world.INPUT_BUCKET)["KeyCount"] == inputs
    assert world.MISSING_BUCKET not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    imaging = next(
        store for store in mi.list_datastores()["datastoreSummaries"] if store["datastoreName"] == "demo-imaging"
    )
    key_arn = mi.get_datastore(datastoreId=imaging["datastoreId"])["datastoreProperties"]["kmsKeyArn"]
    assert kms.describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"] == key_arn


def test_ahi_local_has_a_demo_flag_that_seeds(endpoint: Any, mi: Any) -> None:
    args = build_parser().parse_args(["--demo"])
    assert args.demo is True
    demo_cli.on_started(argparse.Namespace(demo=False), endpoint)
    assert mi.list_datastores()["datastoreSummaries"] == []
    demo_cli.on_started(args, endpoint)
    assert len(mi.list_datastores()["datastoreSummaries"]) == 3
