"""Frame bytes as files under the state directory; the image_frames rows say which are live.

Frames can be large, so they stay out of SQLite (no WAL copy, no writer lock held while megabytes
are written). An import writes each frame under `frames/jobs/<jobId>/` before the transaction that
inserts its row; a frame whose row never committed is an orphan that `discard_orphans` removes
when the job resumes or ends.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class FrameFiles:
    """The `frames/` directory of one endpoint's state."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / "frames"

    @staticmethod
    def job_path(job_id: str, frame_id: str, suffix: str = ".jph") -> str:
        """Where an import job writes a frame (relative to the frame root).

        The suffix names the stored syntax, which GetImageFrame's content type follows
        (docs/stored-syntaxes.md); the path is kept in the image_frames row.
        """
        return f"jobs/{job_id}/{frame_id}{suffix}"

    def write(self, relative: str, data: bytes) -> None:
        """Write a frame file completely (temp file + rename, so a reader never sees half of it).

        Folders are 0700 and files 0600 whatever the umask, like the rest of the state directory.
        """
        target = self.root / relative
        self._private_folders(target.parent)
        temporary = target.with_suffix(".part")
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)

    def _private_folders(self, folder: Path) -> None:
        """Create `folder` and any missing parent up to the state directory, each 0700."""
        if folder.is_dir():
            return
        self._private_folders(folder.parent)
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            return
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask

    def read(self, relative: str) -> bytes:
        """A frame's bytes."""
        return (self.root / relative).read_bytes()

    def discard_orphans(self, conn: sqlite3.Connection, job_id: str) -> int:
        """Remove a job's frame files that no committed image_frames row references; returns the count."""
        folder = self.root / "jobs" / job_id
        if not folder.is_dir():
            return 0
        prefix = f"jobs/{job_id}/"
        live = {
            row[0]
            for row in conn.execute(
                "SELECT path FROM image_frames WHERE path >= ? AND path < ?", (prefix, prefix + "\uffff")
            )
        }
        removed = 0
        for entry in folder.iterdir():
            if f"{prefix}{entry.name}" not in live:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed
