"""Cores of a node shared between MPI ranks and, inside a rank, between k-batch threads.

Each rank evaluates its k-batches with a pool of ``pool_size()`` threads (numpy's batched
``eigh``, its matrix products and ufuncs release the GIL), and BLAS/LAPACK run
single-threaded inside each pool thread.  That keeps *every* step of a batch busy on all
cores -- including batched ``eigh``, whose many small LAPACK calls never use BLAS threads
-- where BLAS threads alone would only speed up the large Fourier GEMM.

Defaults (no environment variable set): as many pool threads per rank as the rank has cores
-- those the launcher bound it to (``srun --cpus-per-task=C`` gives C), or else
``cores // ranks-on-this-node`` -- so 1 rank uses every core and N ranks on a node share
them; BLAS threads are set to 1.
``WBENTROPY_THREADS=N`` (or ``wbentropy compute --threads N``) sets the pool size; BLAS stays
single-threaded, so ``N = 1`` runs on one core.  A
BLAS thread count set by the user (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
``MKL_NUM_THREADS``) is respected, and then the default pool has one thread unless
``WBENTROPY_THREADS`` asks for more.  BLAS threads can only be chosen before numpy is
imported: if numpy was imported before wbentropy (a Python session), BLAS keeps its own
threads and the default pool has one thread.

Nothing happens at import: the command line calls :func:`configure` first thing (before numpy
is imported), and a Python program may call it as :func:`wbentropy.configure_threads` before it
imports numpy.  Without that call the pool has one thread unless ``WBENTROPY_THREADS`` (or
``threads=``) asks for more, and the BLAS variables are left as they are.
"""
from __future__ import annotations

import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_LOCAL_SIZE_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_SIZE",
                    "SLURM_NTASKS_PER_NODE", "SLURM_TASKS_PER_NODE")  # the last e.g. "32(x2),16"
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS")
POOL_VAR = "WBENTROPY_THREADS"
#: set beside the BLAS variables when wbentropy chose them, so that a child process (mpiexec,
#: a benchmark's worker) inherits them as wbentropy's choice, not as the user's
_MARK_VAR = "WBENTROPY_BLAS_THREADS_SET"

_pool_default = 1
_configured = False


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. under ``srun --cpus-per-task``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def ranks_on_node() -> int:
    """MPI ranks sharing this node, from the launcher's environment (1 without a launcher)."""
    local = next((os.environ[v] for v in _LOCAL_SIZE_VARS if v in os.environ), None)
    if local is None:
        local = next((os.environ[v] for v in _SIZE_VARS if v in os.environ), None)
    try:
        return max(1, int(str(local).split(",")[0].split("(")[0]))
    except (TypeError, ValueError):
        return 1


def _explicit_pool() -> int | None:
    value = os.environ.get(POOL_VAR)
    if value is None:
        return None
    try:
        n = int(value)
    except ValueError:
        raise SystemExit(f"wbentropy: error: {POOL_VAR}={value!r} is not an integer") from None
    if n < 1:
        raise SystemExit(f"wbentropy: error: {POOL_VAR}={value!r} must be >= 1")
    return n


def pool_size() -> int:
    """Threads per rank for k-batches: ``WBENTROPY_THREADS``, else the default chosen by :func:`configure`."""
    return _explicit_pool() or _pool_default


def cores_per_rank() -> int:
    """This rank's share of the node: its CPU affinity if the launcher bound it to some cores
    (``srun --cpus-per-task``, ``mpirun --bind-to``), else the node's cores // ranks on the node."""
    mine, node = available_cores(), max(1, os.cpu_count() or 1)
    if mine < node:  # bound by the launcher: these cores are this rank's own
        return mine
    return max(1, node // ranks_on_node())


def configure() -> None:
    """Choose the default pool and BLAS threads of this process (see the module docstring).

    Call it before numpy is imported: BLAS reads its thread variables when it starts.  Sets
    ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` to 1 (unless the user set
    one of them, or numpy is already imported) and the default pool to the rank's cores.  Only
    the first call acts.  A malformed ``WBENTROPY_THREADS`` raises SystemExit with its message.
    """
    global _pool_default, _configured
    if _configured:
        return
    cores = cores_per_rank()
    ours = os.environ.get(_MARK_VAR) == "1" and all(os.environ.get(v, "1") == "1" for v in _THREAD_VARS)
    user_blas = not ours and any(v in os.environ for v in _THREAD_VARS)
    numpy_loaded = "numpy" in sys.modules
    _explicit_pool()  # a malformed WBENTROPY_THREADS stops here, with its message
    _configured = True
    if user_blas or numpy_loaded:
        _pool_default = 1  # BLAS threads are the user's (or already started): do not oversubscribe
        return
    _pool_default = cores
    for v in _THREAD_VARS:  # the pool, not BLAS, spreads the work over the cores
        os.environ[v] = "1"
    os.environ[_MARK_VAR] = "1"
