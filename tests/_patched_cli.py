"""The command line with test patches, run as a script in a subprocess (the product has no test hooks):

    python tests/_patched_cli.py [--kill-after-level N] [--fail-on-rank R [--fail-kind input]] ARGS...

runs ``wbentropy.cli.main(ARGS)`` after patching, in this process only,

* ``--kill-after-level N``: the adaptive integrator's checkpoint writer, so that the process ends
  with ``os._exit(17)`` (no clean-up, as if killed) right after the checkpoint of level N is written
  (every rank, after a barrier);
* ``--fail-on-rank R``: :meth:`Parallel.stop_all_on_error` around the k-point evaluation of the
  uniform and adaptive integrators, so that rank R raises inside it (a RuntimeError, a bug; or with
  ``--fail-kind input`` an InputError naming ``injected.dat``, line 7): the failure path of MPI runs.
"""
import contextlib
import os
import sys
from pathlib import Path

#: the command that runs this driver (prefix of its arguments)
PATCHED_CLI = [sys.executable, str(Path(__file__).resolve())]

_OPTIONS = ("--kill-after-level", "--fail-on-rank", "--fail-kind")


def cli_command(argv: list) -> list:
    """``python -m wbentropy.cli ARGV``, or this driver if ARGV holds one of its options."""
    if any(a in _OPTIONS for a in map(str, argv)):
        return PATCHED_CLI + [str(a) for a in argv]
    return [sys.executable, "-m", "wbentropy.cli"] + [str(a) for a in argv]


_EVALUATING = ("_evaluate_round", "integrate_uniform")  # the integrators' functions that evaluate k-points


def _take(argv: list, option: str, default=None):
    """Remove ``option VALUE`` from argv; returns VALUE (``default`` if absent)."""
    if option not in argv:
        return default
    i = argv.index(option)
    value = argv[i + 1]
    del argv[i:i + 2]
    return value


def kill_after_level(level: int) -> None:
    from wbentropy.integrate import adaptive

    save = adaptive._save_checkpoint

    def save_then_die(path, parallel, leaves, n_eval, lev, history, signature):
        save(path, parallel, leaves, n_eval, lev, history, signature)
        if lev >= level:
            parallel.barrier()
            sys.stderr.flush()
            os._exit(17)

    adaptive._save_checkpoint = save_then_die


def fail_on_rank(rank: int, kind: str) -> None:
    from wbentropy.errors import InputError
    from wbentropy.integrate.parallel import Parallel

    guard = Parallel.stop_all_on_error

    @contextlib.contextmanager
    def failing(self):
        frame, callers = sys._getframe(1), set()
        for _ in range(4):
            if frame is None:
                break
            callers.add(frame.f_code.co_name)
            frame = frame.f_back
        with guard(self):
            if self.rank == rank and callers & set(_EVALUATING):
                msg = f"injected failure on rank {self.rank} (tests/_patched_cli.py)"
                if kind == "input":
                    raise InputError(msg, path="injected.dat", line=7)
                raise RuntimeError(msg)
            yield

    Parallel.stop_all_on_error = failing


def main() -> int:
    argv = sys.argv[1:]
    kill = _take(argv, "--kill-after-level")
    rank = _take(argv, "--fail-on-rank")
    kind = _take(argv, "--fail-kind", "bug")
    import wbentropy

    wbentropy.configure_threads()  # as the command line does, before numpy is imported below
    if kill is not None:
        kill_after_level(int(kill))
    if rank is not None:
        fail_on_rank(int(rank), kind)
    from wbentropy.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
