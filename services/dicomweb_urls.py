"""Where DICOMweb resources live: the origin for a connection and the URL of a study, series or instance.

HealthImaging serves DICOMweb on its own host, `dicom-medical-imaging.<region>.amazonaws.com`; the local
endpoint serves it on its one port (docs/dicomweb.md#console). Without `imageSetId` only primary image
sets are reachable, so the URL of a non-primary one carries `?imageSetId=`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode, urlsplit

DICOMWEB_HOST = "dicom-medical-imaging.{region}.amazonaws.com"
#: The region a local endpoint is signed for when the connection names none (the endpoint accepts any).
LOCAL_REGION = "us-east-1"


def dicomweb_origin(endpoint_url: str, region: str | None, local: bool) -> str:
    """`scheme://host[:port]` DICOMweb requests go to: the endpoint's own origin when local, AWS's DICOMweb host otherwise."""
    if local:
        parts = urlsplit(endpoint_url)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://" + DICOMWEB_HOST.format(region=region or LOCAL_REGION)


@dataclass(frozen=True)
class DicomwebTarget:
    """A study, a series (with `series_uid`) or an instance (with both UIDs) of one data store.

    `image_set_id` pins the request to that image set (the only way to reach a non-primary one).
    """

    datastore_id: str
    study_uid: str
    series_uid: str | None = None
    sop_uid: str | None = None
    image_set_id: str | None = None

    @property
    def level(self) -> str:
        return "instance" if self.sop_uid else "series" if self.series_uid else "study"

    def series(self, series_uid: str) -> DicomwebTarget:
        return replace(self, series_uid=series_uid, sop_uid=None)

    def instance(self, series_uid: str, sop_uid: str) -> DicomwebTarget:
        return replace(self, series_uid=series_uid, sop_uid=sop_uid)

    def path(self) -> str:
        """`/datastore/<id>/studies/<uid>[/series/<uid>[/instances/<uid>]]`, each segment percent-encoded."""
        parts = ["datastore", self.datastore_id, "studies", self.study_uid]
        if self.series_uid:
            parts += ["series", self.series_uid]
            if self.sop_uid:
                parts += ["instances", self.sop_uid]
        return "/" + "/".join(quote(part, safe="") for part in parts)

    def query(self) -> str:
        return "?" + urlencode({"imageSetId": self.image_set_id}) if self.image_set_id else ""


def dicomweb_url(origin: str, target: DicomwebTarget, below: str = "") -> str:
    """The full URL of `target` on `origin`, with `below` (such as `/frames/1,2`) after its path."""
    return origin + target.path() + below + target.query()


def base_url(origin: str, datastore_id: str) -> str:
    """The DICOMweb base URL of a data store (what dicomweb-client and viewers are given)."""
    return f"{origin}/datastore/{quote(datastore_id, safe='')}"
