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

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np

from . import __version__
from .errors import InputError, warn_unconverged
from .evaluate import Evaluator, sampling_warnings
from .integrate.adaptive import AdaptiveSettings, integrate_adaptive
from .integrate.parallel import Parallel
from .integrate.uniform import UniformMesh, integrate_uniform, uniform_route
from .kspace.geometry import DEFAULT_DEGEN_THRESH
from .kspace.interpolation import Interpolator
from .model import TBModel
from .quantities import Options, Quantity, get_quantities
from .results import QuantityResult, Result

__all__ = ["compute", "compute_collinear", "check_grid", "check_mu_in_band_range", "band_range", "check_omegas",
           "check_options",
           "check_quantity_names", "check_kmesh", "inclusive_range", "MAX_TEMPERATURE_K", "MAX_DEGEN_THRESH_EV",
           "MAX_GRID_POINTS", "MAX_KPOINTS", "MAX_LEVELS", "TAU_RANGE_FS"]

logger = logging.getLogger(__name__)

#: Highest temperature accepted (K): k_B T = 86 eV, above the band width of any Wannier model,
#: so every occupation is 1/2 and every response vanishes (and exp(E/k_BT) loses its meaning).
MAX_TEMPERATURE_K = 1e6
#: Largest degeneracy threshold accepted (eV): bands closer than it are merged into one group and
#: their interband terms dropped, so a threshold of the order of a band width zeroes the physics.
MAX_DEGEN_THRESH_EV = 1.0
#: Most points of a temperature, chemical-potential or photon-energy grid (every k-point carries
#: one output per point and component).
MAX_GRID_POINTS = 10**6
#: Most k-points of a mesh: 2^36 = 4096^3, days of CPU time already (a uniform mesh streams in
#: batches, so memory is not the limit; time and the index arithmetic are).
MAX_KPOINTS = 2**36
#: Most adaptive refinement levels: after 52 halvings a cell is narrower than the double-precision
#: spacing of reduced k-coordinates (2^-52), so deeper cells have coinciding Gauss nodes.
MAX_LEVELS = 52
#: Relaxation times accepted (fs): hbar/tau from 658 eV down to 0.66 neV.
TAU_RANGE_FS = (1e-3, 1e9)


def check_grid(*, temperatures: Sequence[float], mus: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Validate the (T, mu) grid: 0 <= T <= MAX_TEMPERATURE_K, mu finite, both non-empty and not too long."""
    T = np.atleast_1d(np.asarray(temperatures, dtype=float))
    mu = np.atleast_1d(np.asarray(mus, dtype=float))
    if T.size == 0 or mu.size == 0:
        raise InputError("at least one temperature and one chemical potential are needed")
    if not np.all(np.isfinite(T)) or np.any(T < 0):
        raise InputError(f"temperatures must be finite and >= 0 K, got {_short(T)}")
    if np.any(T > MAX_TEMPERATURE_K):
        raise InputError(f"temperatures must be <= {MAX_TEMPERATURE_K:g} K (k_B T = 86 eV, above the band width "
                         "of any Wannier model: every occupation would be 1/2), got "
                         f"{_short(T[T > MAX_TEMPERATURE_K])}")
    if not np.all(np.isfinite(mu)):
        raise InputError(f"chemical potentials must be finite, got {_short(mu)}")
    for name, grid in (("temperatures", T), ("chemical potentials", mu)):
        if grid.size > MAX_GRID_POINTS:
            raise InputError(f"{grid.size} {name} are more than the {MAX_GRID_POINTS} wbentropy accepts")
    return T, mu


def inclusive_range(start: float, stop: float, step: float, *, name: str = "mu_range") -> np.ndarray:
    """START, START + STEP, ... up to STOP inclusive (within 1e-9 STEP), as ``--mu-range`` gives them.

    Raises
    ------
    InputError
        Naming the parameter ``name`` if a value is not finite, STOP < START, STEP <= 0, or the grid would hold
        more than :data:`MAX_GRID_POINTS` points.
    """
    if not all(np.isfinite(x) for x in (start, stop, step)):
        raise InputError(f"{{{name}}} needs three finite numbers START STOP STEP, got {start:g} {stop:g} {step:g}",
                         param=name)
    if step <= 0 or stop < start:
        raise InputError(f"{{{name}}} needs START <= STOP and STEP > 0, got {start:g} {stop:g} {step:g}", param=name)
    count = np.floor((stop - start) / step + 1e-9) + 1
    if not count <= MAX_GRID_POINTS:
        raise InputError(f"{{{name}}} {start:g} {stop:g} {step:g} asks for {count:.4g} points, more than the "
                         f"{MAX_GRID_POINTS} wbentropy accepts: use a larger STEP", param=name)
    return start + step * np.arange(int(count))


def check_quantity_names(names: Sequence[str]) -> list[str]:
    """The quantity names, checked: at least one, no repeats, every one known (InputError otherwise)."""
    from .quantities import QUANTITIES

    names = [str(n).strip() for n in names]
    if not names or not all(names):
        raise InputError("{quantities} needs a comma-separated list of names without empty entries, e.g. "
                         f"ahc,entropy_hall (known: {', '.join(sorted(QUANTITIES))}), got {','.join(names)!r}",
                         param="quantities")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{{quantities}} names {', '.join(repeated)} more than once", param="quantities")
    get_quantities(names)
    return names


def check_kmesh(kmesh: Sequence[int], *, name: str = "kmesh") -> tuple[int, int, int]:
    """Three integers >= 1 with at most :data:`MAX_KPOINTS` points in all."""
    shape = tuple(kmesh)
    try:
        whole = len(shape) == 3 and all(int(n) == n and n >= 1 for n in shape)
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole:
        raise InputError(f"k-mesh must be three positive integers, got {shape}")
    shape = tuple(int(n) for n in shape)
    count = shape[0] * shape[1] * shape[2]
    if count > MAX_KPOINTS:
        raise InputError(f"{{{name}}} {' '.join(str(n) for n in shape)} has {count:.4g} k-points, more than the "
                         f"2^36 = {MAX_KPOINTS} (4096^3) wbentropy accepts: at ~10^5 k-points per core and second "
                         "that is days of CPU time; use {tolerance} (adaptive refinement) for fine meshes", param=name)
    return shape


def check_options(*, degen_thresh: float = DEFAULT_DEGEN_THRESH, batch_size: int | None = None,
                  max_memory_mb: float | None = None, tau_fs: float | None = None, tolerance: float | None = None,
                  abs_tolerance: float = 0.0, max_kpoints: int | None = None, max_levels: int = 50,
                  threads: int | None = None, entropy_production_form: str = "exact") -> None:
    """Validate the scalar run options of :func:`compute` (the ranges a physicist would accept).

    Raises
    ------
    InputError
        Naming the parameter (``param``; the command line shows its option) and the accepted range.
    """
    import os

    if not (np.isfinite(degen_thresh) and 0 <= degen_thresh <= MAX_DEGEN_THRESH_EV):
        raise InputError(f"{{degen_thresh}} must be >= 0 eV and at most {MAX_DEGEN_THRESH_EV:g} eV (bands closer "
                         f"than it are merged into one group, their interband terms dropped; default "
                         f"{DEFAULT_DEGEN_THRESH:g} eV), got {degen_thresh:g}", param="degen_thresh")
    if batch_size is not None and not batch_size >= 1:
        raise InputError(f"{{batch_size}} must be >= 1, got {batch_size}", param="batch_size")
    if max_memory_mb is not None and not (np.isfinite(max_memory_mb) and max_memory_mb > 0):
        raise InputError(f"{{max_memory_mb}} must be > 0 MB and finite, got {max_memory_mb:g}", param="max_memory_mb")
    if tau_fs is not None and not (np.isfinite(tau_fs) and tau_fs > 0):
        raise InputError(f"the relaxation time must be > 0 fs, got {tau_fs:g}")
    if tau_fs is not None and not TAU_RANGE_FS[0] <= tau_fs <= TAU_RANGE_FS[1]:
        raise InputError(f"{{tau_fs}} must be between {TAU_RANGE_FS[0]:g} and {TAU_RANGE_FS[1]:g} fs (hbar/tau from "
                         f"658 eV to 0.66 neV), got {tau_fs:g}", param="tau_fs")
    if tolerance is not None and not (np.isfinite(tolerance) and 0 < tolerance < 1):
        raise InputError(f"{{tolerance}} must be > 0 and < 1 (a relative error; 1 would accept any result), "
                         f"got {tolerance:g}", param="tolerance")
    if not (np.isfinite(abs_tolerance) and abs_tolerance >= 0):
        raise InputError(f"{{abs_tolerance}} must be finite and >= 0 (in each tensor's units), got {abs_tolerance:g}",
                         param="abs_tolerance")
    if max_kpoints is not None and max_kpoints < 1:
        raise InputError(f"{{max_kpoints}} must be >= 1, got {max_kpoints}", param="max_kpoints")
    if not 0 <= max_levels <= MAX_LEVELS:
        raise InputError(f"{{max_levels}} must be between 0 and {MAX_LEVELS} (after {MAX_LEVELS} halvings a cell "
                         f"is narrower than the double-precision spacing of k), got {max_levels}", param="max_levels")
    cores = os.cpu_count() or 1
    if threads is not None and not 1 <= threads <= 4 * cores:
        raise InputError(f"{{threads}} must be >= 1 and at most 4 per core ({4 * cores} on this node of {cores} "
                         f"cores), got {threads}", param="threads")
    if entropy_production_form not in ("exact", "paper"):
        raise InputError(f"entropy production form must be 'exact' or 'paper', got {entropy_production_form!r}")


def band_range(*, interpolator: Interpolator, samples: int = 6) -> tuple[float, float]:
    """(lowest, highest) band energy in eV sampled on a ``samples``^3 Gamma-centred mesh.

    Uses the run's own interpolator (no second Fourier sum). The true extremes may lie
    between the samples; callers add a margin.
    """
    R = interpolator.model.R
    axes = [np.arange(samples) / samples if np.any(R[:, a] != 0) else np.zeros(1) for a in range(3)]
    k = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    E = np.linalg.eigvalsh(interpolator(k).H)
    return float(E.min()), float(E.max())


def check_mu_in_band_range(*, interpolator: Interpolator, mus: np.ndarray, temperatures: np.ndarray) -> None:
    """Refuse chemical potentials that all lie outside the bands; warn if some do.

    Outside the band range (widened by 10% of the band width plus 10 k_B T, since the
    range is sampled on a coarse mesh) every band is empty or full and every quantity is
    trivially (exponentially) zero: usually the Fermi energy of the DFT run was forgotten
    (mu is on the Hamiltonian's absolute scale, e.g. E_F = 17.6 eV for the Fe example).
    """
    from .constants import KB_EV

    lo, hi = band_range(interpolator=interpolator)
    margin = 0.1 * (hi - lo) + 10.0 * KB_EV * float(np.max(temperatures))
    outside = (mus < lo - margin) | (mus > hi + margin)
    where = interpolator.model.sources.get("primary")
    if np.all(outside):
        raise InputError(f"every chemical potential ({_short(mus)} eV) lies outside the bands of the model "
                         f"({lo:.4f} .. {hi:.4f} eV): all results would be trivially zero. mu is on the "
                         "Hamiltonian's absolute energy scale: add the Fermi energy of the DFT run", path=where)
    if np.any(outside):
        from .errors import warn_input

        warn_input(f"chemical potentials {_short(mus[outside])} eV lie outside the bands of the model "
                   f"({lo:.4f} .. {hi:.4f} eV); results there are trivially zero", logger_name=logger.name)


def _check_against_model(*, evaluator: Evaluator, mus: np.ndarray, temperatures: np.ndarray, degen_thresh: float,
                         coarse_mesh: tuple | None) -> None:
    """The checks that need the model: mu within the bands, the degeneracy threshold below the band
    width, and the cells of an adaptive coarse mesh within the memory of the leaf cells."""
    from .integrate.adaptive import AdaptiveSettings

    check_mu_in_band_range(interpolator=evaluator.interp, mus=mus, temperatures=temperatures)
    lo, hi = band_range(interpolator=evaluator.interp)
    if evaluator.model.num_wann > 1 and degen_thresh > DEFAULT_DEGEN_THRESH and degen_thresh >= hi - lo:
        raise InputError(f"{{degen_thresh}} {degen_thresh:g} eV is not below the band width of the model "
                         f"({hi - lo:.4g} eV): every band would be one degenerate group and every interband "
                         f"term zero (default {DEFAULT_DEGEN_THRESH:g} eV)", param="degen_thresh")
    if coarse_mesh is not None:
        cells = int(np.prod(coarse_mesh))
        leaf_bytes = 16 * evaluator.n_outputs + 64  # as the adaptive integrator counts its leaf cells
        limit = AdaptiveSettings.max_leaf_memory_mb
        if cells * leaf_bytes > limit * 2**20:
            raise InputError(f"the adaptive coarse mesh {{kmesh}} {' '.join(map(str, coarse_mesh))} has {cells} "
                             f"cells of {leaf_bytes} bytes ({evaluator.n_outputs} outputs each): "
                             f"{cells * leaf_bytes / 2**20:.0f} MB, more than the {limit:g} MB the leaf cells may "
                             "use: give a coarser {kmesh} (refinement adds points where needed) or fewer outputs",
                             param="kmesh")


def _short(values: np.ndarray) -> str:
    v = [f"{x:g}" for x in np.ravel(values)]
    return ", ".join(v) if len(v) <= 6 else ", ".join(v[:3] + ["..."] + v[-2:])


def check_omegas(*, omegas, smearing: str, smearing_width: float) -> np.ndarray:
    """Validate the photon-energy grid (eV) and the broadening of the AC quantities."""
    from .physics.optical import SMEARINGS

    if omegas is None or len(np.atleast_1d(omegas)) == 0:
        raise InputError("AC quantities need photon energies: give {omegas} START STOP STEP (eV)", param="omegas")
    w = np.atleast_1d(np.asarray(omegas, dtype=float))
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError(f"photon energies must be finite and >= 0 eV, got {_short(w)}")
    if w.size > MAX_GRID_POINTS:
        raise InputError(f"{w.size} photon energies are more than the {MAX_GRID_POINTS} wbentropy accepts")
    if smearing not in SMEARINGS:
        raise InputError(f"smearing must be one of {', '.join(SMEARINGS)}, got {smearing!r}")
    if not (np.isfinite(smearing_width) and smearing_width > 0):
        raise InputError(f"smearing width must be > 0 eV, got {smearing_width}")
    return w


def compute(*, model: TBModel, quantities: Sequence[str], temperatures: Sequence[float],
            mus: Sequence[float], kmesh: Sequence[int], degen_thresh: float = DEFAULT_DEGEN_THRESH,
            batch_size: int | None = None, comm=None, parallel: Parallel | None = None,
            max_memory_mb: float | None = None, tau_fs: float | None = None, entropy_production_form: str = "exact",
            tolerance: float | None = None, abs_tolerance: float = 0.0, max_kpoints: int | None = None,
            max_levels: int = 50, checkpoint: str | None = None, restart: str | None = None,
            progress: bool = False, omegas: Sequence[float] | None = None, smearing: str = "lorentzian",
            smearing_width: float = 0.05, threads: int | None = None, on_level: Callable | None = None,
            box_occupations: bool = False, symmetrize: bool = False, magmom: Sequence[float] | None = None,
            projections: Sequence[str] | None = None, symmetry_reduction: bool = True) -> Result:
    """Integrate the requested quantities over the Brillouin zone.

    With neither ``tolerance`` nor ``max_kpoints`` the integral is the mean over the uniform
    Gamma-centred mesh ``kmesh``.  With either, ``kmesh`` is the coarse mesh of the adaptive
    integrator (:mod:`wbentropy.integrate.adaptive`), which refines where the integrands are hot until
    the relative error estimate is below ``tolerance`` or ``max_kpoints`` evaluations are spent;
    every tensor then carries an ``error`` estimate.  The run is validated (:func:`_validate`),
    planned (:func:`_plan`) and run (:func:`_run`) in this order.

    Parameters
    ----------
    model : TBModel
        Loaded with :func:`wbentropy.io.load.load_model` or built in Python.
    quantities : sequence of str
        Names, e.g. ``["ahc", "entropy_hall"]`` (see :data:`wbentropy.quantities.QUANTITIES`).
    temperatures, mus : sequence of float
        Temperatures in K (0 allowed: step occupations); chemical potentials in eV, on the
        Hamiltonian's absolute scale.
    kmesh : (N1, N2, N3)
        Mesh k = (i1/N1, i2/N2, i3/N3) in reduced coordinates (coarse mesh if adaptive).
    degen_thresh : float
        Bands closer than this (eV) are treated as a degenerate group.
    batch_size, max_memory_mb : int, float, optional
        k-points per batch (default: from ``max_memory_mb``); budget (MB) per rank of the R-space
        operators, one batch and the integrand blocks (:func:`wbentropy.integrate.uniform.plan_memory`;
        default a quarter of the available memory shared by the ranks, within 64..2048 MB).
    comm, parallel : mpi4py communicator or Parallel, optional
        Distribute the work over MPI ranks.
    threads : int, optional
        Threads per rank (default: the rank's share of the node's cores, or ``WBENTROPY_THREADS``;
        :mod:`wbentropy.integrate.threads`).  Results do not depend on it.
    tau_fs : float, optional
        Relaxation time in fs, needed by entropy production, Drude and second-order quantities.
    entropy_production_form : {"exact", "paper"}
        Interband kernel: Kubo-Mori (second-order expansion of the paper's Eq. 9) or Eq. 18 as printed.
    tolerance, abs_tolerance, max_kpoints, max_levels : float, float, int, int
        Adaptive target (relative error per tensor, plus ``abs_tolerance`` in its units) and budget.
    checkpoint, restart, progress : str, str, bool
        Adaptive: HDF5 checkpoint after every level; resume from one.  ``progress``: rank 0 reports the
        k-points done, rate and time left on stderr (a bar on a terminal, else a line every
        ``WBENTROPY_PROGRESS_INTERVAL`` s, default 30; :mod:`wbentropy.integrate.progress`).
    omegas, smearing, smearing_width : sequence of float, str, float
        Photon energies (eV) of the AC quantities, line shape ("lorentzian" or "gaussian") and width
        (eV) replacing their delta function (:mod:`wbentropy.physics.optical`).
    on_level : callable(level, num_kpoints, values, errors), optional
        Adaptive: called on every rank after each level with the running integral and its error
        estimate (dicts name -> array shaped as in the result).
    box_occupations : bool
        Adaptive: average each Gauss node's weights f_n, s_n over its box where the band spread
        exceeds k_B T (:mod:`wbentropy.integrate.adaptive`).
    symmetrize, magmom, projections : bool, sequence of float, sequence of str
        As ``--symmetrize``, ``--magmom``, ``--projections`` (:func:`wbentropy.symmetry.prepare_symmetry`).
    symmetry_reduction : bool
        A symmetrized model's tensors are projected onto their allowed form; its uniform mesh is integrated
        over the irreducible k-points, or in full if False (``--no-symmetry-reduction``; docs/symmetry.md).

    Every tensor counts ``model.spin_degeneracy`` electrons per band (recorded, with its source, in
    the result's attributes).

    Returns
    -------
    Result
        Tensors (nT, nmu, 3, 3) in SI units, charge conductivities in S/cm ((nT, nmu, 3) vectors,
        (nT, nmu, 3, 3, 3) second order, (nT, nmu, nomega, 3, 3) complex AC with ``Result.omega``).
    """
    arguments = locals()  # every keyword argument: the request is all of them but the model and the processes
    request = _Request(**{name: arguments[name] for name in _Request.__dataclass_fields__})
    return _run(_plan(request, _validate(request)), model=model, parallel=parallel or Parallel(comm))


@dataclass(frozen=True)
class _Request:
    """The keyword arguments of :func:`compute` except the model and the processes, as given."""

    quantities: Sequence[str]
    temperatures: Sequence[float]
    mus: Sequence[float]
    kmesh: Sequence[int]
    degen_thresh: float = DEFAULT_DEGEN_THRESH
    batch_size: int | None = None
    max_memory_mb: float | None = None
    tau_fs: float | None = None
    entropy_production_form: str = "exact"
    tolerance: float | None = None
    abs_tolerance: float = 0.0
    max_kpoints: int | None = None
    max_levels: int = 50
    checkpoint: str | None = None
    restart: str | None = None
    progress: bool = False
    omegas: Sequence[float] | None = None
    smearing: str = "lorentzian"
    smearing_width: float = 0.05
    threads: int | None = None
    on_level: Callable | None = None
    box_occupations: bool = False
    symmetrize: bool = False
    magmom: Sequence[float] | None = None
    projections: Sequence[str] | None = None
    symmetry_reduction: bool = True

    @property
    def adaptive(self) -> bool:
        """True if the adaptive integrator runs (a tolerance, a k-point budget or a restart)."""
        return self.tolerance is not None or self.max_kpoints is not None or self.restart is not None


class _Checked(NamedTuple):
    """What :func:`_validate` returns: the request's grids and quantities, checked."""

    quantities: list[Quantity]
    temperatures: np.ndarray
    mus: np.ndarray
    kmesh: tuple[int, int, int]
    omegas: np.ndarray | None


@dataclass(frozen=True)
class _Plan:
    """A validated run: its quantities, grids, options and integrator (the model comes with :func:`_run`)."""

    request: _Request
    checked: _Checked
    options: Options
    mesh: UniformMesh
    #: settings of the adaptive integrator, or None for the uniform mesh
    settings: AdaptiveSettings | None


def _validate(r: _Request) -> _Checked:
    """Check every argument that does not need the model (:class:`~wbentropy.errors.InputError` otherwise)."""
    T, mu = check_grid(temperatures=r.temperatures, mus=r.mus)
    qs = get_quantities(check_quantity_names(list(r.quantities)))
    check_options(degen_thresh=r.degen_thresh, batch_size=r.batch_size, max_memory_mb=r.max_memory_mb,
                  tau_fs=r.tau_fs, tolerance=r.tolerance, abs_tolerance=r.abs_tolerance, max_kpoints=r.max_kpoints,
                  max_levels=r.max_levels, threads=r.threads, entropy_production_form=r.entropy_production_form)
    kmesh = check_kmesh(r.kmesh)
    omegas = check_omegas(omegas=r.omegas, smearing=r.smearing, smearing_width=r.smearing_width) \
        if any(q.omega_axis for q in qs) else None
    for q in qs:
        if q.needs_tau:
            Options(tau_fs=r.tau_fs).eta  # raises a clear error if tau is missing or invalid
        if q.fermi_surface and np.any(T <= 0):
            raise InputError(f"{q.name} needs T > 0 (it contains -df/dE or 1/T); remove temperature 0")
    if r.box_occupations and not r.adaptive:
        raise InputError("{box_occupations} applies to adaptive integration: add {tolerance} or {max_kpoints} "
                         "(a uniform mesh takes f_n, s_n at its points)", param="box_occupations")
    return _Checked(quantities=qs, temperatures=T, mus=mu, kmesh=kmesh, omegas=omegas)


def _plan(r: _Request, checked: _Checked) -> _Plan:
    """The physical options of the quantities and the integrator's settings of a validated request."""
    omegas = checked.omegas
    options = Options(tau_fs=r.tau_fs, entropy_production_form=r.entropy_production_form,
                      omegas=None if omegas is None else tuple(float(w) for w in omegas),
                      smearing=r.smearing, smearing_width=float(r.smearing_width))
    mesh = UniformMesh(tuple(checked.kmesh))
    settings = None
    if r.adaptive:
        settings = AdaptiveSettings(coarse_mesh=mesh.shape, tolerance=r.tolerance if r.tolerance is not None else 0.0,
                                    abs_tolerance=r.abs_tolerance,
                                    max_kpoints=r.max_kpoints if r.max_kpoints is not None else 10**12,
                                    max_levels=r.max_levels, checkpoint=r.checkpoint, progress=r.progress,
                                    box_occupations=r.box_occupations)
    return _Plan(request=r, checked=checked, options=options, mesh=mesh, settings=settings)


def _run(plan: _Plan, *, model: TBModel, parallel: Parallel) -> Result:
    """Integrate a planned run on ``model``: evaluator, model checks, integral, warnings, result."""
    r, c = plan.request, plan.checked
    if r.symmetrize:
        from .symmetry import prepare_symmetry

        model = parallel.agree(lambda: prepare_symmetry(model, symmetrize=True, magmom=r.magmom,
                                                        projections=r.projections, mus=c.mus,
                                                        temperatures=c.temperatures))
    group = _symmetry_group(model, parallel=parallel)
    evaluator = parallel.agree(lambda: Evaluator(
        model=model, quantities=c.quantities, temperatures=c.temperatures, mus=c.mus, options=plan.options,
        degen_thresh=r.degen_thresh, parallel=parallel, batch_size=r.batch_size, max_memory_mb=r.max_memory_mb,
        threads=r.threads))
    coarse = plan.mesh.shape if plan.settings is not None and r.restart is None else None
    parallel.agree(lambda: _check_against_model(evaluator=evaluator, mus=c.mus, temperatures=c.temperatures,
                                                degen_thresh=r.degen_thresh, coarse_mesh=coarse))
    t0 = time.perf_counter()
    attrs = {f"input_{k}": str(v) for k, v in model.sources.items()}
    attrs.update({"spin_degeneracy": model.spin_degeneracy, "spin_degeneracy_source": model.spin_degeneracy_source})
    integrate = _integrate_uniform if plan.settings is None else _integrate_adaptive
    flat, errors, warnings_found = integrate(plan, evaluator=evaluator, parallel=parallel, model=model, attrs=attrs,
                                             group=group)
    values = evaluator.values(flat)
    residuals = {}
    if group is not None:
        attrs["symmetry_projection"] = f"{group.name} ({len(group.rotations)} operations)"
        values, residuals, found = _neumann(values, errors, quantities=c.quantities, group=group,
                                            full_zone=not attrs.get("symmetry_reduction"))
        warnings_found += found
    stats, *others = parallel.allgather(evaluator.stats)
    for other in others:
        stats = stats + other
    warnings_found += sampling_warnings(stats, degen_thresh=r.degen_thresh, temperatures=c.temperatures, mus=c.mus,
                                        fermi_tracked=evaluator.fermi_tracked)
    if parallel.is_root:
        for message in warnings_found:
            warn_unconverged(message)
        from .io.load import spin_warning

        if spin_warning(model):  # after the integral: a run refused (e.g. a checkpoint mismatch) says only why
            logger.warning(spin_warning(model))
    if warnings_found:
        attrs["warnings"] = warnings_found
    wall = time.perf_counter() - t0
    logger.info("integrated in %.2f s", wall)
    attrs.update({"model_name": model.name, "num_wann": model.num_wann, "degen_thresh_eV": r.degen_thresh,
                  "wbentropy_version": __version__, "wall_time_s": wall, "mpi_ranks": parallel.size,
                  "threads_per_rank": evaluator.threads})
    result = _result(plan, values=values, errors=errors, attrs=attrs)
    for name, attrs_q in residuals.items():
        result.quantities[name].attrs.update(attrs_q)
    return result


def _integrate_uniform(plan: _Plan, *, evaluator: Evaluator, parallel: Parallel, model: TBModel, attrs: dict,
                       group=None):
    """The mean over the uniform mesh: (flat values, no errors, no warnings); records the route in ``attrs``.
    With a symmetry ``group`` only the mesh's irreducible points are evaluated where the mesh allows it
    (:func:`_irreducible_points`); the caller then projects (:func:`_neumann`)."""
    mesh, T = plan.mesh, plan.checked.temperatures
    if evaluator.fermi_weighted and np.any(T > 0):
        evaluator.track_fermi_sampling(cell=mesh.cell_vectors(model.reciprocal_lattice))
    irreducible = _irreducible_points(plan, group=group, attrs=attrs)
    nfft = None if irreducible is not None else uniform_route(evaluator=evaluator, mesh=mesh)
    flat = integrate_uniform(evaluator=evaluator, mesh=mesh, parallel=parallel, fft=nfft is not None,
                             progress=plan.request.progress, irreducible=irreducible)
    attrs.update({"integrator": "uniform Gamma-centred mesh", "kmesh": list(mesh.shape),
                  "num_kpoints": mesh.size if irreducible is None else irreducible.size,
                  "fourier": ("direct sums" if nfft is None
                              else f"mixed FFT on {nfft[0]}x{nfft[1]}x{nfft[2]} sub-grids")})
    return flat, None, []


# ------------------------------------------------------------------ symmetry (issue 27, items 2 and 3)
def _symmetry_group(model: TBModel, *, parallel: Parallel):
    """The magnetic group of a symmetrized model (:func:`wbentropy.symmetry.symmetrized_group`), or None."""
    if "symmetrized" not in model.sources:
        return None
    from .symmetry import symmetrized_group

    return parallel.agree(lambda: symmetrized_group(model))


def _irreducible_points(plan: _Plan, *, group, attrs: dict):
    """The irreducible points of the uniform mesh under ``group`` (None: integrate the full mesh); records in
    ``attrs`` whether the run was reduced (``symmetry_reduction``), the irreducible count and why not."""
    if group is None:
        return None
    from .integrate.orbits import irreducible_mesh

    irreducible = irreducible_mesh(group.k_ops, plan.mesh.shape) if plan.request.symmetry_reduction else None
    attrs["symmetry_reduction"] = irreducible is not None
    if irreducible is not None:
        attrs["num_irreducible_kpoints"] = irreducible.size
        logger.info("symmetry reduction: %d irreducible k-points of the %d of the mesh (%.1fx fewer)",
                    irreducible.size, plan.mesh.size, plan.mesh.size / irreducible.size)
    elif not plan.request.symmetry_reduction:
        attrs["symmetry_reduction_note"] = "not asked for (symmetry_reduction=False / --no-symmetry-reduction)"
    else:
        attrs["symmetry_reduction_note"] = (f"the {'x'.join(map(str, plan.mesh.shape))} mesh is not invariant under "
                                            f"the {group.order} operations of {group.name}: full mesh integrated")
    return irreducible


#: a full-zone tensor whose projection removes more than this fraction of its largest component is warned about
SYMMETRY_RESIDUAL_WARN = 1e-8


def _neumann(values: list, errors, *, quantities, group, full_zone: bool) -> tuple[list, dict, list[str]]:
    """Neumann's principle on each tensor: (projected values, per-quantity attributes, warnings).

    The projector of each quantity follows its record (rank, parity, time reversal;
    :mod:`wbentropy.physics.tensor_symmetry`).  On a full-zone integral the part removed,
    max |T - P T| (``symmetry_residual``, in the tensor's units; ``symmetry_residual_relative`` to max |T|),
    measures how far the integral broke the group; it is warned about when it exceeds the error estimate
    (adaptive) or ``SYMMETRY_RESIDUAL_WARN`` of max |T|, unless the group forbids the whole tensor (then
    max |T| is its own scale and only an error estimate can judge it).  Over the irreducible points the
    projection completes the integral (the representatives' sum is not symmetric): nothing is recorded.
    """
    from .physics.tensor_symmetry import project

    out, attrs, found = [], {}, []
    for i, (q, v) in enumerate(zip(quantities, values)):
        rank = 1 if q.vector else q.rank
        P = group.projector(rank=rank, parity=q.parity, time_reversal=q.time_reversal)
        projected = project(v, P, rank=rank)
        out.append(projected)
        if not full_zone:
            continue
        residual = float(np.max(np.abs(v - projected), initial=0.0))
        size = float(np.max(np.abs(v), initial=0.0))
        attrs[q.name] = {"symmetry_residual": residual,
                         "symmetry_residual_relative": residual / size if size > 0 else 0.0}
        error = None if errors is None else float(np.max(errors[i], initial=0.0))
        limit = max(error or 0.0, SYMMETRY_RESIDUAL_WARN * size) if np.trace(P) > 0.5 else error
        if limit is not None and residual > limit:
            found.append(f"{q.name}: projecting onto the form {group.name} allows removed up to {residual:.3g} "
                         f"{q.units} ({residual / size:.2g} of the largest component), more than "
                         + (f"the error estimate {error:.3g}" if errors is not None else
                            f"{SYMMETRY_RESIDUAL_WARN:g} of it") + ": the integral breaks the symmetry of the model "
                         "(a k-mesh the group does not map to itself, or an unconverged adaptive integral)")
    return out, attrs, found


def _integrate_adaptive(plan: _Plan, *, evaluator: Evaluator, parallel: Parallel, model: TBModel, attrs: dict,
                        group=None):
    """Adaptive refinement: (flat values, errors per quantity, warnings); records the refinement in ``attrs``.
    It covers the full zone (with a symmetry ``group`` the caller projects the result: :func:`_neumann`)."""
    r, c = plan.request, plan.checked
    names = [q.name for q in c.quantities]
    settings = dataclasses.replace(
        plan.settings,
        on_level=None if r.on_level is None else lambda lev, n, v, e: r.on_level(
            lev, n, dict(zip(names, evaluator.values(v))), dict(zip(names, evaluator.errors(e)))))
    signature = run_signature(model=model, parallel=parallel, quantities=c.quantities, temperatures=c.temperatures,
                              mus=c.mus, options=plan.options, degen_thresh=r.degen_thresh, settings=settings) \
        if r.checkpoint or r.restart else {}
    reduction = _adaptive_reduction(r, group=group, model=model, evaluator=evaluator, attrs=attrs,
                                    plan_mesh=plan.mesh.shape)
    res = integrate_adaptive(evaluator=evaluator, settings=settings, parallel=parallel, restart=r.restart,
                             signature=signature, reduction=reduction)
    warnings_found = []
    if not res.converged and r.tolerance is not None:
        warnings_found.append(f"adaptive integration stopped before reaching the tolerance {r.tolerance:.1e}: "
                              f"estimated relative error {res.history[-1]['rel_error']:.2e} after "
                              f"{res.n_evaluations} k-points (raise --max-kpoints or --max-levels)")
    attrs.update({"integrator": "adaptive: Gauss-Legendre cells (3 points per direction), 2x2x2 splitting, "
                                "on a Gamma-centred coarse mesh",
                  "coarse_kmesh": list(plan.mesh.shape), "num_kpoints": res.n_evaluations,
                  "refinement_levels": res.levels, "num_leaf_cells": res.n_leaves,
                  "converged": bool(res.converged), "tolerance": settings.tolerance,
                  "abs_tolerance": r.abs_tolerance, "estimated_rel_error": res.history[-1]["rel_error"],
                  "history": res.history})
    return res.value, evaluator.errors(res.error), warnings_found


def _adaptive_reduction(r: _Request, *, group, model: TBModel, evaluator: Evaluator, attrs: dict, plan_mesh):
    """The irreducible wedge of a symmetrized model's magnetic point group for the adaptive integrator
    (:class:`~wbentropy.integrate.adaptive.Reduction`, :mod:`wbentropy.kspace.wedge`), or None (no group, or
    ``symmetry_reduction=False``, a group of one operation, or a group that moves the plane of a 2D coarse mesh:
    the full zone); records the choice in ``attrs``."""
    if group is None:
        return None
    flat = [d for d in range(3) if plan_mesh[d] == 1]  # a 2D model: the group must keep its plane
    mixes = any(np.any(np.delete(group.k_ops[:, d, :], d, axis=1)) or np.any(np.delete(group.k_ops[:, :, d], d, axis=1))
                for d in flat)
    note = ("not asked for (symmetry_reduction=False / --no-symmetry-reduction)" if not r.symmetry_reduction else
            f"the group {group.name} has one operation only" if group.order == 1 else
            f"operations of {group.name} take the plane of the coarse mesh to another" if mixes else None)
    attrs["symmetry_reduction"] = note is None
    if note is not None:
        attrs["symmetry_reduction_note"] = note
        return None
    from .evaluate import group_sums
    from .integrate.adaptive import Reduction
    from .kspace.wedge import Wedge

    wedge = Wedge.build(k_ops=group.k_ops, recip=model.reciprocal_lattice)
    project, bound = group_sums(evaluator, group=group)
    label = f"{group.name}: {wedge.label()}"
    attrs["symmetry_wedge"] = label
    return Reduction(weight=wedge.weight, keep_cells=wedge.keep_boxes, project=project, bound=bound, label=label,
                     width=wedge.delta)


def _result(plan: _Plan, *, values, errors, attrs: dict) -> Result:
    """The Result of a run: each quantity's tensor with units, formula and the options it depends on; the
    second law checked on the records that ask for it."""
    r, c = plan.request, plan.checked
    result = Result(temperature=c.temperatures, mu=c.mus, quantities={}, attrs=attrs, omega=c.omegas)
    for i, (q, v) in enumerate(zip(c.quantities, values)):
        qattrs = {"formula": q.formula}
        if q.needs_tau:
            qattrs["tau_fs"] = float(r.tau_fs)
        if q.rank == 3:
            qattrs["axes"] = "temperature, mu, a, b, c"
        if q.omega_axis:
            qattrs.update({"axes": "temperature, mu, omega, a, b", "smearing": r.smearing,
                           "smearing_width_eV": float(r.smearing_width),
                           "part": "absorptive (Hermitian): Re symmetric, Im antisymmetric"})
        if q.form_dependent:
            qattrs["form"] = _FORM_LABELS[r.entropy_production_form]
        if r.entropy_production_form == "paper" and np.max(np.abs(v)) > _PAPER_OVERFLOW:
            qattrs["overflow"] = ("the paper's 1/(f_n(1-f_n)) weight ~ exp(|E_n-mu|/kT) exceeds double precision "
                                  "for bands far from mu; each pair weight is capped at ~1e299, so this value is "
                                  "a lower bound of an astronomically large number")
            logger.warning("%s (paper form): %s", q.name, qattrs["overflow"])
        result.quantities[q.name] = QuantityResult(value=v, units=q.units, attrs=qattrs,
                                                   error=None if errors is None else errors[i])
        if "overflow" not in qattrs:  # a capped lower bound is no value to check
            for check in q.checks:
                check(v, name=q.name)
    return result


def compute_collinear(*, up: TBModel, down: TBModel, **kwargs) -> Result:
    """Integrate both channels of a collinear spin-polarised run (Wannier90 run for spin up and down).

    Each channel is a model of its own with one electron per band; the total is their sum.  The run
    is validated and planned once and run on each channel.

    Parameters
    ----------
    up, down : TBModel
        The two channels (each with ``spin_degeneracy == 1``; same lattice).
    **kwargs
        As for :func:`compute` (no ``checkpoint``/``restart``: the channels are integrated one
        after the other).

    Returns
    -------
    Result
        Totals as in :func:`compute`; each quantity's ``channels`` holds the ``"up"`` and ``"down"``
        parts (HDF5: ``/<quantity>/up/value``, ``/<quantity>/down/value``).  Error estimates add.
    """
    from .results import SPIN_CHANNELS

    for name, m in zip(SPIN_CHANNELS, (up, down)):
        if m.spin_degeneracy != 1:
            raise InputError(f"the spin-{name} channel of a collinear pair must hold one electron per band, "
                             f"but its spin degeneracy is {m.spin_degeneracy} ({m.spin_degeneracy_source})")
    if not np.allclose(up.lattice, down.lattice, rtol=0, atol=1e-6):
        raise InputError("the spin-up and spin-down models have different lattices: give the two channels "
                         "of the same Wannier90 calculation", path=down.sources.get("primary"))
    if kwargs.get("checkpoint") or kwargs.get("restart"):
        raise InputError("{checkpoint}/{restart}: not available for a collinear spin-polarised pair; "
                         "integrate each channel in a run of its own to checkpoint it", param="checkpoint")
    if kwargs.get("symmetrize"):
        raise InputError("{symmetrize}: not available for a collinear spin-polarised pair", param="symmetrize")
    comm, parallel = kwargs.pop("comm", None), kwargs.pop("parallel", None)
    request = _Request(**kwargs)
    plan = _plan(request, _validate(request))
    parallel = parallel or Parallel(comm)
    parts = [_run(plan, model=m, parallel=parallel) for m in (up, down)]
    quantities = {}
    for name, q_up in parts[0].quantities.items():
        q_down = parts[1].quantities[name]
        error = None if q_up.error is None else q_up.error + q_down.error
        quantities[name] = QuantityResult(value=q_up.value + q_down.value, units=q_up.units, attrs=dict(q_up.attrs),
                                          error=error, channels=dict(zip(SPIN_CHANNELS, (q_up, q_down))))
    total = parts[0]
    return Result(temperature=total.temperature, mu=total.mu, quantities=quantities,
                  attrs=_collinear_attrs(*parts), omega=total.omega)


def _collinear_attrs(up: Result, down: Result) -> dict:
    """Provenance of a collinear pair: the up channel's, the down channel's inputs as ``down_*``, counts added."""
    attrs = dict(up.attrs)
    for k, v in down.attrs.items():
        if k.startswith("input_") or k in ("num_kpoints", "model_name", "num_wann", "spin_degeneracy_source"):
            attrs[f"down_{k}"] = v
    for k in ("num_kpoints", "wall_time_s"):
        if k in attrs and k in down.attrs:
            attrs[k] = attrs[k] + down.attrs[k]
    if "converged" in attrs:
        attrs["converged"] = bool(up.attrs["converged"]) and bool(down.attrs["converged"])
        attrs["estimated_rel_error"] = max(up.attrs["estimated_rel_error"], down.attrs["estimated_rel_error"])
    warnings_found = list(up.attrs.get("warnings", [])) + list(down.attrs.get("warnings", []))
    if warnings_found:
        attrs["warnings"] = warnings_found
    attrs.update({"spin_channels": "collinear spin-polarised pair: up (input_*) and down (down_input_*); "
                                   "values are totals, per channel in <quantity>/up and <quantity>/down",
                  "spin_degeneracy": 1,
                  "spin_degeneracy_source": "collinear spin-polarised pair: one electron per band in each channel"})
    return attrs


def run_signature(*, model: TBModel, parallel: Parallel, quantities, temperatures: np.ndarray, mus: np.ndarray,
                  options: Options, degen_thresh: float, settings: AdaptiveSettings) -> dict:
    """What an adaptive checkpoint must match to be resumed: everything that changes a number.

    The sha256 of the contents of every input file (by role: tb, hr, r, wsvec, win, chk, eig, mmn,
    nnkp; their paths and names do not count), the sha256 of the model's arrays
    (:meth:`TBModel.digest`), and every option that changes a computed number.  Rank 0 reads the
    files; every rank gets its digests.  :func:`wbentropy.integrate.adaptive.integrate_adaptive` adds the
    integrator's own (coarse mesh, rules, outputs) and compares the whole on restart.
    """
    from .io.load import input_digests

    with parallel.stop_all_on_error():  # an unreadable file on rank 0 must not leave the others waiting
        mine = input_digests(model.sources) if parallel.is_root else None
    files = parallel.allgather(mine)[0]
    ac = any(q.omega_axis for q in quantities)
    return {"signature_version": SIGNATURE_VERSION, "input_files": files, "model_sha256": model.digest(),
            "num_wann": model.num_wann, "quantities": [q.name for q in quantities],
            "temperature": temperatures.tolist(), "mu": mus.tolist(), "tau_fs": options.tau_fs,
            "form": options.entropy_production_form, "degen_thresh": float(degen_thresh),
            "omegas": list(options.omegas) if ac else None, "smearing": options.smearing if ac else None,
            "smearing_width": options.smearing_width if ac else None,
            "tolerance": settings.tolerance, "abs_tolerance": float(settings.abs_tolerance),
            "max_kpoints": settings.max_kpoints}


#: version of :func:`run_signature`'s layout (checkpoints without it predate the content hashes)
SIGNATURE_VERSION = 2

#: Values beyond this come from capped paper-form weights (see physics.entropy_production).
_PAPER_OVERFLOW = 1e200

_FORM_LABELS = {
    "exact": "exact: Kubo-Mori (Daleckii-Krein) kernel, second-order expansion of Eq. (9)",
    "paper": "paper: Eq. (18) as printed, kernel 1/(f_n(1-f_n)) for interband pairs (overestimates)",
}
