"""The console's DICOMweb side: export `.dcm` files with progress, and copy a DICOMweb URL.

Export writes local files and changes nothing in AWS, so read-only mode allows it; it still asks for the
folder first (pre-filled with the last one used, remembered in `dicomweb-export.json` beside the view
state). A thread worker runs the GetDICOMInstance calls and posts progress messages to ExportStatus,
which alone changes what is shown (docs/dicomweb.md#console).
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any, Callable

from textual import on
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from ahi.screens.prompt_dialog import PromptDialog
from ahi.services.dicomweb import DicomwebService
from ahi.services.dicomweb_export import ExportItem, ExportSummary, run_export
from ahi.services.dicomweb_urls import DicomwebTarget
from ahi.tui.literal import literal
from ahi.tui.state_file import read_section, save_private

FOLDER_FILE = "dicomweb-export.json"
DEFAULT_FOLDER = "dicom-export"


class ExportFolder:
    """The folder the last export went to (the dialog's pre-filled value); saved off the UI thread."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        folder = read_section(path, "export").get("folder") if path is not None else None
        self.folder = folder if isinstance(folder, str) and folder else str(Path.cwd() / DEFAULT_FOLDER)

    def remember(self, folder: str) -> None:
        self.folder = folder
        if self.path is not None:
            save_private(self.path, {"export": {"folder": folder}}, "the export folder")


_folders: dict[Path | None, ExportFolder] = {}


def export_folder(view_state_path: Path | None) -> ExportFolder:
    """The one ExportFolder of a state folder (None: remembered for this run only)."""
    path = view_state_path.parent / FOLDER_FILE if view_state_path is not None else None
    if path not in _folders:
        _folders[path] = ExportFolder(path)
    return _folders[path]


def folder_problem(text: str) -> str | None:
    """Why `text` cannot be an export folder (an existing file), or None."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        return f"{path} exists and is not a folder"
    return None


def ask_export_folder(screen: Any, what: str, then: Callable[[Path], None]) -> None:
    """The folder dialog (the export's confirmation): pre-filled, remembered once accepted."""
    memory = export_folder(screen.ahi.view_state.path)
    hint = (
        "GetDICOMInstance serves the image set's latest version, in Explicit VR Little Endian "
        "(as stored where that is refused). Files are named by SOP Instance UID; a name already taken gets a suffix, "
        "nothing is overwritten."
    )

    def chosen(text: str | None) -> None:
        if text:
            folder = Path(text).expanduser()
            threading.Thread(target=memory.remember, args=(str(folder),), daemon=True).start()
            then(folder)

    screen.app.push_screen(PromptDialog(f"Export {what} as .dcm files to the folder", hint, memory.folder, folder_problem), chosen)


def copy_url(screen: Any, service: DicomwebService, target: DicomwebTarget) -> None:
    """Put `target`'s URL on the clipboard (OSC 52) and say which level it is and whether it needs `imageSetId`."""
    url = service.url(target)
    screen.app.copy_to_clipboard(url)
    pinned = " (non-primary: reachable only with imageSetId)" if target.image_set_id else ""
    screen.notify(screen.ahi.formatter.text(url), title=f"DICOMweb {target.level} URL copied{pinned}", markup=False)


def notify_summary(app: Any, summary: ExportSummary) -> None:
    """The export's summary as a notification (a warning when an instance failed)."""
    severity = "warning" if summary.failed else "information"
    app.notify(app.formatter.text(summary.text()), title="DICOMweb export", severity=severity, markup=False)


class ExportProgress(Message):
    """`done` of `total` instances handled; `name` the last one."""

    def __init__(self, done: int, total: int, name: str) -> None:
        super().__init__()
        self.done, self.total, self.name = done, total, name


class ExportDone(Message):
    def __init__(self, summary: ExportSummary) -> None:
        super().__init__()
        self.summary = summary


class ExportStatus(Static):
    """One line under a screen: hidden until an export starts, then its progress, then its summary."""

    DEFAULT_CSS = """
    ExportStatus { height: auto; padding: 0 1; display: none; }
    ExportStatus.-shown { display: block; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.summary: ExportSummary | None = None
        self.running = False

    def start(self, service: DicomwebService, items: list[ExportItem], folder: Path) -> bool:
        """Begin an export (False when one is already running here).

        The worker belongs to the app, so leaving the screen does not stop it: its summary then comes as a
        notification alone. Quitting the console cancels it between two instances.
        """
        if self.running:
            return False
        self.running, self.summary = True, None
        self.add_class("-shown")
        self.update(literal(self.app.formatter.text(f"Exporting {len(items)} instances to {folder}…")))
        self.app.run_worker(partial(self._run, service, items, folder), thread=True, group="dicomweb-export", exit_on_error=False)
        return True

    def _run(self, service: DicomwebService, items: list[ExportItem], folder: Path) -> None:
        """Off the UI thread: every GetDICOMInstance call; only messages reach the widget."""
        worker = get_current_worker()
        try:
            summary = run_export(
                service, items, folder, lambda done, total, name: self.post_message(ExportProgress(done, total, name)), lambda: worker.is_cancelled
            )
        except Exception as exc:  # a failure of the export itself is shown, never a crash
            summary = ExportSummary(folder, len(items), failed=[("export", f"{type(exc).__name__}: {exc}")])
        if not self.post_message(ExportDone(summary)):
            try:
                self.app.call_from_thread(notify_summary, self.app, summary)
            except RuntimeError:  # the console has quit: nobody to tell
                pass

    @on(ExportProgress)
    def _progress(self, message: ExportProgress) -> None:
        message.stop()
        self.update(literal(f"Exporting {message.done}/{message.total} · {message.name}.dcm"))

    @on(ExportDone)
    def _done(self, message: ExportDone) -> None:
        message.stop()
        self.running, self.summary = False, message.summary
        self.update(literal("Export: " + self.app.formatter.text(message.summary.text()), style="red" if message.summary.failed else "green"))
        notify_summary(self.app, message.summary)
