"""The real MPI launcher for tests that start ``mpiexec -n N`` (skipped where there is none)."""
import shutil

import pytest


def mpiexec() -> str:
    """Path of ``mpiexec`` (from the ``mpich`` wheel); skips the calling test if absent."""
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not available")
    return exe


def two_node_launch(ranks_per_node: int = 2) -> list[str]:
    """``mpiexec`` arguments starting 2 x ``ranks_per_node`` ranks as on two nodes.

    Hydra (the mpich wheel's launcher) treats ``localhost`` and ``127.0.0.1`` as two hosts: both
    are started locally (``-launcher fork``, no ssh), but MPI sees two nodes, so
    ``COMM_TYPE_SHARED`` splits the job into two shared-memory domains as on a cluster.
    """
    n = ranks_per_node
    return [mpiexec(), "-launcher", "fork", "-hosts", f"localhost:{n},127.0.0.1:{n}", "-n", str(2 * n)]


def rank_results(path, ranks: int, quantities=("ahc", "entropy_hall")) -> dict:
    """Tensors of a result file written by a run on ``ranks`` MPI ranks (asserts the rank count)."""
    import h5py

    with h5py.File(path) as h:
        assert h.attrs["mpi_ranks"] == ranks
        return {q: h[q]["value"][()] for q in quantities}


def assert_same_results(one: dict, other: dict, rtol: float = 1e-12) -> None:
    """Every tensor equal to ``rtol`` times its largest component (which must not vanish)."""
    import numpy as np

    for q, v in one.items():
        scale = np.max(np.abs(v))
        assert scale > 0, q
        assert np.max(np.abs(v - other[q])) <= rtol * scale, q
