"""MPI plumbing (no physics): communicator wrapper, fixed-order gathers, shared memory, failure stop.

Without mpi4py, or when run without an MPI launcher, :class:`Parallel` is a
one-rank stand-in, so every code path runs serially unchanged.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
import traceback

import numpy as np

from ..errors import InputError

__all__ = ["Parallel", "world", "check_task_count", "AgreedInputError", "Interrupted", "INTERRUPT_EXIT_CODES",
           "ignore_signals", "raise_on_signal", "check_interrupted"]

#: Exit status after a signal: 128 + the signal number, as a shell reports a process it killed.
INTERRUPT_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: Seconds the ranks wait for each other after a signal before ``MPI_Abort`` ends the job (a rank
#: blocked in a collective operation with a rank that stopped never reaches Python again).
INTERRUPT_AGREE_SECONDS = 3.0
#: Seconds a rank with an InputError waits for the others to report one too (then the job ends
#: cleanly) before ``MPI_Abort`` ends it (the others are still computing: a failure on one rank).
INPUT_ERROR_AGREE_SECONDS = 2.0


#: side communicators (:meth:`Parallel.side`) by the Fortran handle of the communicator they duplicate
_SIDE_COMMS: dict = {}


class AgreedInputError(InputError):
    """An :class:`InputError` that every rank raises together after :meth:`Parallel.agree`.

    Every rank knows of it, so the job ends cleanly (``MPI_Finalize``, no ``MPI_Abort``);
    ``report`` is True on the one rank that prints it.
    """

    def __init__(self, message: str, *, report: bool) -> None:
        super().__init__(message)
        self.report = report


class Interrupted(KeyboardInterrupt):
    """Raised by the SIGTERM handler of the command line (SIGINT raises KeyboardInterrupt)."""

    signum = signal.SIGTERM

logger = logging.getLogger(__name__)

_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID", "HYDRA_CONTROL_FD",
                  "MPI_LOCALRANKID")


class Parallel:
    """A communicator (mpi4py ``Comm`` or None for serial) with the operations wbentropy needs."""

    def __init__(self, comm=None) -> None:
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self._windows = []
        self._side = None  # communicator of agreements (see :meth:`side`)
        #: called with the signal number on a rank that must report an interruption itself
        self.interrupt_message = None

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def split_range(self, n: int) -> tuple[int, int]:
        """This rank's contiguous share [start, stop) of n items (balanced to within one)."""
        base, extra = divmod(n, self.size)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (1 if self.rank < extra else 0)

    def allgather_rows(self, local: np.ndarray) -> np.ndarray:
        """Concatenate every rank's rows in rank order (so the global order is fixed)."""
        if self.comm is None or self.size == 1:
            return local
        parts = self.comm.allgather(local)
        return np.concatenate(parts, axis=0)

    def allgather(self, obj):
        if self.comm is None or self.size == 1:
            return [obj]
        return self.comm.allgather(obj)

    def barrier(self) -> None:
        if self.comm is not None and self.size > 1:
            self.comm.Barrier()

    def side(self):
        """A duplicate of the communicator for agreements made while the run's collectives may be
        pending (after a signal); created on the first call for a communicator (collective) and
        shared by every :class:`Parallel` of it (repeated ``compute`` calls do not use up
        communicators); None when serial."""
        if self._side is None and self.comm is not None and self.size > 1:
            key = self.comm.py2f()
            if key not in _SIDE_COMMS:
                _SIDE_COMMS[key] = self.comm.Dup()
            self._side = _SIDE_COMMS[key]
        return self._side

    def agree(self, check):
        """``check()`` on every rank; an :class:`InputError` on any rank is raised on all of them.

        Call it where every rank runs ``check`` (input validation, identical on every rank).  The
        ranks exchange their outcome, so a bad input ends the job cleanly on every rank with one
        message (from the lowest failing rank, printed by rank 0) instead of ``MPI_Abort``.
        Other exceptions propagate unchanged (:meth:`stop_all_on_error` ends the job).

        Returns
        -------
        Whatever ``check()`` returns.
        """
        try:
            value, error = check(), None
        except InputError as exc:
            value, error = None, exc
        if self.side() is None:
            if error is not None:
                raise error
            return value
        errors = self._side.allgather(None if error is None else str(error))
        failed = [r for r, e in enumerate(errors) if e is not None]
        if failed:
            message = errors[failed[0]]
            if len(failed) < self.size:
                message = f"(MPI rank {failed[0]}) {message}"
            raise AgreedInputError(message, report=self.is_root) from error
        return value

    def close(self) -> None:
        """Free the shared-memory windows and the side communicator (collective: every rank calls it)."""
        for win, node in self._windows:
            win.Free()
            node.Free()
        self._windows.clear()
        if self._side is not None:
            _SIDE_COMMS.pop(self.comm.py2f(), None)
            self._side.Free()
            self._side = None

    def _all_arrived(self, timeout: float) -> bool:
        """Whether every rank reached this point (a failure handler) within ``timeout`` seconds."""
        request = self._side.Ibarrier()
        deadline = time.monotonic() + timeout
        while not request.Test():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    @contextlib.contextmanager
    def stop_all_on_error(self):
        """Any exception on any rank stops every rank with that rank's message (no hang).

        Serial runs re-raise as usual.  Under MPI the failing rank writes its message and
        traceback to stderr and calls ``MPI_Abort``, which terminates the whole job, except:
        an :class:`AgreedInputError` (every rank has it) is re-raised; an :class:`InputError`
        that every rank raises within ``INPUT_ERROR_AGREE_SECONDS`` (a bad input every rank
        sees) becomes an :class:`AgreedInputError` (printed once, clean exit); and a
        ``KeyboardInterrupt`` (SIGINT) or :class:`Interrupted` (SIGTERM) is re-raised once every
        rank has it; if some rank does not follow within ``INTERRUPT_AGREE_SECONDS`` (it is
        blocked in a collective operation), this rank prints ``interrupt_message(signum)`` and
        aborts with status 130 or 143.
        """
        try:
            yield
        except AgreedInputError:
            raise
        except KeyboardInterrupt as exc:
            if self.comm is None or self.size == 1 or getattr(exc, "wbentropy_agreed", False):
                raise
            signum = getattr(exc, "signum", signal.SIGINT)
            ignore_signals()  # a second signal must not interrupt the agreement or the report
            if self._side is not None and self._all_arrived(INTERRUPT_AGREE_SECONDS):
                exc.wbentropy_agreed = True
                raise
            if self.interrupt_message is not None:
                os.write(2, (self.interrupt_message(signum) + "\n").encode())
            code = INTERRUPT_EXIT_CODES.get(signum, 130)
            self.comm.Abort(code)
            os._exit(code)
        except BaseException as exc:
            if self.comm is None or self.size == 1:
                raise
            if isinstance(exc, InputError) and self._side is not None \
                    and self._all_arrived(INPUT_ERROR_AGREE_SECONDS):
                raise AgreedInputError(str(exc), report=self.is_root) from exc
            if isinstance(exc, InputError):
                msg = f"wbentropy: error (MPI rank {self.rank}): {exc}\n"
            else:
                msg = (f"wbentropy: rank {self.rank} of {self.size} failed: {type(exc).__name__}: {exc}\n"
                       + "".join(traceback.format_exception(exc)))
            sys.stderr.flush()
            os.write(2, msg.encode())  # unbuffered, then give the launcher time to forward it
            time.sleep(0.5)
            code = 2 if isinstance(exc, InputError) else 1
            self.comm.Abort(code)
            os._exit(code)  # MPI_Abort may return before the launcher kills us: never run on

    def shared_array(self, shape: tuple, dtype, fill) -> np.ndarray:
        """A read-only array held once per node in MPI shared memory.

        ``fill()`` builds the array; it is called on one rank per node only.  Ranks on a
        node share one buffer (``MPI.Win.Allocate_shared``), so memory per node does not
        grow with the number of ranks.  Serial: returns ``fill()``.
        """
        if self.comm is None or self.size == 1:
            return fill()
        from mpi4py import MPI

        dtype = np.dtype(dtype)
        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED)
        nbytes = int(np.prod(shape)) * dtype.itemsize if node.Get_rank() == 0 else 0
        win = MPI.Win.Allocate_shared(nbytes, dtype.itemsize, comm=node)
        buf, _ = win.Shared_query(0)
        shared = np.ndarray(buffer=buf, dtype=dtype, shape=shape)
        if node.Get_rank() == 0:
            shared[...] = fill()
        node.Barrier()
        shared.flags.writeable = False
        self._windows.append((win, node))  # keep alive
        return shared


#: signals received by the command line's handlers (:func:`raise_on_signal`), newest last
_RECEIVED: list[int] = []


def raise_on_signal(signum, frame) -> None:
    """Signal handler of the command line: note the signal, then raise KeyboardInterrupt (SIGINT) or
    :class:`Interrupted` (SIGTERM).  Python drops an exception raised while a finalizer or weakref
    callback runs ("Exception ignored in ..."); the note lets :func:`check_interrupted` raise it again."""
    _RECEIVED.append(signum)
    raise Interrupted() if signum == signal.SIGTERM else KeyboardInterrupt()


def check_interrupted() -> None:
    """Raise the interruption of a signal whose exception was lost (see :func:`raise_on_signal`);
    called between batches and levels, so a run never goes on after Ctrl-C or SIGTERM."""
    if _RECEIVED:
        raise Interrupted() if _RECEIVED[-1] == signal.SIGTERM else KeyboardInterrupt()


def ignore_signals() -> None:
    """Ignore further SIGINT / SIGTERM while an interruption is reported (main thread only)."""
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def world() -> Parallel:
    """COMM_WORLD if started by an MPI launcher (mpiexec, mpirun, srun) and mpi4py is installed."""
    if not any(k in os.environ for k in _LAUNCHER_VARS):
        return Parallel(None)
    try:
        from mpi4py import MPI
    except ImportError:  # pragma: no cover - mpi4py is a dependency
        logger.warning("MPI launcher detected but mpi4py is not importable: running serially")
        return Parallel(None)
    comm = MPI.COMM_WORLD
    check_task_count(comm.Get_size())
    parallel = Parallel(comm if comm.Get_size() > 1 else None)
    parallel.side()  # now, while every rank is here: a signal may come at any point later
    return parallel


def check_task_count(mpi_size: int, environ=os.environ) -> None:
    """Refuse to run if the launcher started several tasks but MPI sees each as a job of one.

    That happens when the MPI library cannot talk to the launcher's process-management
    interface (PMI), e.g. plain ``srun`` with the ``mpich`` wheel, which speaks PMI-1/PMI-2
    but not PMIx: every task would compute the whole job and all would write the same file.

    The launcher's count is ``PMI_SIZE`` or ``OMPI_COMM_WORLD_SIZE`` where the launcher runs a
    PMI server (``mpiexec``, ``srun --mpi=pmi2``), else, inside an ``srun`` step
    (``SLURM_PROCID`` set), ``SLURM_STEP_NUM_TASKS``.  ``SLURM_NTASKS`` is not used: a batch
    script has it (and ``SLURM_PROCID=0``) for a serial command too.

    Raises
    ------
    InputError
        If that count is above 1 while ``mpi_size`` is 1.
    """
    if mpi_size != 1:
        return
    in_srun = "SLURM_PROCID" in environ
    var = next((v for v in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS")
                if v in environ and (in_srun or v != "SLURM_STEP_NUM_TASKS")), None)
    try:
        n = 1 if var is None else int(environ[var])
    except ValueError:
        return
    if n <= 1:
        return
    launcher = "srun" if in_srun else "the MPI launcher"
    lost = f"{launcher} started {n} tasks ({var}={n}) but MPI sees 1, so each would compute the whole job"
    if var == "SLURM_STEP_NUM_TASKS":  # srun without a PMI the MPI library speaks
        raise InputError(f"{lost}: run `srun --mpi=pmi2 -n {n} wbentropy ...` (the mpich wheel speaks "
                         f"PMI-2, not PMIx) or `mpiexec -n {n} wbentropy ...`")
    raise InputError(f"{lost}: mpi4py's MPI library does not speak this launcher's PMI (see `python -c "
                     "'from mpi4py import MPI; print(MPI.Get_library_version())'`); start wbentropy with "
                     "that library's mpiexec" + (" or another `srun --mpi=` (`srun --mpi=list`)" if in_srun else ""))
