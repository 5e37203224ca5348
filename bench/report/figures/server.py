"""What the drawing workers' forkserver preloads (bench/report/draw.py): the figure
code, imported once for every worker it forks, and a quick exit.

The forkserver leaves when the process that started it has gone, through Python's
full teardown of matplotlib, pandas and numpy: 0.12-0.18 s, measured from the
command's exit to the end of its output pipes, which a caller reading the output
(a script, ``subprocess.run(capture_output=True)``) waits for. It has nothing left
to write then, so it leaves at its first exit handler; it and its workers ignore
Ctrl-C, which the command handles. Only the forkserver imports this module: the
workers it forks leave through ``os._exit`` already, and a process that draws its
figures itself imports ``bench.report.figures``, never this.
"""

import atexit
import os
import signal
import sys

import bench.report.figures  # noqa: F401  (what every worker needs)


def _leave() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing to say
            pass
    os._exit(0)


atexit.register(_leave)
# Ctrl-C in a terminal reaches the whole process group: the command says what it kept
# and stops its workers, which printed a KeyboardInterrupt traceback each. The server
# hands the handler it finds here to every worker it forks.
signal.signal(signal.SIGINT, signal.SIG_IGN)
