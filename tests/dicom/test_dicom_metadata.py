"""The metadata document: value encoding, normalization levels, grouping into image sets."""

from __future__ import annotations

import base64
import io
import json

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from ahi.emulator.demo.phantoms import Subject, ct_series, split_series
from ahi.emulator.dicom.grouping import build_document, group_instances
from ahi.emulator.dicom.instance import ProcessedInstance, process_file
from ahi.emulator.dicom.values import encode_dataset


def processed(files: list[tuple[str, bytes]]) -> list[ProcessedInstance]:
    instances = []
    for name, data in files:
        outcome = process_file(name, data)
        assert outcome.instance is not None, outcome.failure
        instances.append(outcome.instance)
    return instances


def reread(dataset: Dataset) -> Dataset:
    """Write and read back, so elements arrive raw as they do from S3."""
    dataset.file_meta = pydicom.dataset.FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()))


def test_value_encoding() -> None:
    source = Dataset()
    source.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    source.SOPInstanceUID = "1.2.3"
    source.ImageType = ["ORIGINAL", "PRIMARY"]
    source.InstanceNumber = "7"
    source.PixelSpacing = ["0.25", "0.25"]
    source.AccessionNumber = ""
    source.Rows = 640
    source.RedPaletteColorLookupTableData = b"\x01\x00\x02\x00"
    source.ReferencedImageSequence = Sequence([Dataset()])
    source.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "9.8.7"
    source.add_new(0x00190010, "LO", "ACME")
    source.add_new(0x00191010, "LO", "private value")
    source.add_new(0x7FE00010, "OB", b"\x00\x00")
    dataset = reread(source)
    vrs: dict[str, str] = {}
    encoded = encode_dataset(dataset, vrs)
    assert encoded["ImageType"] == ["ORIGINAL", "PRIMARY"]
    assert encoded["InstanceNumber"] == "7 ", "IS keeps its padding, as the service's documents do"
    assert encoded["PixelSpacing"] == ["0.25", "0.25 "], "as in the real fixture: raw text, padding on the last value"
    assert encoded["AccessionNumber"] is None
    assert encoded["Rows"] == 640
    assert base64.b64decode(encoded["RedPaletteColorLookupTableData"]) == b"\x01\x00\x02\x00"
    assert encoded["ReferencedImageSequence"] == [{"ReferencedSOPInstanceUID": "9.8.7"}]
    assert encoded["00191010"] == "private value"
    assert encoded["00190010"] == "ACME"
    assert vrs["00191010"] == "LO"
    assert encoded["PixelData"] is None
    assert "SOPInstanceUID" not in vrs


def test_big_endian_words_are_base64_little_endian() -> None:
    from pydicom.data import get_testdata_file

    dataset = pydicom.dcmread(get_testdata_file("MR_small_bigendian.dcm"))
    little = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    big_values = encode_dataset(dataset, little_endian=False)
    little_values = encode_dataset(little)
    assert big_values["SmallestImagePixelValue"] == little_values["SmallestImagePixelValue"]
    assert big_values["PixelData"] is None


def test_split_series_and_document_shape() -> None:
    instances = processed(split_series(size=32))
    drafts = group_instances(instances)
    assert [len(draft.instances) for draft in drafts] == [2, 2]
    assert drafts[0].series_instance_uid == drafts[1].series_instance_uid
    names = {draft.levels["Patient"]["PatientName"] for draft in drafts}
    assert names == {"Phantom^Shepp^Logan", "Phantom^Renamed"}
    document = build_document("d" * 32, "e" * 32, drafts[0])
    assert list(document) == ["SchemaVersion", "DatastoreID", "ImageSetID", "Patient", "Study"]
    assert document["SchemaVersion"] == "1.1"
    series = document["Study"]["Series"][drafts[0].series_instance_uid]
    assert series["DICOM"]["StudyInstanceUID"] == document["Study"]["DICOM"]["StudyInstanceUID"]
    assert series["DICOM"]["Modality"] == "CT"
    instance = next(iter(series["Instances"].values()))
    assert set(instance) == {"DICOM", "DICOMVRs", "StoredTransferSyntaxUID", "ChecksumType", "ImageFrames"}
    assert instance["StoredTransferSyntaxUID"] == "1.2.840.10008.1.2.4.202"
    assert instance["ChecksumType"] == "DECOMPRESSED"
    assert "PatientName" not in instance["DICOM"] and "Modality" not in instance["DICOM"]
    assert instance["DICOM"]["TransferSyntaxUID"] == "1.2.840.10008.1.2.1"
    assert instance["DICOM"]["RescaleIntercept"] == "-1024 "
    json.dumps(document)


def test_one_series_is_one_image_set_in_instance_order() -> None:
    instances = processed(ct_series(3, 32))
    drafts = group_instances(list(reversed(instances)))
    assert len(drafts) == 1
    numbers = [instance.instance["DICOM"]["InstanceNumber"] for instance in drafts[0].instances]
    assert numbers == ["1 ", "2 ", "3 "]


def test_a_repeated_sop_instance_goes_to_another_image_set() -> None:
    files = ct_series(2, 32)
    drafts = group_instances(processed(files + files[:1]))
    assert [len(draft.instances) for draft in drafts] == [2, 1]


def test_studies_of_different_patients_never_share() -> None:
    other = Subject(patient_id="AHI-DEMO-002", patient_name="Other^Patient", study_key="s2")
    drafts = group_instances(processed(ct_series(2, 32) + ct_series(2, 32, subject=other)))
    assert len(drafts) == 2
