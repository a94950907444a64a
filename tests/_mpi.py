"""The real MPI launcher for tests that start ``mpiexec -n N`` (skipped where there is none)."""
import shutil

import pytest


def mpiexec() -> str:
    """Path of ``mpiexec`` (from the ``mpich`` wheel); skips the calling test if absent."""
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not available")
    return exe
