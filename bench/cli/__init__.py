"""``python -m bench {run,list,report}``: the command-line interface.

Bad input (unknown names, malformed specs, invalid values or settings, an unreadable
config, a missing run folder) exits with status 2 and one line on stderr, before any
folder is created: every cell is built (``bench.runner.prepare``) before the run folder
exists. Ctrl-C exits with 130 and says where the finished cells were kept.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Sequence

from bench.cli.common import EXIT_INTERRUPTED, EXIT_USAGE
from bench.cli.parser import build_parser
from bench.cli.run import resolve
from bench.cli.show import latest_run
from bench.cli.summary import print_summary


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    command = "run"
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        command = args.command
        return args.func(args, argv)
    except (ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        _error(parser.prog, command, exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        said = "interrupted before anything was written"
        if command == "report":  # figures already written stay, each one whole
            said = (
                "interrupted; the figures written so far are whole, the pages may be "
                "those of an earlier build; run report again to finish it"
            )
        print(f"{parser.prog} {command}: {said}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _error(prog: str, command: str, exc: BaseException) -> None:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        msg = f"{exc.filename}: {exc.strerror}"
    else:
        msg = str(exc) or type(exc).__name__
    msg = " ".join(msg.split())  # one line
    print(f"{prog} {command}: error: {msg}", file=sys.stderr)


__all__ = ["build_parser", "latest_run", "main", "print_summary", "resolve"]
