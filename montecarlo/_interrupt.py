"""Ctrl-C while the ``montecarlo`` command starts up: one line and status 130.

Importing numba, xarray and the kernels takes a second or two, before
:func:`montecarlo.cli.main` can catch anything. When this process is the
``montecarlo`` command (the console script, or ``python -m montecarlo``), the
package installs, before its heavy imports, a :data:`sys.excepthook` that turns
an uncaught ``KeyboardInterrupt`` into ``montecarlo: interrupted`` and status
130, as the command reports it once it runs. A program that merely imports
montecarlo keeps Python's own hook. Only the standard library is imported here.
"""

from __future__ import annotations

import os
import sys

#: The command's status after Ctrl-C: 128 + SIGINT.
INTERRUPTED_STATUS = 130
# Interpreter options that take a value in the next argument.
_WITH_VALUE = {"-X", "-W", "-Q"}


def is_command(orig_argv: list[str] | None = None, argv0: str | None = None) -> bool:
    """Whether this process runs the ``montecarlo`` command."""
    orig = list(getattr(sys, "orig_argv", []) if orig_argv is None else orig_argv)
    args = iter(orig[1:])
    for arg in args:
        if arg in ("-m", "-mmontecarlo"):
            return arg == "-mmontecarlo" or next(args, None) == "montecarlo"
        if arg in _WITH_VALUE:
            next(args, None)
        elif arg == "-c" or not arg.startswith("-"):
            break  # a command string or a script: the rest are its arguments
    if argv0 is None:
        argv0 = sys.argv[0] if sys.argv else ""
    return os.path.basename(argv0).split(".")[0] in ("montecarlo", "montecarlo-script")


def report_interrupt(exc_type, exc, tb, *, _exit=os._exit) -> None:
    """The excepthook: KeyboardInterrupt -> one line, status 130; anything else as usual."""
    if isinstance(exc_type, type) and issubclass(exc_type, KeyboardInterrupt):
        try:
            sys.stderr.write("montecarlo: interrupted\n")
            sys.stderr.flush()
        finally:
            _exit(INTERRUPTED_STATUS)
        return
    sys.__excepthook__(exc_type, exc, tb)


def install() -> None:
    """Install :func:`report_interrupt` when this process is the montecarlo command."""
    if is_command():
        sys.excepthook = report_interrupt
