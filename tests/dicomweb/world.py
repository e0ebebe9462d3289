"""A small DICOMweb world for a test module: one endpoint in-process, a few imported files, a signing client.

`dicomweb_world(state_dir)` starts ONE local endpoint (signature verification on unless told otherwise),
creates an ACTIVE data store and imports, in a first job, a 3-slice CT series (32x32, 16-bit), a
3-frame RLE cine loop (one multi-frame instance) and an RGB ultrasound image, all primary; then, in a
second job, one CT slice of another series of the same study whose PatientName disagrees: a non-primary
image set, reachable over DICOMweb only with `imageSetId`. Build it once per module:

    @pytest.fixture(scope="module")
    def world(tmp_path_factory):
        with dicomweb_world(tmp_path_factory.mktemp("dicomweb")) as built:
            yield built

then `world.client` (a dicomweb_client.DICOMwebClient whose requests are SigV4-signed), `world.mi`
(boto3), `world.instances[name]` (UIDs, source bytes and image set of each imported file).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pydicom
import requests
from botocore.config import Config
from dicomweb_client import DICOMwebClient
from raw_http import ACCESS_KEY, REGION, SECRET_KEY
from signing import signed_session

from ahi.emulator.demo.phantoms import Subject, ct_series, multiframe_cine, ultrasound_rgb
from ahi.emulator.server import LocalEndpoint

from local_endpoints import quick_config, running, until

ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
SUBJECT = Subject()
#: The same study under another PatientName: its series cannot join the primary hierarchy.
RENAMED = Subject(patient_name="Phantom^Renamed")


@dataclass(frozen=True)
class Instance:
    """One imported file: its UIDs, its source bytes and the image set that holds it."""

    name: str
    study_uid: str
    series_uid: str
    sop_uid: str
    source: bytes
    image_set_id: str
    is_primary: bool

    def dataset(self) -> pydicom.Dataset:
        """The source file, parsed."""
        return pydicom.dcmread(io.BytesIO(self.source))


@dataclass
class DicomwebWorld:
    """The running endpoint, its data store, clients and what was imported."""

    endpoint: LocalEndpoint
    datastore_id: str
    mi: Any
    s3: Any
    #: Name ("ct-1", "ct-2", "ct-3", "cine", "us", "renamed") -> the imported instance.
    instances: dict[str, Instance]
    client: DICOMwebClient

    @property
    def base_url(self) -> str:
        """The DICOMweb base of the data store: `http://127.0.0.1:<port>/datastore/<id>`."""
        return f"{self.endpoint.url}/datastore/{self.datastore_id}"

    def client_for(self, service: str) -> Any:
        """A boto3 client of another service on the endpoint (sqs, events, ...), with the world's key."""
        return _client(self.endpoint, service)

    def session(self) -> requests.Session:
        """A new requests.Session that signs with the world's key."""
        return _session()

    def dicomweb(self, session: requests.Session | None = None) -> DICOMwebClient:
        """Another DICOMwebClient on the data store (signed unless given another session)."""
        return DICOMwebClient(url=self.base_url, session=session or self.session())

    def datastore_with(self, name: str, files: dict[str, bytes], **create: Any) -> tuple[str, dict[str, Instance]]:
        """Another ACTIVE data store (CreateDatastore arguments `create`) holding `files`, imported in one job."""
        datastore_id = _active_datastore(self.mi, name, **create)
        _import(self.mi, self.s3, datastore_id, name, files)
        return datastore_id, _locate(self.mi, datastore_id, files)

    def get(self, path: str, *, sign: bool = True, **kwargs: Any) -> requests.Response:
        """GET `base_url + path` with requests (signed unless `sign=False`)."""
        session = self.session() if sign else requests.Session()
        with session:
            return session.get(self.base_url + path, timeout=30, **kwargs)


@contextmanager
def dicomweb_world(state_dir: Path, *, verify_signatures: bool = True) -> Iterator[DicomwebWorld]:
    """Start the endpoint, import the world's files, yield it; stop the endpoint afterwards."""
    config = quick_config(state_dir, verify_signatures=verify_signatures, secrets={ACCESS_KEY: SECRET_KEY})
    with running(config) as endpoint:
        mi, s3 = _client(endpoint, "medical-imaging"), _client(endpoint, "s3")
        datastore_id = _active_datastore(mi, "dicomweb")
        s3.create_bucket(Bucket="dicomweb-input")
        s3.create_bucket(Bucket="dicomweb-output")
        primary = {f"ct-{n}": data for n, (_, data) in enumerate(ct_series(3, 32, subject=SUBJECT), start=1)}
        primary["cine"] = multiframe_cine(subject=SUBJECT, frames=3, size=32)[0][1]
        primary["us"] = ultrasound_rgb(subject=SUBJECT, rows=24, cols=32)[0][1]
        renamed = {"renamed": ct_series(1, 32, subject=RENAMED, series_key="renamed")[0][1]}
        _import(mi, s3, datastore_id, "first", primary)
        _import(mi, s3, datastore_id, "second", renamed)
        instances = _locate(mi, datastore_id, {**primary, **renamed})
        client = DICOMwebClient(url=f"{endpoint.url}/datastore/{datastore_id}", session=_session())
        yield DicomwebWorld(endpoint, datastore_id, mi, s3, instances, client)


def _active_datastore(mi: Any, name: str, **create: Any) -> str:
    """A new data store (CreateDatastore arguments `create`), once ACTIVE."""
    datastore_id = str(mi.create_datastore(datastoreName=name, clientToken=f"dicomweb-{name}", **create)["datastoreId"])
    until(
        lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE",
        "the data store to be ACTIVE",
    )
    return datastore_id


def _session() -> requests.Session:
    return signed_session(ACCESS_KEY, SECRET_KEY, REGION)


def _client(endpoint: LocalEndpoint, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        region_name=REGION,
        endpoint_url=endpoint.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(inject_host_prefix=False, retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _import(mi: Any, s3: Any, datastore_id: str, job: str, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        s3.put_object(Bucket="dicomweb-input", Key=f"{job}/{name}.dcm", Body=data)
    job_id = mi.start_dicom_import_job(
        datastoreId=datastore_id,
        dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://dicomweb-input/{job}/",
        outputS3Uri=f"s3://dicomweb-output/{job}/",
        clientToken=f"dicomweb-{job}",
    )["jobId"]

    def ended() -> str | None:
        status = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"]
        return status if status in ("COMPLETED", "FAILED") else None

    status = until(ended, f"import {job}")
    assert status == "COMPLETED", f"import {job} ended {status}"


def _locate(mi: Any, datastore_id: str, files: dict[str, bytes]) -> dict[str, Instance]:
    """Each file's image set, found in the image sets' metadata documents."""
    holders: dict[str, tuple[str, bool]] = {}
    for summary in mi.search_image_sets(datastoreId=datastore_id, searchCriteria={})["imageSetsMetadataSummaries"]:
        blob = mi.get_image_set_metadata(datastoreId=datastore_id, imageSetId=summary["imageSetId"])
        document = json.loads(gzip.decompress(blob["imageSetMetadataBlob"].read()))
        for series in document["Study"]["Series"].values():
            for sop_uid in series["Instances"]:
                holders[sop_uid] = (summary["imageSetId"], bool(summary["isPrimary"]))
    instances: dict[str, Instance] = {}
    for name, data in files.items():
        dataset = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        image_set_id, is_primary = holders[str(dataset.SOPInstanceUID)]
        instances[name] = Instance(
            name=name,
            study_uid=str(dataset.StudyInstanceUID),
            series_uid=str(dataset.SeriesInstanceUID),
            sop_uid=str(dataset.SOPInstanceUID),
            source=data,
            image_set_id=image_set_id,
            is_primary=is_primary,
        )
    return instances
