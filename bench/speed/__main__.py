"""``python -m bench.speed``: see ``bench.speed``."""

import sys

from bench.speed import main

main(sys.argv[1:])
