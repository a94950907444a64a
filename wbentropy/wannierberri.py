r"""WannierBerri calculators for entropy transport: use wbentropy inside ``wannierberri.run``.

>>> import wannierberri as wb                                                      # doctest: +SKIP
>>> from wbentropy.wannierberri import EntropyHall, FiniteTemperatureAHC
>>> result = wb.run(system, grid=grid, calculators={                               # doctest: +SKIP
...     "sigma_s": EntropyHall(Efermi=mu, temperature=300.0),
...     "ahc_300K": FiniteTemperatureAHC(Efermi=mu, temperature=300.0)})
>>> result.results["sigma_s"].data       # (len(mu), 3) = (sigma_yz, sigma_zx, sigma_xy), A/(m K)  # doctest: +SKIP

Who does what (the three layers of the style guide)
---------------------------------------------------
* **Orchestration** is WannierBerri's: ``run`` with its ``Grid`` (FFT batches, K-point
  weights), adaptive refinement, symmetrisation, Ray parallelism, restart and output files.
* **Interpolation** is WannierBerri's too: its ``Data_K`` evaluates E_n(k), U(k) and the
  Hamiltonian-gauge matrices ``Xbar('Ham', 1)`` = U^+ dH U, ``Xbar('AA')`` = U^+ A U and
  ``Xbar('rotAA')`` = U^+ (curl A) U on each FFT grid (cached, so shared with WannierBerri's
  own calculators of the same run).
* **Band geometry and physics** are wbentropy's: :func:`band_geometry_from_data_K` hands
  those matrices to :class:`wbentropy.kspace.geometry.BandGeometry` (D, r_nm, Omega_n, group
  velocity products), and every integrand is the one of ``wbentropy compute``
  (:data:`wbentropy.quantities.QUANTITIES`, which calls
  :func:`wbentropy.physics.entropy_production.drude_integrand` and
  :func:`~wbentropy.physics.entropy_production.interband_integrand`).  Nothing is
  re-implemented here: a calculator run by WannierBerri on the mesh ``k = i/N`` gives
  ``wbentropy.api.compute`` on the same mesh (tests/test_wannierberri_plugin.py: <= 1e-8).

Symmetrized models
------------------
``to_system_r(model, symmetrize=True, magmom=..., mus=...)`` (:func:`wbentropy.symmetry.to_system_r`) returns a
WannierBerri system symmetrized under the magnetic space group of the model's ``.win``, after the band check of
``--symmetrize``, with its point group set: ``run(..., use_irred_kpt=True, symmetrize=True)`` then integrates the
irreducible K-points, and every calculator here equals the full-grid run (tests/test_wannierberri_plugin.py,
symmetrized Fe_sym: <= 1e-12 relative).

Why ``Calculator`` and not ``StaticCalculator``
----------------------------------------------
WannierBerri's ``StaticCalculator`` is a T = 0 machine: it sorts degenerate band groups
into bins of a *uniform* ``Efermi`` grid, accumulates a cumulative (Fermi-sea) sum and
takes finite differences along that grid for Fermi-surface terms (``fder``).  Its only
route to T > 0 is a ``FermiDiracSmoother`` applied to the output curve (a convolution on
the Efermi grid, accurate only for a grid much finer than k_B T, and with the f'
kernel only).  It cannot weight a group by s_n = -f ln f - (1-f) ln(1-f), nor by a
function of *two* group energies (the interband entropy production).  These calculators
therefore subclass the base ``wannierberri.calculators.Calculator`` (as WannierBerri's
``DynamicCalculator`` does) and return a ``wannierberri.result.EnergyResult`` over the
Efermi axis, exactly like ``AHC``: results add over K-points, scale by the K-point
weights, transform under symmetries and are saved (``.npz``/``.dat``) by ``run``.
Occupations are exact Fermi-Dirac functions, so ``Efermi`` may be any 1-D array (it need
not be uniform, unlike ``AHC``).

Units and signs (all SI, per metre, like WannierBerri's own results)
--------------------------------------------------------------------
=============================  ======================================================  =================
calculator                     data                                                     units
=============================  ======================================================  =================
EntropyHall                    (sigma^s_yz, sigma^s_zx, sigma^s_xy), shape (nmu, 3)     A/(m K)
FiniteTemperatureAHC           (sigma^e_yz, sigma^e_zx, sigma^e_xy), shape (nmu, 3)     S/m (as WB's AHC)
ThermalHall                    (kappa_yz, kappa_zx, kappa_xy), shape (nmu, 3)           W/(m K)
EntropyProductionDrude         Pi^D_ab / E^2, shape (nmu, 3, 3)                         W/(K m^3)/(V/m)^2
EntropyProductionInterband     Pi^inter_ab / E^2, shape (nmu, 3, 3)                     W/(K m^3)/(V/m)^2
=============================  ======================================================  =================

``wbentropy compute`` and its CLI report the anomalous Hall conductivity in **S/cm**; the
:class:`FiniteTemperatureAHC` calculator follows WannierBerri and returns **S/m**
(divide by 100 for S/cm).  The pseudovector O_c is defined as in WannierBerri's ``AHC``:
sigma_ab = epsilon_abc O_c.  Signs: electrons, q = -e (see :mod:`wbentropy.constants`).

Degenerate bands
----------------
As WannierBerri's calculators and ``wbentropy compute``: consecutive bands closer than
``degen_thresh`` (default 1e-4 eV) form a group; D and r_nm vanish inside a group, group
traces are used and every occupation-like weight is evaluated at the group's mean energy
(:func:`wbentropy.kspace.geometry.degenerate_groups`).  The only difference from WannierBerri's
``get_borders`` is at a spacing *exactly* equal to the threshold (WannierBerri: same group,
wbentropy: split), a set of measure zero.  ``degen_Kramers=True`` is not supported.
"""
from __future__ import annotations

import logging
import time

import numpy as np

try:
    from wannierberri.calculators import Calculator
    from wannierberri.result import EnergyResult
    from wannierberri.symmetry.point_symmetry import transform_ident, transform_odd
except ImportError as err:  # pragma: no cover - the module is the WannierBerri plug-in
    raise ImportError("wbentropy.wannierberri needs WannierBerri: pip install wannierberri") from err

from . import constants as C
from .api import _PAPER_OVERFLOW
from .errors import InputError
from .kspace.geometry import DEFAULT_DEGEN_THRESH, BandGeometry, degenerate_groups
from .quantities import QUANTITIES, Options
from .symmetry import from_system_r, to_system_r  # the converters between TBModel and System_R

__all__ = [
    "to_system_r",
    "from_system_r",
    "EntropyHall",
    "FiniteTemperatureAHC",
    "ThermalHall",
    "EntropyProductionDrude",
    "EntropyProductionInterband",
    "band_geometry_from_data_K",
    "calculator_class",
    "S_PER_CM_TO_S_PER_M",
]

logger = logging.getLogger(__name__)

#: 1 S/cm in S/m (:data:`wbentropy.constants.S_PER_CM_TO_S_PER_M`; wbentropy reports charge conductivities in
#: S/cm, WannierBerri in S/m).
S_PER_CM_TO_S_PER_M: float = C.S_PER_CM_TO_S_PER_M

#: Upper bound on nk * nb^2 per geometry batch (bounds the (nk, 3, nb, nb) matrices).
_BATCH_ELEMENTS = 2**20


def band_geometry_from_data_K(data_K, *, degen_thresh: float = DEFAULT_DEGEN_THRESH,
                              external_terms: bool = True, k: slice = slice(None)) -> BandGeometry:
    """wbentropy's :class:`~wbentropy.kspace.geometry.BandGeometry` from WannierBerri's ``Data_K``.

    Adapter only (no physics): WannierBerri's interpolated Hamiltonian-gauge matrices are
    moved to wbentropy's component-first layout.

    ========  ==============================================  ============
    field     WannierBerri                                    units
    ========  ==============================================  ============
    E         ``data_K.E_K``                                  eV
    U         ``data_K.UU_K``                                 --
    Hbar      ``data_K.Xbar('Ham', 1)`` = U^+ d_a H U         eV*Angstrom
    Abar      ``data_K.Xbar('AA')`` = U^+ A_a U               Angstrom
    Obar_nn   diagonal of ``data_K.Xbar('rotAA')``            Angstrom^2
              = Re (U^+ (curl A)_c U)_nn
    ========  ==============================================  ============

    Parameters
    ----------
    data_K : wannierberri.data_K.Data_K
        One FFT grid of a WannierBerri run (what a calculator's ``__call__`` receives).
    degen_thresh : float
        Bands closer than this (eV) form a degenerate group.
    external_terms : bool
        Include the Berry connection of the Wannier functions (``AA``, "external terms" in
        WannierBerri).  Ignored (False) when the system has no ``AA`` or WannierBerri forces
        internal terms only.
    k : slice
        A batch of the (selected) k-points of ``data_K``.

    Returns
    -------
    BandGeometry
    """
    E = np.asarray(data_K.E_K[k], dtype=float)
    U = data_K.UU_K[k]
    Hbar = np.moveaxis(data_K.Xbar("Ham", 1)[k], -1, 1)
    use_external = (external_terms and not data_K.force_internal_terms_only
                    and data_K.system.has_R_mat("AA"))
    Abar = np.moveaxis(data_K.Xbar("AA")[k], -1, 1) if use_external else None
    Obar_nn = np.real(np.einsum("knnc->kcn", data_K.Xbar("rotAA")[k])) if use_external else None
    degenerate, E_group = degenerate_groups(E, degen_thresh=degen_thresh)
    return BandGeometry(E=E, U=U, Hbar=Hbar, Abar=Abar, Obar_nn=Obar_nn, H2bar_nn=None, degenerate=degenerate,
                        E_group=E_group)


def _tensor_to_pseudovector(t: np.ndarray) -> np.ndarray:
    """(..., 3, 3) antisymmetric -> (..., 3) = (t_yz, t_zx, t_xy), WannierBerri's O_c (t_ab = eps_abc O_c)."""
    return np.stack([t[..., 1, 2], t[..., 2, 0], t[..., 0, 1]], axis=-1)


def _as_efermi(Efermi) -> np.ndarray:
    mu = np.atleast_1d(np.asarray(Efermi, dtype=float))
    if mu.ndim != 1 or mu.size == 0 or not np.all(np.isfinite(mu)):
        raise InputError(f"Efermi must be a non-empty 1-D array of finite energies (eV), got {Efermi!r}")
    return mu


def _as_temperature(temperature, *, positive: bool) -> float:
    try:
        T = float(temperature)
    except (TypeError, ValueError):
        raise InputError(f"temperature must be a number (K), got {temperature!r}") from None
    if not np.isfinite(T) or T < 0 or (positive and T == 0):
        need = "> 0 K (the integrand contains -df/dE or 1/T)" if positive else ">= 0 K"
        raise InputError(f"temperature must be finite and {need}, got {temperature!r}")
    return T


def _result_convention(q) -> dict:
    """How a calculator returns quantity ``q``, read from its catalogue record.

    WannierBerri's results are per metre: a quantity per cm (``ahc``) is converted with
    :data:`S_PER_CM_TO_S_PER_M`; an antisymmetric (Hall) tensor is returned as the pseudovector
    (yz, zx, xy); the symmetry transforms follow the record's time reversal and inversion parities.
    """
    if q.vector or q.omega_axis or q.complex_valued or q.rank != 2 or q.time_reversal not in ("even", "odd") \
            or q.needs_second_derivatives:
        raise InputError(f"{q.name}: the WannierBerri calculators take real rank-2 tensors without a frequency axis "
                         "or second derivatives of H")
    per_cm = q.units.endswith("/cm")
    units = q.units.removesuffix("/cm") + "/m" if per_cm else q.units
    return {"_pseudovector": q.antisymmetric,
            "_units": units + (", pseudovector (yz, zx, xy)" if q.antisymmetric else ""),
            "_to_result_units": S_PER_CM_TO_S_PER_M if per_cm else 1.0,
            "_needs_finite_T": q.fermi_surface,
            "transformTR": transform_odd if q.time_reversal == "odd" else transform_ident,
            "transformInv": transform_odd if q.inversion == "odd" else transform_ident}


class _WbentropyCalculator(Calculator):
    """Common machinery: one wbentropy quantity at one temperature on an Efermi axis.

    Subclasses set ``_quantity`` (a key of :data:`wbentropy.quantities.QUANTITIES`); the rest
    (pseudovector or tensor, units, the factor to the result units, whether T must be > 0 and the
    symmetry transforms) is read from its catalogue record (:func:`_result_convention`).
    """

    _quantity: str
    _pseudovector: bool
    _units: str
    _to_result_units: float = 1.0
    _needs_finite_T: bool = False
    transformTR = transform_ident
    transformInv = transform_ident

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "_quantity" in cls.__dict__:
            for attr, value in _result_convention(QUANTITIES[cls._quantity]).items():
                setattr(cls, attr, value)

    def __init__(self, Efermi, temperature, *, options: Options, external_terms: bool = True,
                 degen_thresh: float = DEFAULT_DEGEN_THRESH, degen_Kramers: bool = False, smoother=None,
                 save_mode: str = "bin+txt", print_comment: bool = False) -> None:
        if degen_Kramers:
            raise InputError("degen_Kramers=True is not supported by the wbentropy calculators")
        if not degen_thresh >= 0:
            raise InputError(f"degen_thresh must be >= 0 eV, got {degen_thresh!r}")
        self.Efermi = _as_efermi(Efermi)
        self.temperature = _as_temperature(temperature, positive=self._needs_finite_T)
        self.options = options
        self.external_terms = bool(external_terms)
        self.smoother = smoother
        self.comment = self._comment()
        super().__init__(degen_thresh=degen_thresh, degen_Kramers=False, save_mode=save_mode,
                         print_comment=print_comment)

    def _comment(self) -> str:
        q = QUANTITIES[self._quantity]
        extra = "" if self.options.tau_fs is None else f", tau = {self.options.tau_fs:g} fs"
        return f"wbentropy {q.formula}; T = {self.temperature:g} K{extra}; units {self._units}"

    def __call__(self, data_K) -> EnergyResult:
        """Integrate over one WannierBerri FFT grid: (1/(N V)) sum_k integrand(k), in result units."""
        t0 = time.perf_counter()
        q = QUANTITIES[self._quantity]
        nsel, nb = data_K.E_K.shape
        batch = max(1, _BATCH_ELEMENTS // max(1, nb * nb))
        total = np.zeros((self.Efermi.size, 3, 3))
        for start in range(0, nsel, batch):
            geom = band_geometry_from_data_K(data_K, degen_thresh=self.degen_thresh,
                                             external_terms=self.external_terms, k=slice(start, start + batch))
            per_k = q.per_k(geom, temperatures=[self.temperature], mus=self.Efermi,
                            volume=data_K.cell_volume, options=self.options)  # (nk, 1, nmu, 3, 3)
            total += per_k[:, 0].sum(axis=0)
        # Mean over the whole FFT grid (k-points outside WannierBerri's Emin/Emax selection add 0),
        # the same normalisation as StaticCalculator; run() then applies the K-point weights.
        total *= self._to_result_units / data_K.nk
        data = _tensor_to_pseudovector(total) if self._pseudovector else total
        logger.debug("%s: %d k-points, %d bands, %d Efermi in %.3f s", type(self).__name__, nsel, nb,
                     self.Efermi.size, time.perf_counter() - t0)
        return EnergyResult(Energies=[self.Efermi], data=data, smoothers=[self.smoother],
                            transformTR=self.transformTR, transformInv=self.transformInv,
                            E_titles=["Efermi"], comment=self.comment, save_mode=self.save_mode)


class _HallCalculator(_WbentropyCalculator):
    """Berry-curvature (Fermi-sea) calculators: no relaxation time."""

    def __init__(self, Efermi, temperature, *, external_terms: bool = True,
                 degen_thresh: float = DEFAULT_DEGEN_THRESH, **kwargs) -> None:
        super().__init__(Efermi, temperature, options=Options(), external_terms=external_terms,
                         degen_thresh=degen_thresh, **kwargs)


class EntropyHall(_HallCalculator):
    r"""Anomalous entropy Hall conductivity at finite temperature (paper Eq. 28).

    .. math::
        \sigma^s_{ab}(T,\mu) = +\frac{e k_B}{\hbar}\sum_n\int\!\frac{d^3k}{(2\pi)^3}\,
        s_n\,\Omega_n^{ab},\qquad
        s_n = -f_n\ln f_n-(1-f_n)\ln(1-f_n),\quad f_n = \frac{1}{e^{(\epsilon_n-\mu)/k_BT}+1},

    the physical entropy current j^s_a = sigma^s_ab E_b of electrons (charge q = -e) per
    applied field; Eq. (28) with SI units restored (e = hbar = k_B = 1 in the paper).  By
    Onsager it equals the anomalous Nernst coefficient
    alpha = -(1/q) int dE (df/dE) sigma^e(E) (E - mu)/T (Xiao et al., PRL 97, 026603 (2006)).
    Sign convention: Omega_n^ab = eps_abc (curl A_n)_c as in WannierBerri/postw90, where
    sigma^e_ab = -(e^2/hbar) sum_n int f_n Omega_n^ab.  Weight s_n is evaluated at the mean
    energy of each degenerate group.

    Parameters
    ----------
    Efermi : array_like
        Chemical potentials mu, eV (any 1-D array; need not be uniform).
    temperature : float
        T in K; T = 0 gives zero (except at mu exactly on a band energy).
    external_terms : bool
        Include the Wannier-function Berry connection AA (as WannierBerri's ``AHC``).
    degen_thresh : float
        Degenerate-group threshold, eV (WannierBerri's default 1e-4).
    smoother, save_mode, print_comment
        As for WannierBerri's calculators.

    Returns
    -------
    wannierberri.result.EnergyResult
        ``data`` of shape (len(Efermi), 3): the pseudovector
        (sigma^s_yz, sigma^s_zx, sigma^s_xy) in **A/(m K)** (sigma^s_ab = eps_abc O_c, as
        WannierBerri's ``AHC``); odd under time reversal, even under inversion.
    """

    _quantity = "entropy_hall"


class FiniteTemperatureAHC(_HallCalculator):
    r"""Anomalous Hall conductivity with Fermi-Dirac occupations at temperature T.

    .. math::
        \sigma^e_{ab}(T,\mu) = -\frac{e^2}{\hbar}\sum_n\int\!\frac{d^3k}{(2\pi)^3}\,
        f_n\,\Omega_n^{ab},\qquad f_n = \frac{1}{e^{(\epsilon_n-\mu)/k_BT}+1},

    WannierBerri's ``AHC`` (a T = 0 step) generalised to T > 0; the charge-current
    counterpart of paper Eq. (28) (the paper's Eq. 27/28 with s_n -> f_n and the electron
    charge).  Sign convention of WannierBerri/postw90 (Omega_n^ab = eps_abc (curl A_n)_c).
    At T = 0 the occupation is 1 for E <= mu and 0 above, as in WannierBerri's ``AHC``.  f_n is evaluated at
    the mean energy of each degenerate group.

    Parameters
    ----------
    Efermi : array_like
        Chemical potentials, eV (any 1-D array).
    temperature : float
        T in K (>= 0).
    external_terms, degen_thresh, smoother, save_mode, print_comment
        As :class:`EntropyHall`.

    Returns
    -------
    wannierberri.result.EnergyResult
        ``data`` of shape (len(Efermi), 3): (sigma_yz, sigma_zx, sigma_xy) in **S/m**, the
        units of WannierBerri's ``AHC`` (``wbentropy compute`` reports S/cm: divide by
        :data:`S_PER_CM_TO_S_PER_M` = 100); odd under time reversal, even under inversion.
    """

    _quantity = "ahc"


class ThermalHall(_HallCalculator):
    r"""Anomalous thermal Hall conductivity (Qin, Niu & Shi, PRL 107, 236601 (2011)).

    .. math::
        \kappa_{ab}(T,\mu) = -\frac{k_B^2T}{\hbar}\sum_n\int\!\frac{d^3k}{(2\pi)^3}\,
        c_2(f_n)\,\Omega_n^{ab},\qquad c_2(f) = \int_0^f\ln^2\frac{1-t}{t}\,dt,

    the transport heat current j^Q_a = kappa_ab (-d_b T) (magnetisation currents removed), with the
    sign convention of :class:`FiniteTemperatureAHC`, so that kappa = L_0 T sigma^e at low T
    (Wiedemann-Franz, L_0 = pi^2 k_B^2/(3 e^2)).  A Fermi-sea quantity; zero at T = 0.  c_2 is
    evaluated in closed form (:func:`wbentropy.physics.occupation.c2_of_x`) at the mean energy of each
    degenerate group.

    Parameters
    ----------
    Efermi, temperature, external_terms, degen_thresh, smoother, save_mode, print_comment
        As :class:`FiniteTemperatureAHC` (T >= 0 K; T = 0 gives kappa = 0).

    Returns
    -------
    wannierberri.result.EnergyResult
        ``data`` of shape (len(Efermi), 3): (kappa_yz, kappa_zx, kappa_xy) in **W/(m K)**; odd under
        time reversal, even under inversion.
    """

    _quantity = "thermal_hall"


class EntropyProductionDrude(_WbentropyCalculator):
    r"""Drude (intraband) entropy production per field squared, paper Eq. (19).

    .. math::
        \frac{\Pi^D_{ab}}{E^2} = \frac{e^2\tau}{\hbar^2 T}\sum_n\int\!\frac{d^3k}{(2\pi)^3}\,
        v^a_n v^b_n\Big(-\frac{\partial f}{\partial\epsilon}\Big)_n = \frac{\sigma^D_{ab}}{T},

    the rate of entropy production Pi = Pi_ab E_a E_b (in W/(K m^3)) of the linear Drude
    current, J^D.E/T (first term of Eq. 18 rewritten as Eq. 19), with v_n = d eps_n/dk.
    Symmetric and positive semi-definite (second law).  Integrand:
    :func:`wbentropy.physics.entropy_production.drude_integrand`; inside a degenerate group
    v^a v^b is the group trace sum_{m in G} Re v^a_nm v^b_mn and -f' is taken at the group
    energy.

    Parameters
    ----------
    Efermi : array_like
        Chemical potentials, eV.
    temperature : float
        T in K, > 0.
    tau_fs : float
        Relaxation time tau in fs (Pi^D is proportional to tau).
    degen_thresh, smoother, save_mode, print_comment
        As :class:`EntropyHall`.

    Returns
    -------
    wannierberri.result.EnergyResult
        ``data`` of shape (len(Efermi), 3, 3): Pi^D_ab/E^2 in **W/(K m^3)/(V/m)^2** = S/(m K);
        even under time reversal and inversion.
    """

    _quantity = "entropy_production_drude"

    def __init__(self, Efermi, temperature, tau_fs, *, degen_thresh: float = DEFAULT_DEGEN_THRESH,
                 **kwargs) -> None:
        options = Options(tau_fs=tau_fs)
        options.eta  # raises InputError for a missing or non-positive tau
        # v_n needs only U^+ dH U: skip interpolating the Berry connection.
        super().__init__(Efermi, temperature, options=options, external_terms=False,
                         degen_thresh=degen_thresh, **kwargs)


class EntropyProductionInterband(_WbentropyCalculator):
    r"""Interband (quantum-metric) entropy production per field squared, paper Eqs. (9), (18).

    ``form="exact"`` (default; Eq. 9 expanded to second order in E with the RTA dissipator
    Eq. 10, Kubo-Mori kernel):

    .. math::
        \frac{\Pi^{\rm inter}_{ab}}{E^2} = \frac{e^2k_B}{\hbar}\,\eta
        \sum_{n\ne m}\int\!\frac{d^3k}{(2\pi)^3}\,
        \frac{(f_m-f_n)(\epsilon_n-\epsilon_m)/k_BT}{\epsilon_{nm}^2+\eta^2}\,g^{ab}_{nm},
        \qquad \eta = \hbar/\tau,\quad g^{ab}_{nm} = \mathrm{Re}\,r^a_{nm}r^b_{mn};

    ``form="paper"``: the second term of the paper's Eq. (18) as printed, weight
    f_nm^2/[f_n(1-f_n)] instead of the Kubo-Mori f_nm^2 K_nm (overestimates; kept for
    comparison), both with eta kept in the denominator.  Integrand:
    :func:`wbentropy.physics.entropy_production.interband_integrand`.  r_nm is the interband
    Berry connection (zero inside degenerate groups, whose energies are the group mean).
    Positive semi-definite.  Units and field convention as :class:`EntropyProductionDrude`.

    Parameters
    ----------
    Efermi : array_like
        Chemical potentials, eV.
    temperature : float
        T in K, > 0.
    tau_fs : float
        Relaxation time in fs.
    form : {"exact", "paper"}
        Interband kernel (see :mod:`wbentropy.physics.entropy_production`).
    external_terms, degen_thresh, smoother, save_mode, print_comment
        As :class:`EntropyHall`.

    Returns
    -------
    wannierberri.result.EnergyResult
        ``data`` of shape (len(Efermi), 3, 3): Pi^inter_ab/E^2 in **W/(K m^3)/(V/m)^2**;
        even under time reversal and inversion.
    """

    _quantity = "entropy_production_interband"

    def __init__(self, Efermi, temperature, tau_fs, *, form: str = "exact", external_terms: bool = True,
                 degen_thresh: float = DEFAULT_DEGEN_THRESH, **kwargs) -> None:
        if form not in ("exact", "paper"):
            raise InputError(f"form must be 'exact' or 'paper', got {form!r}")
        options = Options(tau_fs=tau_fs, entropy_production_form=form)
        options.eta  # raises InputError for a missing or non-positive tau
        super().__init__(Efermi, temperature, options=options, external_terms=external_terms,
                         degen_thresh=degen_thresh, **kwargs)

    def _comment(self) -> str:
        return super()._comment() + f"; form = {self.options.entropy_production_form}"

    def __call__(self, data_K) -> EnergyResult:
        result = super().__call__(data_K)
        if self.options.entropy_production_form == "paper" and np.max(np.abs(result.data)) > _PAPER_OVERFLOW:
            logger.warning("EntropyProductionInterband(form='paper'): the paper's 1/(f_n(1-f_n)) weight "
                           "~ exp(|E_n-mu|/kT) exceeds double precision for bands far from mu; pair weights "
                           "are capped at ~1e299, so the result is a lower bound of an astronomically large number")
        return result


def calculator_class(name: str) -> type:
    """A WannierBerri calculator class for a quantity of the catalogue, built from its record alone.

    The class takes ``(Efermi, temperature, tau_fs=None, *, external_terms=True, degen_thresh=..., smoother=None,
    save_mode=..., print_comment=False)`` and returns an ``EnergyResult`` as :class:`EntropyHall` does, in the
    conventions of :func:`_result_convention` (per metre; a Hall tensor as its pseudovector).  It serves any real
    rank-2 quantity without a frequency axis or second derivatives of H, including one added with
    :func:`wbentropy.quantities.register` (docs/adding_a_quantity.md).

    Parameters
    ----------
    name : str
        A key of :data:`wbentropy.quantities.QUANTITIES`.
    """
    from .quantities import get_quantities

    q = get_quantities([name])[0]
    _result_convention(q)  # refuses a quantity the calculators cannot return

    def __init__(self, Efermi, temperature, tau_fs=None, *, external_terms: bool = True,
                 degen_thresh: float = DEFAULT_DEGEN_THRESH, **kwargs) -> None:
        options = Options(tau_fs=tau_fs)
        if q.needs_tau:
            options.eta  # raises InputError for a missing or non-positive tau
        _WbentropyCalculator.__init__(self, Efermi, temperature, options=options,
                                      external_terms=external_terms and "AA" in q.operators,
                                      degen_thresh=degen_thresh, **kwargs)

    doc = f"WannierBerri calculator of ``{name}`` ({q.formula}), {q.units}; made by :func:`calculator_class`."
    return type(f"Calculator_{name}", (_WbentropyCalculator,), {"_quantity": name, "__init__": __init__,
                                                               "__doc__": doc, "__module__": __name__})
