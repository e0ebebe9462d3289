"""`ahi local` as a subprocess: prints the env lines, serves boto3, stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from ahi.emulator.cli import environment_lines
from ahi.emulator.loopback import is_loopback

STARTUP_SECONDS = 30


def ahi_command() -> list[str]:
    script = Path(sys.executable).with_name("ahi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ahi.tui.cli"]


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    return env


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Run `ahi local` and read its printed lines up to the stop hint; returns the process and the exports."""
    process = subprocess.Popen(
        [*ahi_command(), "local", "--state-dir", str(tmp_path / "state"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    exports: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = value
        if "stops it" in line:
            return process, exports
    process.wait(STARTUP_SECONDS)
    raise AssertionError(f"ahi local exited early: {process.returncode} {process.stderr.read() if process.stderr else ''}")


def stop(process: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    process.send_signal(sig)
    remaining, _ = process.communicate(timeout=STARTUP_SECONDS)
    return process.returncode, remaining


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_prints_env_lines_serves_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    process, exports = start(tmp_path)
    try:
        assert exports["AWS_DISABLE_HOST_PREFIX_INJECTION"] == "true"
        assert exports["AWS_DEFAULT_REGION"] == exports["AWS_REGION"] == "us-east-1"
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert not exports["AWS_ENDPOINT_URL"].endswith(":0")
        options = dict(
            endpoint_url=exports["AWS_ENDPOINT_URL"],
            region_name=exports["AWS_DEFAULT_REGION"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        mi = boto3.session.Session().client("medical-imaging", config=Config(inject_host_prefix=False), **options)
        created = mi.create_datastore(datastoreName="from-cli", clientToken="cli-1")
        assert mi.get_datastore(datastoreId=created["datastoreId"])["datastoreProperties"]["datastoreName"] == "from-cli"
        s3 = boto3.session.Session().client("s3", **options)
        s3.create_bucket(Bucket="cli-bucket")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["cli-bucket"]
    finally:
        returncode, remaining = stop(process, sig)
    assert returncode == 0
    assert "stopped" in remaining
    assert (tmp_path / "state" / "state.sqlite3").exists()


def test_stops_when_its_parent_closes_stdin(tmp_path: Path) -> None:
    """`--stop-when-stdin-closes`: the console's endpoint process ends with the console, even a killed one."""
    process = subprocess.Popen(
        [*ahi_command(), "local", "--state-dir", str(tmp_path / "state"), "--stop-when-stdin-closes"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(tmp_path),
    )
    assert process.stdout is not None and process.stdin is not None
    for line in process.stdout:
        if "stops it" in line:
            break
    process.stdin.close()
    assert process.wait(STARTUP_SECONDS) == 0
    assert "stopped" in process.stdout.read()


def test_state_survives_a_restart_of_the_process(tmp_path: Path) -> None:
    process, exports = start(tmp_path)
    options = dict(
        endpoint_url=exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id="AKID", aws_secret_access_key="secret",
    )
    try:
        mi = boto3.session.Session().client("medical-imaging", **options)
        datastore_id = mi.create_datastore(datastoreName="kept", clientToken="kept-1")["datastoreId"]
    finally:
        assert stop(process, signal.SIGTERM)[0] == 0
    process, exports = start(tmp_path)
    try:
        options["endpoint_url"] = exports["AWS_ENDPOINT_URL"]
        mi = boto3.session.Session().client("medical-imaging", **options)
        assert mi.get_datastore(datastoreId=datastore_id)["datastoreProperties"]["datastoreName"] == "kept"
    finally:
        assert stop(process, signal.SIGTERM)[0] == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--host", "0.0.0.0"], "not a loopback address"),
        (["--host", "192.0.2.10"], "--verify-signatures"),
        (["--verify-signatures"], "needs --secret"),
        (["--verify-signatures", "--secret", "no-equals-sign"], "AKID=SECRET"),
    ],
)
def test_refuses_unsafe_or_incomplete_options(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = subprocess.run(
        [*ahi_command(), "local", "--state-dir", str(tmp_path / "state"), *args],
        capture_output=True, text=True, timeout=STARTUP_SECONDS, env=clean_env(tmp_path),
    )
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "export" not in result.stdout


def test_verify_signatures_takes_secrets_from_a_file_and_never_prints_them(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.write_text("# access keys of this endpoint\nAKIDCLI=cli-secret\n")
    process, exports = start(tmp_path, "--verify-signatures", "--secrets-file", str(secrets), "--max-clock-skew", "300")
    try:
        assert exports["AWS_ACCESS_KEY_ID"] == "AKIDCLI" and "AWS_SECRET_ACCESS_KEY" not in exports
        assert "cli-secret" not in Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")
        options = dict(endpoint_url=exports["AWS_ENDPOINT_URL"], region_name="us-east-1", aws_access_key_id="AKIDCLI")
        good = boto3.session.Session().client("medical-imaging", aws_secret_access_key="cli-secret", **options)
        assert good.list_datastores()["datastoreSummaries"] == []
        bad = boto3.session.Session().client(
            "medical-imaging", aws_secret_access_key="wrong", config=Config(retries={"total_max_attempts": 1}), **options
        )
        with pytest.raises(bad.exceptions.ClientError, match="InvalidSignatureException"):
            bad.list_datastores()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=STARTUP_SECONDS)
    assert process.returncode == 0
    assert "cli-secret" not in out + err


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    process, exports = start(tmp_path / "first")
    try:
        port = exports["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
        result = subprocess.run(
            [*ahi_command(), "local", "--state-dir", str(tmp_path / "second"), "--port", port],
            capture_output=True, text=True, timeout=STARTUP_SECONDS, env=clean_env(tmp_path),
        )
        assert result.returncode == 1
        assert f"cannot bind 127.0.0.1:{port}" in result.stderr
    finally:
        assert stop(process, signal.SIGTERM)[0] == 0


def test_helpers() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com") and not is_loopback("10.0.0.1")
    lines = environment_lines("http://127.0.0.1:9", "eu-west-1", "AK", "SK")
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:9" in lines and "export AWS_REGION=eu-west-1" in lines
    assert not any("SECRET" in line and "=" in line for line in environment_lines("http://h:9", "us-east-1", "AK", None))
