"""A world written by an attacker: every value the console shows that a client can set carries terminal
control sequences, Rich/Textual markup or bidi overrides, each tagged with a marker so a test can tell
where it ended up.

Seeded through boto3 against a local endpoint: data store tags, a KMS key description, DICOM values at
study, series and instance level in imported files, S3 keys under a hostile input prefix, and a
failure.ndjson rewritten in the output bucket with hostile keys and messages (the bucket is the
customer's, so anyone who can write to it writes what the console reads).
"""

from __future__ import annotations

import base64
import io
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any

import pydicom

from ahi.emulator.demo.phantoms import Subject, ct_series

#: Every marker starts with this; a marker found inside a control sequence means the data reached the terminal.
MARK = "PWN"
#: The window title an OSC 0/2 from the data would set.
TITLE_MARK = f"{MARK}TITLE"
#: What an OSC 52 from the data would put in the clipboard (tmux's paste buffer).
CLIP_MARK = f"{MARK}CLIP"
#: The text of a tag value that, drawn as markup, would quit the console when clicked.
CLICK_MARK = f"{MARK}CLICK"
CLICK_VALUE = f"[@click=app.quit]{CLICK_MARK}[/]"


def payloads(tag: str) -> dict[str, str]:
    """The hostile values, each with `tag` in its marker (which field it came from)."""
    clip = base64.b64encode(f"{CLIP_MARK}{tag}".encode()).decode()
    return {
        "clear": f"\x1b[2J\x1b[H{MARK}CSI{tag}",
        "title": f"\x1b]0;{TITLE_MARK}{tag}\x07",
        "title_st": f"\x1b]2;{TITLE_MARK}{tag}\x1b\\",
        "clipboard": f"\x1b]52;c;{clip}\x07",
        "link": f"\x1b]8;;https://{MARK}LINK{tag}.example\x1b\\x\x1b]8;;\x1b\\",
        "dcs": f"\x1bP{MARK}DCS{tag}\x1b\\",
        "c1": f"\x9b2J\x9d0;{TITLE_MARK}C1{tag}\x9c",
        "markup": f"[bold red]{MARK}MARKUP{tag}[/]",
        "bidi": f"\u202e{MARK}BIDI{tag}",
    }


def hostile(tag: str, limit: int = 256) -> str:
    """All the payloads of `tag` in one value, cut to `limit` characters."""
    return "".join(payloads(tag).values())[:limit]


def short(tag: str) -> list[str]:
    """Short payloads, for DICOM values with small length limits (LO 64, PN 64 per component group)."""
    p = payloads(tag)
    return [p["title"], p["clipboard"], p["clear"] + p["markup"][:12], p["link"], p["c1"] + p["bidi"]]


@dataclass(frozen=True)
class HostileWorld:
    """Where the hostile values are: the data store, its import job, and the patient to search for."""

    datastore_id: str
    datastore_name: str
    job_name: str
    patient_id: str


DATASTORE = "hostile-archive"
JOB = "hostile-import"
PATIENT_ID = "PWN-PATIENT-1"
ROLE = "arn:aws:iam::123456789012:role/ImportJobDataAccessRole"
#: The input prefix itself is hostile (markup and bidi: S3 lists keys as XML, which cannot carry ESC).
INPUT_PREFIX = f"in/[@click=app.quit]{MARK}KEY[/]\u202e/"


def hostile_dicom(data: bytes) -> bytes:
    """One CT file with hostile values at every level (UTF-8 character set)."""
    ds = pydicom.dcmread(io.BytesIO(data))
    study, series, inst = short("study"), short("series"), short("inst")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = f"{study[0]}^{study[4][:40]}"
        ds.StudyDescription = study[1][:64]
        ds.AccessionNumber = "PWN\x1b]0;A\x07"[:16]
        ds.ReferringPhysicianName = study[3][:60]
        ds.InstitutionName = study[2][:64]
        ds.SeriesDescription = series[0][:64]
        ds.BodyPartExamined = "\x1b[2J"
        ds.ProtocolName = series[1][:64]
        ds.ImageComments = hostile("inst", 1024)
        ds.DerivationDescription = inst[2][:1024]
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def failure_lines(input_prefix: str) -> str:
    """failure.ndjson as an attacker with write access to the output bucket would leave it."""
    lines = []
    for index, name in enumerate(("title", "clipboard", "clear", "link", "markup")):
        value = payloads(f"fail{index}")[name]
        lines.append({
            "inputFile": f"{input_prefix}bad-{index}{value}.dcm",
            "exception": {"exceptionType": f"Error{value}"[:60], "message": f"refused {value} {CLICK_VALUE}"},
        })  # fmt: skip
    lines.append({"inputFile": f"{input_prefix}{hostile('failkey', 400)}.dcm", "exception": {"exceptionType": "ValidationException", "message": hostile("failmsg", 2000)}})
    return "".join(json.dumps(line) + "\n" for line in lines)


def seed(mi: Any, s3: Any, kms: Any) -> HostileWorld:
    """Create the hostile world on the endpoint behind these clients; returns once the import has ended."""
    key = kms.create_key(Description=hostile("kmsdesc"))["KeyMetadata"]
    datastore_id = mi.create_datastore(
        datastoreName=DATASTORE, clientToken=DATASTORE, kmsKeyArn=key["Arn"],
        tags={"clear": hostile("tag-clear"), "click": CLICK_VALUE, "title": payloads("tag")["title"], "bidi": payloads("tag")["bidi"]},
    )["datastoreId"]  # fmt: skip
    _until(lambda: mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreStatus"] == "ACTIVE")
    for bucket in ("hostile-in", "hostile-out"):
        s3.create_bucket(Bucket=bucket)
    subject = Subject(patient_id=PATIENT_ID, study_key="pwn")
    for name, data in ct_series(2, 32, subject=subject, series_key="pwn"):
        s3.put_object(Bucket="hostile-in", Key=f"{INPUT_PREFIX}{name.rpartition('/')[2]}", Body=hostile_dicom(data))
    s3.put_object(Bucket="hostile-in", Key=f"{INPUT_PREFIX}not-dicom-{MARK}.dcm", Body=b"plain text, not DICOM\n")
    job_id = mi.start_dicom_import_job(
        jobName=JOB, datastoreId=datastore_id, dataAccessRoleArn=ROLE,
        inputS3Uri=f"s3://hostile-in/{INPUT_PREFIX}", outputS3Uri="s3://hostile-out/out/", clientToken=JOB,
    )["jobId"]  # fmt: skip

    def ended() -> bool:
        status = mi.get_dicom_import_job(datastoreId=datastore_id, jobId=job_id)["jobProperties"]["jobStatus"]
        return status in ("COMPLETED", "FAILED")

    _until(ended)
    listed = s3.list_objects_v2(Bucket="hostile-out", Prefix="out/")["Contents"]
    failure_key = next(item["Key"] for item in listed if item["Key"].endswith("failure.ndjson"))
    s3.put_object(Bucket="hostile-out", Key=failure_key, Body=failure_lines(f"s3://hostile-in/{INPUT_PREFIX}").encode())
    return HostileWorld(datastore_id, DATASTORE, JOB, PATIENT_ID)


def _until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out seeding the hostile world"
        time.sleep(0.05)
