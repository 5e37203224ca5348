"""``python -m bench``: see ``bench.cli``."""

import sys

try:
    from bench.cli import main

    status = main()
except KeyboardInterrupt:  # Ctrl-C while jax imports, before the CLI handles it
    print("python -m bench: interrupted", file=sys.stderr)
    status = 130
raise SystemExit(status)
