"""Under an MPI launcher, give each rank its share of the node's cores for BLAS/LAPACK threads.

numpy's OpenBLAS starts one thread per core in every process; with several ranks per node
they oversubscribe the cores and a 2-rank run is barely faster than a 1-rank run that
already used both cores.  Unless the user set a thread count, each rank gets
cores // ranks-on-this-node threads.  This must run before numpy is imported.
"""
from __future__ import annotations

import os

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_LOCAL_SIZE_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_SIZE",
                    "SLURM_NTASKS_PER_NODE")
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS")


def share_cores_between_ranks() -> None:
    if any(v in os.environ for v in _THREAD_VARS):
        return
    local = next((os.environ[v] for v in _LOCAL_SIZE_VARS if v in os.environ), None)
    if local is None:
        local = next((os.environ[v] for v in _SIZE_VARS if v in os.environ), None)
    try:
        ranks = int(str(local).split("(")[0])
    except (TypeError, ValueError):
        return
    if ranks > 1:
        threads = str(max(1, (os.cpu_count() or 1) // ranks))
        for v in _THREAD_VARS:
            os.environ[v] = threads


share_cores_between_ranks()
