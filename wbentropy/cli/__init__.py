"""Command line: ``wbentropy compute``, ``show``, ``verify`` and ``plot`` (:mod:`wbentropy.plot`).

User errors (bad files, bad options, including argparse's) print one line
``wbentropy: error: ...`` and exit with status 2; no traceback.  Under MPI an error every
rank sees is printed once and every rank exits 2 without ``MPI_Abort``.  Ctrl-C (SIGINT) and
SIGTERM (Slurm's time limit) print one line ``wbentropy: interrupted (SIGINT) ...`` naming the
checkpoint to resume from, and exit 130 (SIGINT) or 143 (SIGTERM).

This package is the only user of argparse, and nothing in wbentropy imports it.  The option
groups shared by the subcommands are in :mod:`wbentropy.cli.options`, each subcommand in a
module of its own.
"""
from __future__ import annotations

import argparse
import logging
import sys

__all__ = ["main", "build_parser"]

#: subcommand -> its module in this package (``add_parser(subparsers)`` and ``run(args)``)
_COMMANDS = ("compute", "show", "verify", "plot")


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error format of every other user error (subparsers inherit it)."""

    def error(self, message: str):
        self.exit(2, f"wbentropy: error: {message}\n")


def _command(name: str):
    import importlib

    return importlib.import_module(f"{__name__}.{name}")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = _Parser(prog="wbentropy", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"wbentropy {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name in _COMMANDS:
        _command(name).add_parser(sub)
    return p


def main(argv=None) -> int:
    from ..integrate.threads import configure

    configure()  # BLAS and pool threads, before anything imports numpy
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    import warnings

    from ..errors import ConvergenceWarning, InputError, InputWarning, parameter_names
    from .options import flag

    warnings.simplefilter("ignore", ConvergenceWarning)  # already logged once as WARNING
    warnings.simplefilter("ignore", InputWarning)  # likewise
    import signal
    import threading

    from ..integrate.parallel import INTERRUPT_EXIT_CODES, AgreedInputError, ignore_signals, raise_on_signal

    main_thread = threading.current_thread() is threading.main_thread()
    previous = (signal.signal(signal.SIGINT, raise_on_signal), signal.signal(signal.SIGTERM, raise_on_signal)) \
        if main_thread else None
    try:
        with parameter_names(flag):  # library errors name parameters by their options here
            try:
                return _command(args.command).run(args)
            except AgreedInputError as exc:  # under MPI: every rank has it, one prints
                parser.exit(2, f"wbentropy: error: {exc}\n" if exc.report else None)
            except InputError as exc:
                parser.exit(2, f"wbentropy: error: {exc}\n")
    except KeyboardInterrupt as exc:  # outside compute (show, verify, plot): nothing to keep
        ignore_signals()
        signum = getattr(exc, "signum", signal.SIGINT)
        parser.exit(INTERRUPT_EXIT_CODES.get(signum, 130), f"wbentropy: interrupted ({signal.Signals(signum).name})\n")
    finally:
        # after a reported interruption the signals stay ignored: the process is ending, and a
        # second Ctrl-C must not kill it on its way out; otherwise restore what we found
        if main_thread and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
