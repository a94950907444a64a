"""Python API: the same job as ``wbentropy compute``.

Example
-------
>>> from wbentropy.api import compute
>>> from wbentropy.io.load import load_model
>>> model = load_model(tb="data/qwz_tb.dat")                                 # doctest: +SKIP
>>> res = compute(model=model, quantities=["ahc", "entropy_hall"],            # doctest: +SKIP
...               temperatures=[0, 300], mus=[0.0], kmesh=(50, 50, 1))
>>> res["ahc"][1, 0, 0, 1]   # sigma_xy at 300 K, mu = 0, in S/cm           # doctest: +SKIP
"""
from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np

from . import __version__
from .errors import InputError
from .geometry import DEFAULT_DEGEN_THRESH
from .integrate import UniformMesh, integrate_uniform
from .model import TBModel
from .quantities import get_quantities
from .results import QuantityResult, Result

__all__ = ["compute", "check_grid"]

logger = logging.getLogger(__name__)


def check_grid(*, temperatures: Sequence[float], mus: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Validate the (T, mu) grid: T >= 0 K finite, mu finite, both non-empty."""
    T = np.atleast_1d(np.asarray(temperatures, dtype=float))
    mu = np.atleast_1d(np.asarray(mus, dtype=float))
    if T.size == 0 or mu.size == 0:
        raise InputError("at least one temperature and one chemical potential are needed")
    if not np.all(np.isfinite(T)) or np.any(T < 0):
        raise InputError(f"temperatures must be finite and >= 0 K, got {T.tolist()}")
    if not np.all(np.isfinite(mu)):
        raise InputError(f"chemical potentials must be finite, got {mu.tolist()}")
    return T, mu


def compute(*, model: TBModel, quantities: Sequence[str], temperatures: Sequence[float],
            mus: Sequence[float], kmesh: Sequence[int], degen_thresh: float = DEFAULT_DEGEN_THRESH,
            batch_size: int | None = None, comm=None, max_memory_mb: float = 512.0) -> Result:
    """Integrate the requested quantities on a uniform Gamma-centred mesh.

    Parameters
    ----------
    model : TBModel
        Loaded with :func:`wbentropy.io.load.load_model` or built in Python.
    quantities : sequence of str
        Names, e.g. ``["ahc", "entropy_hall"]`` (see :data:`wbentropy.quantities.QUANTITIES`).
    temperatures : sequence of float
        Temperatures in K (0 allowed: step occupations).
    mus : sequence of float
        Chemical potentials in eV, on the Hamiltonian's absolute scale.
    kmesh : (N1, N2, N3)
        Mesh k = (i1/N1, i2/N2, i3/N3) in reduced coordinates.
    degen_thresh : float
        Bands closer than this (eV) are treated as a degenerate group.
    batch_size : int, optional
        k-points per batch; bounds memory.
    comm : mpi4py communicator, optional
        Distribute batches over MPI ranks.

    Returns
    -------
    Result
        Tensors of shape (nT, nmu, 3, 3) in SI units.
    """
    T, mu = check_grid(temperatures=temperatures, mus=mus)
    qs = get_quantities(list(quantities))
    mesh = UniformMesh(tuple(kmesh))
    t0 = time.perf_counter()
    values = integrate_uniform(model=model, quantities=qs, temperatures=T, mus=mu, mesh=mesh,
                               batch_size=batch_size, degen_thresh=degen_thresh, comm=comm,
                               max_memory_mb=max_memory_mb)
    wall = time.perf_counter() - t0
    logger.info("integrated %d k-points in %.2f s", mesh.size, wall)
    attrs = {f"input_{k}": str(v) for k, v in model.sources.items()}
    attrs.update({"model_name": model.name, "kmesh": list(mesh.shape), "num_kpoints": mesh.size,
                  "num_wann": model.num_wann, "integrator": "uniform Gamma-centred mesh",
                  "degen_thresh_eV": degen_thresh, "wbentropy_version": __version__,
                  "wall_time_s": wall, "mpi_ranks": 1 if comm is None else comm.Get_size()})
    result = Result(temperature=T, mu=mu, quantities={}, attrs=attrs)
    for q, v in zip(qs, values):
        result.quantities[q.name] = QuantityResult(value=v, units=q.units, attrs={"formula": q.formula})
    return result
