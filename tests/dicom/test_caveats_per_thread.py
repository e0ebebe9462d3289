"""A file's import caveats are the warnings of the thread reading it, never another thread's."""

from __future__ import annotations

import threading
import warnings

from ahi.emulator.dicom.parse import CaveatCollector

PADDING = "The pixel data holds 2 bytes of excess padding after its frames"


def pydicom_warns(text: str) -> None:
    """Raise a UserWarning as code in pydicom does (attributed to a pydicom module, one fixed location)."""
    exec(compile("warnings.warn(text, UserWarning, stacklevel=1)", "pydicom/filereader.py", "exec"),  # noqa: S102
         {"__name__": "pydicom.filereader", "warnings": warnings, "text": text})  # fmt: skip


def test_a_warning_on_another_thread_is_not_this_files_caveat_and_each_thread_keeps_its_own() -> None:
    first, second = CaveatCollector(), CaveatCollector()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def read_first_file() -> None:
        with first.capture():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def read_second_file() -> None:
        first_in.wait(10)
        pydicom_warns("a warning of this thread's own, outside any file")  # while the first file is read
        with second.capture():
            second_in.set()
            first_out.wait(10)  # the first thread's block has ended: this one still collects
            pydicom_warns(PADDING)

    threads = [threading.Thread(target=read_first_file), threading.Thread(target=read_second_file)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert first_out.is_set()
    assert first.caveats == []
    assert [caveat.type for caveat in second.caveats] == ["PixelDataPadding"]


def test_the_same_warning_twice_is_a_caveat_of_both_files() -> None:
    first, second = CaveatCollector(), CaveatCollector()
    for collector in (first, second):
        with collector.capture():
            pydicom_warns(PADDING)
    assert len(first.caveats) == len(second.caveats) == 1
