"""Files that claim gigabytes fail one by one, the good files beside them import, and the endpoint stays small.

The endpoint runs in its own process (`ahi local`), so its peak resident memory (VmHWM) measures what the
whole job cost it: listing, reading every object, parsing, decoding and committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from import_bombs import BOMBS, series_over_quota  # noqa: E402
from import_job_helpers import active_datastore, read_output, start, upload, wait_for_job  # noqa: E402
from local_process import start_local  # noqa: E402

from ahi.emulator.demo.phantoms import ct_series  # noqa: E402

#: The endpoint's peak resident memory over the whole job, bombs included; a clean start is ~150 MB.
PEAK_RSS_BOUND_MB = 500

#: Words each bomb's failure line must hold: the rule it broke, in terms a person can act on.
EXPECTED: dict[str, tuple[str, ...]] = {
    "bombs/jpeg-sof.dcm": ("JPEG", "65535 x 65535", "Rows x Columns of 64 x 64"),
    "bombs/j2k-siz.dcm": ("JPEG 2000", "60000 x 60000", "Rows x Columns of 64 x 64"),
    "bombs/huge-rows-columns.dcm": ("65535 x 65535", "frame size limit"),
    "bombs/frame-count.dcm": ("NumberOfFrames", "2000000000"),
    "bombs/deflate.dcm": ("Deflated", "inflate", "limit"),
    "bombs/metadata.dcm": ("metadata", "50 MB"),
    "bombs/nested-sequence.dcm": ("metadata", "50 MB"),
    "bombs/element-count.dcm": ("more than 500000 DICOM elements",),
}


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak RSS from /proc")
def test_bombs_fail_each_for_its_rule_beside_good_files_and_memory_stays_bounded(tmp_path: Path) -> None:
    good = ct_series(2, 64, series_key="good")
    bombs = [(name, make()) for name, make in BOMBS.items()]
    first, second = series = series_over_quota()
    child = start_local(tmp_path / "logs", "--state-dir", str(tmp_path / "state"))
    try:
        mi, s3 = child.client(), child.client("s3")
        upload(s3, good + bombs + series)
        datastore_id = active_datastore(mi)
        properties = wait_for_job(mi, datastore_id, start(mi, datastore_id), timeout=120)
        peak = peak_rss_mb(child.process.pid)
        output = read_output(s3, properties)
    finally:
        child.stop()
    assert properties["jobStatus"] == "COMPLETED", properties
    failures = {line["inputFile"].removeprefix("in/"): line["exception"] for line in output.failure}
    assert set(failures) == {*BOMBS, second[0]}, failures
    for name, words in EXPECTED.items():
        exception = failures[name]
        assert exception["exceptionType"] == "ValidationException", (name, exception)
        for word in words:
            assert word in exception["message"], (name, word, exception["message"])
    # The second half of a series over the quota fails; the first, which fits, is imported.
    assert "would hold more than 50 MB of metadata" in failures[second[0]]["message"]
    imported = sorted(line["inputFile"].removeprefix("in/") for line in output.success)
    assert imported == sorted([first[0], *(name for name, _ in good)])
    assert output.manifest["numberOfFilesWithCustomerError"] == len(BOMBS) + 1
    assert output.manifest["numberOfImportedFiles"] == len(good) + 1
    print(f"endpoint peak RSS {peak:.0f} MB")
    assert peak < PEAK_RSS_BOUND_MB, f"endpoint peak RSS {peak:.0f} MB"
