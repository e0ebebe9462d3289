"""The exit watchdog ends a process whose shutdown hangs after its terminal went away, after cleaning up."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HUNG_SHUTDOWN = """
import sys, threading
from pathlib import Path
from ahi.tui.exit_watchdog import ExitWatchdog
marker = Path(sys.argv[1])
ExitWatchdog(lambda: marker.write_text("cleaned up"), grace_s=0.5).arm()
threading.Event().wait()  # a shutdown that never finishes
"""

FINISHED_SHUTDOWN = """
import sys, time
from pathlib import Path
from ahi.tui.exit_watchdog import ExitWatchdog
marker = Path(sys.argv[1])
watchdog = ExitWatchdog(lambda: marker.write_text("cleaned up"), grace_s=0.3)
watchdog.arm()
watchdog.disarm()
time.sleep(0.6)
print("the launcher cleaned up")
"""


def test_a_hung_shutdown_is_cleaned_up_and_ended(tmp_path: Path) -> None:
    marker = tmp_path / "cleanup"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", HUNG_SHUTDOWN, str(marker)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "cleaned up"
    assert time.monotonic() - started < 20


def test_a_shutdown_that_finishes_is_left_to_the_launcher(tmp_path: Path) -> None:
    marker = tmp_path / "cleanup"
    done = subprocess.run([sys.executable, "-c", FINISHED_SHUTDOWN, str(marker)], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "the launcher cleaned up"
    assert not marker.exists()
