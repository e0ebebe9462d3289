"""`ahi local`: run the local endpoint in the foreground and print what a shell or the AWS CLI needs."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from ahi.emulator.config import DEFAULT_MAX_CLOCK_SKEW, EndpointConfig, default_state_dir
from ahi.emulator.demo import cli as demo_cli
from ahi.emulator.faults import cli as faults_cli
from ahi.emulator.loopback import is_loopback

if TYPE_CHECKING:
    from ahi.emulator.server import LocalEndpoint

DEFAULT_REGION = "us-east-1"
DUMMY_ACCESS_KEY = "AKIDLOCALENDPOINT"
DUMMY_SECRET_KEY = "local-endpoint-secret"
#: Environment variable with AKID=SECRET entries, as in --secrets-file.
SECRETS_ENV = "AHI_LOCAL_SECRETS"

def build_parser() -> argparse.ArgumentParser:
    """The options of `ahi local`, with `--demo` and `--faults` from their own modules."""
    parser = argparse.ArgumentParser(
        prog="ahi local",
        description="Serve AWS HealthImaging (and S3, KMS, STS through moto) on one local port.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; loopback only "
                        "unless --verify-signatures)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 (default) picks a free one and prints it")
    parser.add_argument("--state-dir", type=Path, default=None, help=f"SQLite state directory (default {default_state_dir()})")
    parser.add_argument("--region", default=DEFAULT_REGION, help="region printed for clients (default us-east-1)")
    parser.add_argument("--verify-signatures", action="store_true",
                        help="check SigV4 on every request, for every service on the port")
    parser.add_argument("--secrets-file", type=Path, default=None, metavar="PATH",
                        help="AKID=SECRET lines (and *=SECRET for a shared secret) for --verify-signatures; "
                        f"or set {SECRETS_ENV} to the same text. Keeps secrets out of the process list")
    parser.add_argument("--secret", action="append", default=[], metavar="AKID=SECRET",
                        help="an access key id and its secret (repeatable; visible in the process list, "
                        "prefer --secrets-file)")
    parser.add_argument("--shared-secret", default=None, help="one secret accepted for any access key id "
                        "(visible in the process list, prefer *=SECRET in --secrets-file)")
    parser.add_argument("--max-clock-skew", type=clock_skew, default=DEFAULT_MAX_CLOCK_SKEW, metavar="SECONDS|off",
                        help="refuse signed requests whose X-Amz-Date is further off than this, and presigned URLs "
                        f"past X-Amz-Expires (default {DEFAULT_MAX_CLOCK_SKEW:g}, as AWS; 'off' for frozen clocks)")
    parser.add_argument("--stop-when-stdin-closes", action="store_true",
                        help="also stop when standard input closes (for a parent process that may die without stopping it)")
    parser.add_argument("--imageset-lock-seconds", type=float, default=None, metavar="SECONDS",
                        help="how long an image set update, copy or delete stays LOCKED (default "
                        f"{EndpointConfig.imageset_lock_seconds})")
    parser.add_argument("--clock-offset", type=clock_offset, default=0.0, metavar="DURATION",
                        help="start the storage-tier clock this far ahead (e.g. 31d, 12h, 90m, 45s; default 0), to "
                        "watch image sets move to Archive Instant Access; only tiering reads this clock. "
                        "POST /_ahi/clock moves it while the endpoint runs (docs/storage-tiers.md)")
    demo_cli.add_arguments(parser)
    faults_cli.add_arguments(parser)
    return parser


_DURATION_UNITS = {"d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0}


def clock_offset(text: str) -> float:
    """`--clock-offset`: a number of seconds, or a number followed by d, h, m or s; 0 or more."""
    raw = text.strip().lower()
    scale = _DURATION_UNITS.get(raw[-1:], None)
    number = raw[:-1] if scale is not None else raw
    try:
        value = float(number) * (scale or 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 31d, 12h, 90m, 45s or 3600") from None
    if not 0 <= value <= 100 * 365 * 86_400.0:
        raise argparse.ArgumentTypeError(f"{text!r}: the offset must be between 0 and 100 years")
    return value


def clock_skew(text: str) -> float | None:
    """`--max-clock-skew`: seconds (0 or more), or `off`."""
    if text.strip().lower() == "off":
        return None
    value = float(text)
    if not value >= 0:
        raise ValueError(text)
    return value


def parse_secrets(pairs: list[str], parser: argparse.ArgumentParser, source: str = "--secret") -> dict[str, str]:
    """AKID=SECRET pairs; the error names the pair by its access key id only, never its secret."""
    secrets: dict[str, str] = {}
    for pair in pairs:
        akid, sep, secret = pair.partition("=")
        if not sep or not akid.strip() or not secret.strip():
            shown = f"{akid.strip()}=…" if sep else "a value without '='"
            parser.error(f"{source} expects AKID=SECRET, got {shown}")
        secrets[akid.strip()] = secret.strip()
    return secrets


def secret_lines(text: str) -> list[str]:
    """The AKID=SECRET entries of a secrets file or variable: one per line (or separated by spaces/commas), # comments."""
    entries: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        entries.extend(part for part in line.replace(",", " ").split() if part)
    return entries


def gather_secrets(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[dict[str, str], str | None]:
    """Access keys and the shared secret from --secret/--shared-secret, --secrets-file and the environment."""
    secrets = parse_secrets(args.secret, parser)
    sources: list[tuple[str, str]] = []
    if args.secrets_file is not None:
        try:
            sources.append((str(args.secrets_file), args.secrets_file.expanduser().read_text(encoding="utf-8")))
        except OSError as exc:
            parser.error(f"cannot read --secrets-file {args.secrets_file}: {exc.strerror or exc}")
    if os.environ.get(SECRETS_ENV):
        sources.append((SECRETS_ENV, os.environ[SECRETS_ENV]))
    shared = args.shared_secret
    for source, text in sources:
        for akid, secret in parse_secrets(secret_lines(text), parser, source).items():
            if akid == "*":
                shared = secret
            else:
                secrets[akid] = secret
    return secrets, shared


def environment_lines(endpoint_url: str, region: str, access_key: str | None, secret_key: str | None) -> list[str]:
    """The `export` lines that point boto3 and the AWS CLI at the endpoint.

    A real secret (signature verification on) is never printed: only a comment saying whose it is.
    """
    lines = [
        f"export AWS_ENDPOINT_URL={endpoint_url}",
        "export AWS_DISABLE_HOST_PREFIX_INJECTION=true",
        f"export AWS_DEFAULT_REGION={region}",
        f"export AWS_REGION={region}",
    ]
    if access_key is not None:
        lines.append(f"export AWS_ACCESS_KEY_ID={access_key}")
    if secret_key is not None:
        lines.append(f"export AWS_SECRET_ACCESS_KEY={secret_key}")
    else:
        whose = f"of {access_key}" if access_key is not None else "you configured"
        lines.append(f"# AWS_SECRET_ACCESS_KEY: the secret {whose} (not printed)")
    return lines


def _warm_moto() -> None:
    """Load moto in the background: a new state directory is about to be seeded, and its KMS keys need moto.

    moto otherwise loads on the first request that needs it, which on a first launch is the demo's first
    CreateKey: the console's listing of the demo's data stores would wait for that load.
    """
    from ahi.emulator.moto_world import moto_app

    threading.Thread(target=moto_app, name="ahi-moto-warm", daemon=True).start()


def _stop_at_end_of_input(stop: threading.Event) -> None:
    """Read standard input to its end (its writer closed it or died), then stop."""
    while sys.stdin.buffer.read1(4096):
        pass
    stop.set()


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status."""
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    secrets, shared_secret = gather_secrets(args, parser)
    if args.secret or args.shared_secret:
        print("ahi local: secrets given on the command line are visible to other users of this machine "
              f"(ps); prefer --secrets-file or {SECRETS_ENV}.", file=sys.stderr)
    if not is_loopback(args.host) and not args.verify_signatures:
        parser.error(
            f"refusing to bind {args.host}: it is not a loopback address, and without --verify-signatures anyone "
            "who can reach it could read and change the endpoint's data. Add --verify-signatures with --secret or "
            "--shared-secret, or bind 127.0.0.1."
        )
    if args.verify_signatures and not secrets and shared_secret is None:
        parser.error(f"--verify-signatures needs --secrets-file, {SECRETS_ENV}, --secret AKID=SECRET or --shared-secret")
    config = EndpointConfig(
        host=args.host,
        port=args.port,
        verify_signatures=args.verify_signatures,
        secrets=secrets,
        shared_secret=shared_secret,
        max_clock_skew=args.max_clock_skew,
        clock_offset_seconds=args.clock_offset,
    )
    if args.state_dir is not None:
        config.state_dir = args.state_dir.expanduser()
    if args.imageset_lock_seconds is not None:
        if args.imageset_lock_seconds < 0:
            parser.error("--imageset-lock-seconds must be 0 or more")
        config.imageset_lock_seconds = args.imageset_lock_seconds
    faults_cli.configure(args, config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.verify_signatures:
        access_key, secret_key = next(iter(secrets), None), None
    else:  # any key is accepted: the dummy pair is no secret
        access_key, secret_key = DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY

    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    from ahi.emulator.server import LocalEndpoint  # heavy (botocore, Werkzeug); only once the options are known to be good

    new_state = not any(config.state_dir.glob("*.sqlite3")) if config.state_dir.is_dir() else True
    try:
        endpoint: LocalEndpoint = LocalEndpoint(config).start()
    except OSError as exc:
        print(f"ahi local: cannot bind {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    if args.stop_when_stdin_closes:
        threading.Thread(target=_stop_at_end_of_input, args=(stop,), name="ahi-stdin-watch", daemon=True).start()
    if new_state or demo_cli.wants_moto_soon(args):
        _warm_moto()
    try:
        demo_cli.on_started(args, endpoint)
        faults_cli.on_started(args, endpoint)
        print(f"# ahi local endpoint on {endpoint.url} (state: {config.state_dir})", file=out)
        for line in environment_lines(endpoint.url, args.region, access_key, secret_key):
            print(line, file=out)
        print("# Ctrl+C or SIGTERM stops it.", file=out, flush=True)
        demo_cli.on_announced(args, endpoint, out, stop)
        while not stop.wait(0.5):
            pass
    finally:
        endpoint.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("# ahi local endpoint stopped.", file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
