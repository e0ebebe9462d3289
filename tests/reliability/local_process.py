"""`ahi local` in a child process that a test may SIGKILL, started in milliseconds from a forkserver.

Importing moto, botocore and the endpoint takes seconds; a forkserver that preloaded them forks each
child ready to run. The child runs the real entry point (`tui.cli.main(["local", ...])`) with its
stdout and stderr in files, so a test can read every line the endpoint logged.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ahi.services.session import refuse_truncated_body

PRELOAD = ["ahi.tui.cli", "ahi.emulator.cli", "ahi.emulator.server", "ahi.emulator.faults.cli", "boto3", "moto.s3.models"]
STARTUP_SECONDS = 60.0
READY_LINE = "stops it"
_context: ForkServerContext | None = None


def context() -> ForkServerContext:
    """The forkserver context, its server preloading the endpoint's imports (once per test process)."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def run_ahi_local(argv: list[str], stdout_path: str, stderr_path: str, before: Callable[[], None] | None) -> None:
    """Child body: point fds 1 and 2 at the files, run `before` (if any), then `ahi local` itself."""
    with open(stdout_path, "a", buffering=1) as out, open(stderr_path, "a", buffering=1) as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    if before is not None:
        before()
    from ahi.tui.cli import main

    sys.exit(main(["local", *argv]))


def with_umask(mask: int, then: Callable[[], None] | None = None) -> None:
    """A `before` hook: set the child's umask (then run `then`), to show permissions do not rely on it."""
    os.umask(mask)
    if then is not None:
        then()


def with_debug_logging() -> None:
    """A `before` hook: our own loggers at DEBUG (`ahi local` itself logs INFO), to see every line we could write."""
    import logging

    logging.getLogger("emulator").setLevel(logging.DEBUG)


@dataclass
class LocalProcess:
    """One `ahi local` child, with the exports it printed."""

    process: BaseProcess
    stdout_path: Path
    stderr_path: Path
    exports: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.exports["AWS_ENDPOINT_URL"]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def client(self, service: str = "medical-imaging", attempts: int = 1, **kwargs: Any) -> Any:
        """A boto3 client on this endpoint with the printed credentials; `attempts` total tries per call."""
        options: dict[str, Any] = {
            "endpoint_url": self.url,
            "region_name": self.exports.get("AWS_REGION", "us-east-1"),
            "aws_access_key_id": self.exports["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": self.exports["AWS_SECRET_ACCESS_KEY"],
            "config": Config(
                inject_host_prefix=False,
                retries={"mode": "standard", "total_max_attempts": attempts},
                connect_timeout=5,
                read_timeout=30,
            ),
        }
        options.update(kwargs)
        client = boto3.session.Session().client(service, **options)
        client.meta.events.register("before-parse.*.*", refuse_truncated_body)
        return client

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed by the endpoint."""
        if self.process.pid is not None and self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(10)

    def stop(self) -> int | None:
        """SIGTERM and wait: the endpoint's own clean shutdown; returns the exit code."""
        if self.process.pid is not None and self.process.is_alive():
            os.kill(self.process.pid, signal.SIGTERM)
        self.process.join(30)
        return self.process.exitcode

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def start_local(
    log_dir: Path, *args: str, before: Callable[[], None] | None = None, timeout: float = STARTUP_SECONDS
) -> LocalProcess:
    """Fork `ahi local ARGS`, wait for its ready line and read its exports; a failed start raises with its stderr."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = log_dir / "stdout.log", log_dir / "stderr.log"
    offset = stdout_path.stat().st_size if stdout_path.exists() else 0
    process = context().Process(
        target=run_ahi_local, args=(list(args), str(stdout_path), str(stderr_path), before), daemon=True
    )
    process.start()
    child = LocalProcess(process, stdout_path, stderr_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = stdout_path.read_text(errors="replace")[offset:] if stdout_path.exists() else ""
        if READY_LINE in text:
            for line in text.splitlines():
                if line.startswith("export "):
                    name, _, value = line.removeprefix("export ").partition("=")
                    child.exports[name] = value
            return child
        if not process.is_alive():
            break
        time.sleep(0.02)
    child.kill()
    stderr = stderr_path.read_text(errors="replace") if stderr_path.exists() else ""
    raise AssertionError(f"ahi local did not start (exit {process.exitcode}): {stderr[-2000:]}")
