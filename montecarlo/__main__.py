"""``python -m montecarlo``: the command line of :mod:`montecarlo.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
