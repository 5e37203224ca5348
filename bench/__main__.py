"""``python -m bench``: see ``bench.cli``."""

import contextlib
import logging
import os
import sys

try:
    from bench.cli import main

    status = main()
except KeyboardInterrupt:  # Ctrl-C while jax imports, before the CLI handles it
    print("python -m bench: interrupted", file=sys.stderr)
    status = 130
# Every file is written and closed, and every thread of ours idle, when main returns
# (compiles are waited for: jax's cache writes its entries in place). Leave without
# Python's teardown of jax, XLA and pandas, which took 0.3-0.6 s of each command on a
# 2-core machine (drawing workers no report took were stopped by the command).
logging.shutdown()
for stream in (sys.stdout, sys.stderr):
    with contextlib.suppress(OSError):  # a reader that closed its pipe: nothing to say
        stream.flush()
os._exit(status)
