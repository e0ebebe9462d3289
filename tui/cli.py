"""The `ahi` command: the console (default), `ahi local` (the local endpoint) and `ahi info`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand, or open the console."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "local":
        from ahi.emulator.cli import main as local_main

        return local_main(args[1:])
    if args and args[0] == "info":
        from ahi.tui.info import main as info_main

        return info_main(args[1:])
    from ahi.tui.launch import main as console_main

    return console_main(args)


if __name__ == "__main__":
    sys.exit(main())
