"""WannierBerri as an independent reference, for tests and benchmarks.

Importable helper (not a test module): locating and unpacking the shared real
data, building WannierBerri systems, and WannierBerri's anomalous Hall
conductivity on exactly the Gamma-centred mesh ``k = (i1/N1, i2/N2, i3/N3)``.

WannierBerri conventions used here (version 26.x)
-------------------------------------------------
* ``calculators.static.AHC`` returns the pseudovector
  ``O_c = -(e^2/hbar) int [dk] Omega_c f`` in S/m, indexed c = x, y, z, with
  ``sigma_ab = epsilon_abc O_c``:  ``O = (sigma_yz, sigma_zx, sigma_xy)``.
  ``Omega_c = (curl A)_c``; this is the postw90 sign convention.
* k-points: ``Grid(system, NKdiv=d, NKFFT=f, use_symmetry=False)`` evaluates
  ``K = x/d`` (x < d) shifted FFT grids, i.e. ``k = (i*d + x)/(d*f)`` = every
  point ``j/N`` with ``N = d*f`` exactly once.  Passing ``NK`` alone lets
  WannierBerri pick a symmetric FFT grid and may change N, so never do that.
  ``run(..., use_irred_kpt=False, symmetrize=False, adpt_num_iter=0,
  parallel=False)`` gives no symmetrisation, no refinement and a serial run
  (Ray is not used).
* ``AHC`` is a T = 0 Fermi-sea sum: a band counts as occupied if ``E <= mu``
  (degenerate groups within 1e-4 eV are treated together).  Its ``Efermi`` must
  be uniformly spaced; for other mu lists one calculator per mu is used.
  Finite temperature is not part of ``AHC``; for T > 0 we sum WannierBerri's
  band-resolved Berry curvature (``tabulate.BerryCurvature``, degenerate
  groups averaged) with exact Fermi-Dirac weights.
"""
from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path

import numpy as np

__all__ = [
    "SHARED_DATA_ENV", "FE_FERMI_EV", "FE_POSTW90_AHC_10", "shared_data_dir", "untar_shared",
    "prepare_material", "wb_system", "wb_system_from_model", "wb_eigenvalues", "grid_arguments",
    "wb_ahc", "pseudovector",
]

#: Environment variable that overrides the location of the shared data folder.
SHARED_DATA_ENV = "WBENTROPY_SHARED_DATA"
#: Fermi energy of the Fe data set (scf.out), eV.
FE_FERMI_EV = 17.6255
#: postw90 3.1 AHC of the Fe data on the Gamma-centred 10^3 mesh at E_F, (sigma_yz, sigma_zx, sigma_xy), S/cm.
FE_POSTW90_AHC_10 = (-198.84, -806.54, 478.58)


# ---------------------------------------------------------------- shared data
def shared_data_dir() -> Path:
    """Folder with the shared real data (``$WBENTROPY_SHARED_DATA`` or ``../shared/data``)."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def untar_shared(*, archive: str | Path, dest: str | Path) -> list[Path]:
    """Extract a ``.tar.gz`` into ``dest`` (safe "data" filter); return the extracted files."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        tar.extractall(dest, members=members, filter="data")
    return [dest / m.name for m in members]


def prepare_material(*, folder: str, dest: str | Path) -> Path:
    """Populate ``dest`` with symlinks to ``shared/data/<folder>/*`` and unpack its ``.tar.gz`` files.

    Returns ``dest``.  Raises FileNotFoundError if the shared folder is missing.
    """
    src = shared_data_dir() / folder
    if not src.is_dir():
        raise FileNotFoundError(f"shared data folder {src} not found (set ${SHARED_DATA_ENV})")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir()):
        if item.name.endswith(".tar.gz"):
            untar_shared(archive=item, dest=dest)
        elif not (dest / item.name).exists():
            (dest / item.name).symlink_to(item.resolve())
    return dest


# ---------------------------------------------------------------- systems
def wb_system(*, seed: str | Path):
    """WannierBerri's own ``System_R`` from SEED.chk/.eig/.mmn: Ham + AA, MDRS, no symmetrisation."""
    import wannierberri as wb

    seed = str(seed)
    wandata = wb.w90files.WannierData.from_w90_files(
        seedname=seed, files=("chk", "eig", "mmn"), readnnkp=os.path.isfile(seed + ".nnkp"))
    return wb.system.System_R.from_wannierdata(wandata, berry=True, symmetrize=False, fftlib="numpy",
                                               silent=True)


def wb_system_from_model(model):
    """A WannierBerri ``System_R`` holding a :class:`wbentropy.TBModel` (as WannierBerri reads a ``_tb.dat``).

    Convention II -> I: centres = diag r(R=0), ``AA = r - centres`` on the R = 0 diagonal
    (:func:`wbentropy.symmetry.to_system_r`).
    """
    from wbentropy.symmetry import to_system_r

    return to_system_r(model)


def wb_eigenvalues(*, system, k) -> np.ndarray:
    """WannierBerri's band energies (eV) at reduced k-points ``k`` (nk, 3) -> (nk, num_wann)."""
    import wannierberri as wb

    k = np.atleast_2d(np.asarray(k, dtype=float))
    return np.array([wb.evaluate_k(system, k=kk, quantities=["energy"]) for kk in k])


# ---------------------------------------------------------------- AHC
def grid_arguments(mesh, *, max_fft: int = 16) -> dict:
    """``Grid`` keyword arguments giving exactly the Gamma-centred mesh ``k = i/N``.

    ``NKFFT`` is the largest divisor of N not above ``max_fft`` (bounds memory per
    FFT batch), ``NKdiv = N / NKFFT``.
    """
    mesh = np.broadcast_to(np.asarray(mesh, dtype=int), (3,))
    if np.any(mesh < 1):
        raise ValueError(f"mesh must be positive, got {tuple(mesh)}")
    fft = np.array([max(f for f in range(1, min(n, max_fft) + 1) if n % f == 0) for n in mesh])
    return {"NKdiv": tuple(int(x) for x in mesh // fft), "NKFFT": tuple(int(x) for x in fft)}


def pseudovector(sigma: np.ndarray) -> np.ndarray:
    """(..., 3, 3) antisymmetric tensor -> (..., 3) = (sigma_yz, sigma_zx, sigma_xy)."""
    sigma = np.asarray(sigma)
    return np.stack([sigma[..., 1, 2], sigma[..., 2, 0], sigma[..., 0, 1]], axis=-1)


def _tensor(O: np.ndarray) -> np.ndarray:
    """(..., 3) pseudovector O_c -> (..., 3, 3) sigma_ab = epsilon_abc O_c."""
    sigma = np.zeros(O.shape[:-1] + (3, 3))
    for a, b, c in ((1, 2, 0), (2, 0, 1), (0, 1, 2)):
        sigma[..., a, b] = O[..., c]
        sigma[..., b, a] = -O[..., c]
    return sigma


def _run(system, mesh, calculators, max_fft):
    import wannierberri as wb

    grid = wb.Grid(system, use_symmetry=False, **grid_arguments(mesh, max_fft=max_fft))
    with tempfile.TemporaryDirectory(prefix="wb_ref_") as tmp:
        return wb.run(system, grid=grid, calculators=calculators, adpt_num_iter=0, use_irred_kpt=False,
                      symmetrize=False, parallel=False, fout_name=os.path.join(tmp, "result"),
                      file_Klist_path=os.path.join(tmp, "klist"), parameters_K={"fftlib": "numpy"},
                      print_progress_step_time=1e9)


def wb_ahc(*, system, mesh, mu, temperature_K: float = 0.0, method: str | None = None,
           max_fft: int = 16) -> np.ndarray:
    """WannierBerri's anomalous Hall conductivity sigma_ab(mu) in S/cm.

    Parameters
    ----------
    system : wannierberri System_R (see :func:`wb_system`, :func:`wb_system_from_model`)
    mesh : int or 3 ints
        Gamma-centred mesh ``k = (i1/N1, i2/N2, i3/N3)``, no refinement, no symmetrisation.
    mu : float or 1D array
        Chemical potentials, eV.
    temperature_K : float
        Temperature; 0 uses WannierBerri's ``AHC`` calculator (step function, E <= mu occupied).
    method : {"ahc", "tabulate"}, optional
        "ahc" (default at T = 0): ``calculators.static.AHC``.  "tabulate" (required for
        T > 0): band-resolved ``tabulate.BerryCurvature`` and ``Energy`` summed with
        Fermi-Dirac weights (at T = 0 with the step E <= mu).

    Returns
    -------
    (nmu, 3, 3) array, antisymmetric, ``sigma[i, a, b]`` in S/cm.
    """
    from scipy import constants

    from wannierberri import factors
    from wannierberri.calculators import tabulate
    from wannierberri.calculators.static import AHC

    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError("mu must be a scalar or a non-empty 1D array")
    if temperature_K < 0:
        raise ValueError("temperature_K must be >= 0")
    method = method or ("ahc" if temperature_K == 0 else "tabulate")
    S_per_m_to_S_per_cm = 1e-2

    if method == "ahc":
        if temperature_K != 0:
            raise ValueError("WannierBerri's AHC calculator is T = 0 only; use method='tabulate'")
        step = np.diff(mu)
        if mu.size == 1 or (step[0] > 0 and np.allclose(step, step[0], rtol=0, atol=1e-12)):
            calculators = {"ahc": AHC(Efermi=mu, save_mode="")}
            O = _run(system, mesh, calculators, max_fft).results["ahc"].data
        else:
            calculators = {f"ahc{i}": AHC(Efermi=mu[i:i + 1], save_mode="") for i in range(mu.size)}
            res = _run(system, mesh, calculators, max_fft).results
            O = np.concatenate([res[f"ahc{i}"].data for i in range(mu.size)])
        return _tensor(O * S_per_m_to_S_per_cm)

    if method != "tabulate":
        raise ValueError(f"unknown method {method!r}")
    tab = tabulate.TabulatorAll({"Energy": tabulate.Energy(), "berry": tabulate.BerryCurvature()},
                                mode="grid", save_mode="")
    result = _run(system, mesh, {"tab": tab}, max_fft).results["tab"]
    nw = system.num_wann
    E = np.asarray(result.results["Energy"].data).reshape(-1, nw)
    Omega = np.asarray(result.results["berry"].data).reshape(-1, nw, 3)   # Angstrom^2
    kT = constants.k * temperature_K / constants.e                          # eV
    x = E[None, :, :] - mu[:, None, None]
    if kT > 0:
        occ = 0.5 * (1.0 - np.tanh(x / (2.0 * kT)))
    else:
        occ = (x <= 0).astype(float)
    volume = abs(np.linalg.det(system.real_lattice))
    # factor_ahc = -e^2/hbar/Angstrom: Omega[A^2]/V[A^3] -> S/m, as in StaticCalculator.
    O = np.einsum("ikn,knc->ic", occ, Omega) / (E.shape[0] * volume) * factors.factor_ahc
    return _tensor(O * S_per_m_to_S_per_cm)


# ---------------------------------------------------------------- AC and second order
def wb_optical_absorptive(*, system, mesh, mu, omegas, kT_eV: float, width: float, kind: str = "lorentzian",
                          max_fft: int = 16) -> np.ndarray:
    """Hermitian (absorptive) part of WannierBerri's ``dynamic.OpticalConductivity``, S/cm.

    WannierBerri returns the full Kubo tensor
    ``sigma_ab = (e^2/hbar) sum (f_n - f_m) (E_n - E_m)/(E_n - E_m - w - i eta) i A^a_mn A^b_nm``
    in S/m; its Hermitian part (sigma + sigma^dagger)/2 is the absorptive tensor of the paper's
    Eq. (32).  Returns (nmu, nomega, 3, 3) complex.
    """
    from wannierberri.calculators.dynamic import OpticalConductivity

    calc = OpticalConductivity(Efermi=np.atleast_1d(np.asarray(mu, dtype=float)), omega=np.asarray(omegas, float),
                               kBT=kT_eV, smr_fixed_width=width,
                               smr_type={"lorentzian": "Lorentzian", "gaussian": "Gaussian"}[kind], save_mode="")
    data = np.asarray(_run(system, mesh, {"opt": calc}, max_fft).results["opt"].data)  # (nmu, nw, 3, 3)
    herm = 0.5 * (data + np.conj(np.swapaxes(data, -1, -2)))
    return herm * 1e-2


def wb_fermi_surface(*, system, mesh, calculator: str, mu: float, temperature_K: float, points_per_kT: int = 40,
                     window_kT: float = 25.0, max_fft: int = 16) -> np.ndarray:
    """A WannierBerri Fermi-surface static calculator at finite T, as WannierBerri does it.

    ``calculator`` is a name in ``wannierberri.calculators.static`` (e.g. ``BerryDipole_FermiSurf``,
    ``NLDrude_FermiSurf``).  WannierBerri evaluates the T = 0 Fermi-sea sum on an energy grid,
    takes its finite-difference derivative (``fder = 1``) and convolves it with -df/dE
    (``FermiDiracSmoother``, here over +-``window_kT`` k_BT); the value at ``mu`` (the grid
    centre) is returned, in the calculator's units (per tau = 1 fs).  Agreement with an exact
    finite-T sum is O((points_per_kT)^-2).
    """
    from scipy import constants

    from wannierberri.calculators import static
    from wannierberri.smoother import FermiDiracSmoother

    kT = constants.k * temperature_K / constants.e
    n = int(window_kT * points_per_kT) + 8
    E = mu + kT / points_per_kT * np.arange(-n, n + 1)
    smoother = FermiDiracSmoother(E, temperature_K, maxdE=window_kT)
    calc = getattr(static, calculator)(Efermi=E, smoother=smoother, save_mode="")
    res = _run(system, mesh, {"c": calc}, max_fft).results["c"]
    return np.asarray(res.dataSmooth)[n]


def wb_tabulated_second_order(*, system, mesh, mu: float, temperature_K: float, max_fft: int = 16) -> dict:
    """WannierBerri's Fermi-surface second-order tensors at finite T from its band-resolved tabulators.

    Sums WannierBerri's own ``Velocity``, ``BerryCurvature`` and ``InvMass`` (group-averaged over
    degenerate bands) with exact -df/dE weights, then applies its constants: ``NLAHC_FermiSurf``
    = factor_nlahc * (-int v_b Omega_d f') and ``NLDrude_FermiSurf`` = factor_nldrude *
    int d_a d_b E v_c (-f'), per tau = 1 fs (A/V^2).  Returns {"nlahc": (3, 3), "nldrude": (3, 3, 3)}.
    """
    from scipy import constants

    from wannierberri import factors
    from wannierberri.calculators import tabulate

    tab = tabulate.TabulatorAll({"Energy": tabulate.Energy(), "v": tabulate.Velocity(),
                                 "berry": tabulate.BerryCurvature(), "mass": tabulate.InvMass()},
                                mode="grid", save_mode="")
    res = _run(system, mesh, {"tab": tab}, max_fft).results["tab"].results
    nw = system.num_wann
    E = np.asarray(res["Energy"].data).reshape(-1, nw)
    v = np.asarray(res["v"].data).reshape(-1, nw, 3)
    Om = np.asarray(res["berry"].data).reshape(-1, nw, 3)
    M = np.asarray(res["mass"].data).reshape(-1, nw, 3, 3)
    kT = constants.k * temperature_K / constants.e
    x = (E - mu) / kT
    ax = np.abs(x)
    mdf = np.exp(-ax) / (1.0 + np.exp(-ax)) ** 2 / kT  # -df/dE, 1/eV
    norm = E.shape[0] * abs(np.linalg.det(system.real_lattice))
    D = np.einsum("kn,knb,knd->bd", mdf, v, Om) / norm
    nld = np.einsum("kn,knab,knc->abc", mdf, M, v) / norm
    return {"nlahc": D * factors.factor_nlahc, "nldrude": nld * factors.factor_nldrude}
