"""Brillouin-zone quantities: how band geometry is weighted by occupations and summed.

A :class:`Quantity` turns the :class:`~wbentropy.kspace.geometry.BandGeometry` of a batch of
k-points into the batch's contribution to a (nT, nmu, 3, 3) tensor in SI units, for
every requested (T, mu) at once.  The integrator adds batch contributions and divides
by the number of k-points of the mesh; it knows no physics.  The geometry of a
k-point is computed once and reused for all (T, mu) and all quantities.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import constants as C
from .integrate.boxes import OccupationBox, box_mean
from .kspace.geometry import BandGeometry
from .physics import drude as DRUDE
from .physics import entropy_production as EP
from .physics import nonlinear as NL
from .physics import optical as OPT
from .physics.geometry import connection_products
from .physics.hall import pseudovector_to_tensor
from .physics.occupation import entropy, fermi, heat_weight, kT_eV, minus_dentropy, minus_dfermi, minus_dheat_weight

__all__ = ["Quantity", "QUANTITIES", "charge_quantity", "entropy_twin", "register", "unregister", "get_quantities",
           "pseudovector_to_tensor", "occupation_weighted", "Options", "HALL_WEIGHTS"]

#: Upper bound on the number of floats in one (T, mu, k, band) weight block.
_WEIGHT_BLOCK = 4_000_000


def occupation_weighted(E: np.ndarray, X: np.ndarray, *, weight: Callable, temperatures, mus,
                        block: int = _WEIGHT_BLOCK, box: OccupationBox | None = None) -> np.ndarray:
    """Per k-point sums sum_n w(E_kn; T, mu) X_kn... for every (T, mu).

    Parameters
    ----------
    E : (nk, nb) band energies, eV
    X : (nk, nb, ...) band-resolved quantity
    weight : callable(E, *, mu, kT) -> array, e.g. :func:`~wbentropy.physics.occupation.fermi`
    temperatures : (nT,) K;  mus : (nmu,) eV
    block : int
        At most this many floats in one (mu, k, band) weight block (memory bound).
    box : OccupationBox, optional
        Energies each band takes, linear, over the point's k-space box (fields (nk, nb[, 3])): w is
        then its mean over the box (:func:`~wbentropy.integrate.boxes.box_mean`), as the adaptive
        integrator asks with ``--box-occupations``.

    Returns
    -------
    (nk, nT, nmu, ...) array
    """
    mus = np.asarray(mus, dtype=float)
    nk, nb = E.shape
    tail = X.shape[2:]
    Xf = X.reshape(nk, nb, -1)
    out = np.empty((nk, len(temperatures), len(mus), Xf.shape[2]))
    chunk = max(1, block // max(1, nk * nb))
    for iT, T in enumerate(temperatures):
        kT = kT_eV(T)
        for i0 in range(0, len(mus), chunk):
            mu = mus[i0:i0 + chunk, None, None]
            w = box_mean(weight, E[None], mu=mu, kT=kT, box=box)  # (nmu_c, nk, nb)
            out[:, iT, i0:i0 + chunk] = np.matmul(w.transpose(1, 0, 2), Xf)
    return out.reshape((nk, len(temperatures), len(mus)) + tail)


@dataclass(frozen=True)
class Options:
    """Physical parameters shared by quantities.

    Attributes
    ----------
    tau_fs : float or None
        Relaxation time tau in fs (entropy production, Drude responses).
    entropy_production_form : {"exact", "paper"}
        Interband kernel: Kubo-Mori (exact second-order expansion of Eq. 9) or the
        paper's Eq. (18) as printed.
    block_floats : int
        Memory bound: at most this many floats in one (k, band[, band], mu) block of an
        integrand (set by the integrator from ``--max-memory``; not physics).
    omegas : tuple of float or None
        Photon energies hbar*omega in eV (AC quantities).
    smearing : {"lorentzian", "gaussian"}
        Line shape replacing delta(eps_mn - omega) (see :mod:`wbentropy.physics.optical`).
    smearing_width : float
        Its width gamma in eV.
    """

    tau_fs: float | None = None
    entropy_production_form: str = "exact"
    block_floats: int = _WEIGHT_BLOCK
    omegas: tuple[float, ...] | None = None
    smearing: str = "lorentzian"
    smearing_width: float = 0.05

    @property
    def eta(self) -> float:
        """Relaxation rate hbar/tau in eV."""
        from .errors import InputError

        if self.tau_fs is None:
            raise InputError("this quantity needs the relaxation time: give {tau_fs} (femtoseconds)", param="tau_fs")
        if not np.isfinite(self.tau_fs) or self.tau_fs <= 0:
            raise InputError(f"the relaxation time must be > 0 fs, got {self.tau_fs}")
        return C.HBAR_EV_FS / self.tau_fs


@dataclass(frozen=True)
class Quantity:
    r"""One BZ-integrated response tensor.

    Attributes
    ----------
    name : str
        Name on the command line and in the HDF5 file.
    units : str
        SI units of the reported tensor.
    formula : str
        The formula, for file attributes and ``wbentropy show``.
    per_k : callable(geometry, *, temperatures, mus, volume, options) -> (nk, nT, nmu, 3, 3) or (nk, nT, nmu, 3)
        The integrand at each k-point of the batch, already multiplied by the SI factor
        and divided by the cell volume: the BZ integral is its weighted mean over k
        (uniform mesh: plain mean).
    needs_second_derivatives : bool
    needs_tau : bool
    fermi_surface : bool
        True if the integrand needs T > 0 (contains -df/dE or 1/kT).
    vector : bool
        True for a vector (3,) rather than a (3, 3) tensor.
    omega_axis : bool
        True if the tensor depends on the frequency: shape (nk, nT, nmu, nomega, 3, 3).
    complex_valued : bool
        True for complex tensors (e.g. the Hermitian absorptive optical conductivity).
    rank : int
        Number of Cartesian indices (2; 3 for second-order conductivities sigma_abc; 1 with ``vector``).
    symbol : str
        LaTeX symbol for labels, e.g. ``r"\sigma^e"``; the tensor indices go where ``%s`` is, else they are
        appended as a subscript (:meth:`label`).
    parity : {"polar", "axial"}
        How the tensor transforms under an improper rotation R: "polar" (true tensor, T_a.. -> R_aa' ... T_a'..)
        or "axial" (pseudotensor: an extra det R).  Every response here relates polar currents to polar fields,
        hence "polar"; so a rank-2 tensor is even and a rank-3 tensor or a vector odd under inversion
        (:attr:`inversion`); the exception is the Berry curvature dipole D_bd (velocity times Berry curvature,
        a pseudotensor: "axial", odd under inversion).  The antisymmetric (Hall) tensors are the duals
        t_ab = eps_abc p_c of axial vectors p.
    antisymmetric : bool
        t_ab = -t_ba: the tensor is the dual t_ab = eps_abc p_c of a pseudovector p (the Hall tensors).
    time_reversal : {"even", "odd", "mixed"}
        Parity under time reversal of the tensor (as WannierBerri's ``transformTR``): "odd" tensors vanish in a
        non-magnetic crystal; "mixed" has both parts (the Hermitian optical tensor: Re even, Im odd; an antiunitary
        operation transposes its indices, Onsager).  :attr:`rank`, :attr:`parity` and this field give the
        representation rho(g) of the magnetic point group on the tensor: every result of a symmetrized model is
        projected onto its allowed form, (1/|G|) sum_g rho(g) T (:mod:`wbentropy.physics.tensor_symmetry`,
        docs/symmetry.md).
    operators : tuple of str
        Tight-binding operators the integrand needs: "H" (Hamiltonian) and "AA" (position matrix elements, the
        external part of the Berry connection r_nm).
    positive_semidefinite : bool
        The symmetric part must have no negative eigenvalue (second law, Pi >= 0): checked on every result
        (:func:`wbentropy.physics.entropy_production.check_positive_semidefinite`).
    thermal_shell : bool
        The band weight lives in the thermal shell |E - mu| <~ k_BT (the entropy weight s_n) although the
        integrand itself is finite at T = 0: sampling near the Fermi surface is tracked and the adaptive
        integrator forces the shell, as for ``fermi_surface`` quantities (see :attr:`fermi_weighted`).
    form_dependent : bool
        The value depends on ``Options.entropy_production_form`` (exact Kubo-Mori or paper Eq. 18 kernel):
        the result records the form used.
    plot_units : str
        Units as printed on figures, if not :attr:`units` with ``*`` written as a middle dot.
    figure, figure_part : str
        Which figure of ``wbentropy plot`` shows the quantity ("hall": against mu, one panel each;
        "dissipation": Pi_aa/E^2 and its shares) and its part there ("total", "drude", "interband").
    weight : str
        The band (or band-pair) weight, e.g. "f", "s", "-df/dE"; "f" and "s" for the f -> s pairs.
    factor : float or None
        The SI factor of the integrand (a constant of :mod:`wbentropy.constants`), where it is one number.
    family : callable(kind, factor, name) -> per_k, or None
        Builds the integrand of the quantity with band weight ``kind`` ("charge": f, "entropy": s); what
        :func:`entropy_twin` uses to make the entropy version of a charge quantity.
    wiedemann_franz : {"", "sigma", "kappa"}
        Its part in the Wiedemann-Franz (Lorenz) ratio kappa/(L_0 T sigma) that ``wbentropy show`` prints when a
        result holds both: "sigma" the charge Hall conductivity (S/cm), "kappa" the thermal Hall conductivity.
    kslice_title : str
        Title of its panel in the k-slice map of ``wbentropy plot --kslice`` (the per-k integrand; ``%s``: the
        components), or "" if it has none.  A quantity that needs tau is mapped only when tau is known.
    checks : tuple of callable(value, *, name) -> None
        Checks every result of the quantity must pass (each raises if not); with
        ``positive_semidefinite`` it holds :func:`~wbentropy.physics.entropy_production.check_positive_semidefinite`.
    box_averaged : bool
        Its band weight (f or s) is averaged over the k-space box of a point when the geometry holds one
        (:attr:`~wbentropy.kspace.geometry.BandGeometry.occupation_box`, :func:`occupation_weighted`): the adaptive
        integrator then estimates its thermal-shell error a priori instead of forcing the shell.
    """

    name: str
    units: str
    formula: str
    per_k: Callable[..., np.ndarray]
    needs_second_derivatives: bool = False
    needs_tau: bool = False
    fermi_surface: bool = False
    vector: bool = False
    omega_axis: bool = False
    complex_valued: bool = False
    rank: int = 2
    symbol: str = ""
    parity: str = "polar"
    antisymmetric: bool = False
    time_reversal: str = "even"
    operators: tuple[str, ...] = ("H",)
    positive_semidefinite: bool = False
    thermal_shell: bool = False
    form_dependent: bool = False
    plot_units: str = ""
    figure: str = ""
    figure_part: str = ""
    weight: str = ""
    factor: float | None = None
    family: Callable[..., Callable] | None = None
    wiedemann_franz: str = ""
    kslice_title: str = ""
    checks: tuple[Callable[..., None], ...] = ()
    box_averaged: bool = False

    def __post_init__(self) -> None:
        psd = EP.check_positive_semidefinite  # the second law: follows the positive_semidefinite field
        checks = tuple(c for c in self.checks if c is not psd) + ((psd,) if self.positive_semidefinite else ())
        object.__setattr__(self, "checks", checks)

    @property
    def fermi_weighted(self) -> bool:
        """True if the integrand lives near the Fermi surface at T > 0 (-df/dE, 1/T, or the entropy weight)."""
        return self.fermi_surface or self.thermal_shell

    @property
    def inversion(self) -> str:
        """Parity under inversion, "even" or "odd", from :attr:`rank` and :attr:`parity`."""
        odd = (self.rank % 2 == 1) != (self.parity == "axial")
        return "odd" if odd else "even"

    def label(self, indices: str) -> str:
        """LaTeX label (math mode) of the components ``indices``, e.g. ``"xy"`` or ``"ab"``."""
        symbol = self.symbol if "%s" in self.symbol else self.symbol + "_{%s}"
        return f"${symbol % indices}$"

    @property
    def label_units(self) -> str:
        """Units for figure labels."""
        return self.plot_units or self.units.replace("*", "·")


#: The two Hall tensors as sigma_ab = factor/V sum_n <F(E_n) Omega_n^ab>_BZ: name -> (F, -dF/dE, factor).
#: ahc: F = f, factor -(e^2/hbar) [S/cm with Omega in Angstrom^2, V in Angstrom^3];
#: entropy_hall: F = s, factor +(e k_B/hbar) [A/(m K)] (paper Eq. 28, electrons q = -e);
#: thermal_hall: F = k_BT c_2(f) [eV], factor -(e k_B/hbar) [W/(m K)] (Qin, Niu & Shi 2011; kappa = L_0 T sigma^e at
#: low T).  The thermal_hall integrand reads it (ahc and entropy_hall: :func:`_berry_sea` with the same constants).
HALL_WEIGHTS = {"ahc": (fermi, minus_dfermi, C.AHC_FACTOR_S_PER_CM),
                "entropy_hall": (entropy, minus_dentropy, C.ENTROPY_HALL_FACTOR_A_PER_MK),
                "thermal_hall": (heat_weight, minus_dheat_weight, C.THERMAL_HALL_FACTOR_W_PER_MK)}


#: Band weight of a charge quantity and of its entropy twin (f -> s).
_BAND_WEIGHTS = {"charge": fermi, "entropy": entropy}


def _berry_sea(kind, factor, name=None):
    """Quantity.per_k of factor/V sum_n w_n Omega_n^ab with w = f (charge: ahc, S/cm) or s (entropy: entropy_hall,
    A/(m K), paper Eq. 28, electrons q = -e)."""
    weight = _BAND_WEIGHTS[kind]

    def per_k(geom: BandGeometry, *, temperatures, mus, volume, options) -> np.ndarray:
        p = occupation_weighted(geom.E_group, geom.berry_curvature, weight=weight, temperatures=temperatures,
                                 mus=mus, block=options.block_floats, box=geom.occupation_box)
        return pseudovector_to_tensor(p) * (factor / volume)

    return per_k


def ahc_curve_sum(geom: BandGeometry, *, energies: np.ndarray, volume: float) -> np.ndarray:
    """Sum over the batch's k-points of the T = 0 AHC integrand at many Fermi energies, (nE, 3, 3) S/cm.

    The same formula as ``ahc`` at T = 0 (f = 1 for E <= E_F), summed over k inside one matrix
    product instead of returning per-k values: for the long energy grids of a sigma^e_0(E) curve
    (e.g. the Nernst integral in :mod:`wbentropy.verify`) the per-k output would be huge.
    """
    E = geom.E_group.reshape(-1)
    X = geom.berry_curvature.reshape(-1, 3)
    out = np.empty((len(energies), 3))
    chunk = max(1, _WEIGHT_BLOCK // max(1, E.size))
    for i0 in range(0, len(energies), chunk):
        occ = (E[None, :] <= np.asarray(energies[i0:i0 + chunk])[:, None]).astype(float)
        out[i0:i0 + chunk] = occ @ X
    return pseudovector_to_tensor(out) * (C.AHC_FACTOR_S_PER_CM / volume)


def _thermal_hall_per_k(geom: BandGeometry, *, temperatures, mus, volume, options) -> np.ndarray:
    """kappa_ab = -(k_B^2 T/hbar) sum_n int d^3k/(2pi)^3 c_2(f_n) Omega_n^ab  [W/(m K)] (Qin, Niu & Shi 2011).

    A Fermi-sea quantity like ``ahc`` (c_2 -> pi^2/3 below mu, 0 above; 0 at T = 0).  The point
    weight is used even with box occupations (:func:`~wbentropy.integrate.boxes.box_mean` has no
    antiderivatives of c_2): the plain quadrature rule of the cell, which converges to the same integral.
    """
    weight, _, factor = HALL_WEIGHTS["thermal_hall"]
    p = occupation_weighted(geom.E_group, geom.berry_curvature, weight=weight, temperatures=temperatures, mus=mus,
                             block=options.block_floats, box=None)
    return pseudovector_to_tensor(p) * (factor / volume)


def _grid_blocks(E: np.ndarray, temperatures, mus, *, extra: int = 1, block: int = _WEIGHT_BLOCK):
    """Yield (iT, mu slice, kT, mu block) with blocks small enough for (nk, nb, nb, nmu) arrays."""
    nk, nb = E.shape
    chunk = max(1, block // max(1, nk * nb * max(1, extra)))
    for iT, T in enumerate(temperatures):
        kT = kT_eV(T)
        for i0 in range(0, len(mus), chunk):
            yield iT, slice(i0, i0 + chunk), kT, np.asarray(mus[i0:i0 + chunk], dtype=float)


def _grid_last(per_k: np.ndarray) -> np.ndarray:
    """(nk, 3, 3, nmu) -> (nk, nmu, 3, 3)."""
    return np.moveaxis(per_k, -1, 1)


def _check_finite_T(temperatures, name):
    from .errors import InputError

    if np.any(np.asarray(temperatures) <= 0):
        raise InputError(f"{name} needs T > 0 (it contains -df/dE or 1/T); remove --temperature 0")


def _shared(fn):
    """Compute an integrand once per batch, (T, mu) block and options, however many quantities use it."""

    def wrapper(geom, kT, mu, options):
        key = (fn.__name__, kT, tuple(np.ravel(mu)), options)
        if key not in geom.cache:
            geom.cache[key] = fn(geom, kT, mu, options)
        return geom.cache[key]

    return wrapper


@_shared
def _ep_drude_per_k(geom, kT, mu, options):
    md = minus_dfermi(geom.E_group[..., None], mu=mu, kT=kT)
    return EP.drude_integrand(vv=geom.velocity_products, mdfde=md, kT=kT, eta=options.eta)


@_shared
def _ep_interband_per_k(geom, kT, mu, options):
    f = fermi(geom.E_group[..., None], mu=mu, kT=kT)
    return EP.interband_integrand(E=geom.E_group, f=f, r=geom.r, kT=kT, eta=options.eta,
                                  form=options.entropy_production_form, mu=mu)


def _on_grid(per_k, factor, *, name, nb_pairs=True, rank=2):
    """Wrap an integrand evaluated per (T, mu-block) into a Quantity.per_k over the whole grid."""

    def on_grid(geom, *, temperatures, mus, volume, options):
        _check_finite_T(temperatures, name)
        out = np.zeros((geom.E.shape[0], len(temperatures), len(mus)) + (3,) * rank)
        for iT, sl, kT, mu in _grid_blocks(geom.E, temperatures, mus, extra=geom.E.shape[1] if nb_pairs else 1,
                                           block=options.block_floats):
            out[:, iT, sl] = _grid_last(per_k(geom, kT, mu, options))
        return out * (factor / volume)

    return on_grid


def _ep_total_per_k(geom, kT, mu, options):
    return _ep_drude_per_k(geom, kT, mu, options) + _ep_interband_per_k(geom, kT, mu, options)


@_shared
def _ep_qm_parts(geom, kT, mu, options):
    """Eq. (21) with tau restored: (QM part, non-QM part).  The non-QM band term uses
    v^ab_eff = d_a d_b E_n - 2 sum_m eps_nm g_nm with the full interband metric, so that
    QM + non-QM equals Drude + interband exactly after the BZ sum (in a complete basis
    v^ab_eff = <n|d_a d_b H|n>, the paper's v^ab)."""
    f = fermi(geom.E_group[..., None], mu=mu, kT=kT)
    vab_eff = EP.effective_inverse_mass(band_hessian=geom.band_hessian, E=geom.E_group, g=geom.quantum_metric_pairs)
    return EP.qm_decomposition(E=geom.E_group, f=f, r=geom.r, vab=vab_eff, kT=kT, eta=options.eta,
                               form=options.entropy_production_form, mu=mu)


def _drude_sigma_per_k(geom, kT, mu, options):
    md = minus_dfermi(geom.E_group[..., None], mu=mu, kT=kT)
    return DRUDE.drude_conductivity_integrand(vv=geom.velocity_products, mdfde=md, eta=options.eta)


def _entropy_drude_per_k(geom, kT, mu, options):
    """sigma^s_D in its Fermi-surface form (:func:`wbentropy.physics.drude.entropy_drude_integrand`)."""
    x = (geom.E_group[..., None] - mu) / kT
    md = minus_dfermi(geom.E_group[..., None], mu=mu, kT=kT)
    return DRUDE.entropy_drude_integrand(vv=geom.velocity_products, mdfde=md, x=x, eta=options.eta)


def _entropy_current_zero_field_per_k(geom, *, temperatures, mus, volume, options):
    """j^s(0)_a = k_B sum_n int v^a_n s_n / hbar (Eq. 24), W/(K m^2); zero by periodicity."""
    p = occupation_weighted(geom.E_group, geom.velocity, weight=entropy, temperatures=temperatures, mus=mus,
                             block=options.block_floats, box=geom.occupation_box)
    return p * (C.ENTROPY_CURRENT_FACTOR / volume)


# ----------------------------------------------------------------- second order in E (DC)
def _weight_derivative(geom, kT, mu, kind):
    """dw/dE of the band weight f (charge) or s (entropy) at the group energies, (nk, nb, nmu), 1/eV."""
    return NL.weight_derivative(geom.E_group[..., None], mu=mu, kT=kT, kind=kind)


def _bcd_per_k(kind):
    """Berry curvature dipole with band weight f or s (:func:`wbentropy.physics.nonlinear.berry_curvature_dipole`)."""

    def per_k(geom, kT, mu, options):
        wp = _weight_derivative(geom, kT, mu, kind)
        return NL.berry_curvature_dipole(v=geom.velocity, omega=geom.berry_curvature, wp=wp)

    return per_k


def _nl_drude_per_k(kind):
    """Nonlinear Drude with band weight f or s (:func:`wbentropy.physics.nonlinear.nonlinear_drude`)."""

    def per_k(geom, kT, mu, options):
        wp = _weight_derivative(geom, kT, mu, kind)
        return NL.nonlinear_drude(hessian=geom.band_hessian, v=geom.velocity, wp=wp)

    return per_k


def _entropy_nl_drude_exact_per_k(geom, kT, mu, options):
    """The exact second-order entropy current (:func:`wbentropy.physics.nonlinear.entropy_nonlinear_drude_exact`)."""
    md = minus_dfermi(geom.E_group[..., None], mu=mu, kT=kT)
    return NL.entropy_nonlinear_drude_exact(hessian=geom.band_hessian, v=geom.velocity, mdfde=md, kT=kT,
                                            wp=_weight_derivative(geom, kT, mu, "entropy"))


def _intrinsic_nlh_per_k(kind):
    """Intrinsic nonlinear Hall, band weight f or s (:func:`wbentropy.physics.nonlinear.intrinsic_nonlinear_hall`)."""

    def per_k(geom, kT, mu, options):
        wp = _weight_derivative(geom, kT, mu, kind)
        return NL.intrinsic_nonlinear_hall(v=geom.velocity, G=geom.connection_polarizability, wp=wp)

    return per_k


def _scaled_by_tau(per_k_grid, power):
    """Multiply a Quantity.per_k by (tau/1 fs)^power (the constants are per tau = 1 fs)."""

    def on_grid(geom, *, temperatures, mus, volume, options):
        options.eta  # raises if tau is missing
        return per_k_grid(geom, temperatures=temperatures, mus=mus, volume=volume, options=options) \
            * options.tau_fs**power

    return on_grid


def _bcd_family(kind, factor, name):
    return _scaled_by_tau(_on_grid(_bcd_per_k(kind), factor, name=name, nb_pairs=False), 1)


def _nl_drude_family(kind, factor, name):
    return _scaled_by_tau(_on_grid(_nl_drude_per_k(kind), factor, name=name, nb_pairs=False, rank=3), 2)


def _intrinsic_nlh_family(kind, factor, name):
    return _on_grid(_intrinsic_nlh_per_k(kind), factor, name=name, nb_pairs=False, rank=3)


def _optical_family(kind, factor, name=None):
    return _optical(_BAND_WEIGHTS[kind], factor)


def charge_quantity(*, family, factor, **fields) -> Quantity:
    """A quantity with band weight f built by ``family`` (see :attr:`Quantity.family`), for :func:`entropy_twin`."""
    return Quantity(per_k=family("charge", factor, fields["name"]), family=family, factor=factor, weight="f",
                    **fields)


def entropy_twin(charge: Quantity, *, name: str, factor: float, units: str, formula: str, symbol: str,
                 thermal_shell: bool = True, kslice_title: str = "") -> Quantity:
    """The entropy version of a charge quantity: band weight f -> s, SI factor -(k_B/e) times the charge one.

    Everything else (shape, how it transforms, operators, needs) is the charge quantity's: s, like f, is
    a scalar even under time reversal.

    Parameters
    ----------
    charge : Quantity
        Made by :func:`charge_quantity` (it has a ``family`` and a ``factor``).
    name, units, formula, symbol
        The twin's.
    factor : float
        Its SI factor, a constant of :mod:`wbentropy.constants` (so that values stay those of its
        derivation); checked against -(k_B/e) times the charge factor (per metre if that one is per cm).
    thermal_shell : bool
        See :attr:`Quantity.thermal_shell`.
    kslice_title : str
        See :attr:`Quantity.kslice_title`.
    """
    per_cm = C.PER_ANGSTROM_TO_PER_M / C.PER_ANGSTROM_TO_PER_CM if charge.units.endswith("/cm") else 1.0
    expected = -C.KB_EV * charge.factor * per_cm
    if not np.isclose(factor, expected, rtol=1e-12, atol=0.0):
        raise ValueError(f"{name}: factor {factor!r} is not -(k_B/e) x the factor of {charge.name} ({expected!r})")
    return dataclasses.replace(charge, name=name, units=units, formula=formula, symbol=symbol, factor=factor,
                               weight="s", per_k=charge.family("entropy", factor, name), thermal_shell=thermal_shell,
                               plot_units="", wiedemann_franz="", kslice_title=kslice_title)


def _rr(geom):
    """r^a_nm r^b_mn, (nk, nb, nb, 9) complex, shared by the AC quantities of a batch."""
    if "rr" not in geom.cache:
        r = geom.r
        geom.cache["rr"] = connection_products(r).reshape(r.shape[:3] + (9,))
    return geom.cache["rr"]


def _optical(weight, factor):
    """Quantity.per_k of an absorptive interband AC conductivity with band weight f or s."""

    def on_grid(geom, *, temperatures, mus, volume, options):
        from .errors import InputError

        if not options.omegas:
            raise InputError("AC quantities need photon energies: give --omega-range START STOP STEP (eV)")
        omegas = np.asarray(options.omegas, dtype=float)
        E = geom.E_group
        nk, nb = E.shape
        rr = _rr(geom)
        out = np.empty((nk, len(temperatures), len(mus), len(omegas), 3, 3), dtype=complex)
        w_chunk = max(1, _WEIGHT_BLOCK // max(1, nk * nb * nb))
        for iT, sl, kT, mu in _grid_blocks(E, temperatures, mus, extra=nb):
            w = weight(E[:, :, None], mu=mu[None, None, :], kT=kT)  # (nk, nb, nmu_block)
            for i0 in range(0, len(omegas), w_chunk):
                out[:, iT, sl, i0:i0 + w_chunk] = OPT.absorptive_interband(
                    E=E, rr=rr, w=w, omegas=omegas[i0:i0 + w_chunk], width=options.smearing_width,
                    kind=options.smearing)
        return out * (factor / volume)

    return on_grid


def _qm_batch(index):
    def on_grid(geom, *, temperatures, mus, volume, options):
        _check_finite_T(temperatures, "entropy_production_qm")
        out = np.zeros((geom.E.shape[0], len(temperatures), len(mus), 3, 3))
        for iT, sl, kT, mu in _grid_blocks(geom.E, temperatures, mus, extra=geom.E.shape[1],
                                           block=options.block_floats):
            out[:, iT, sl] = _grid_last(_ep_qm_parts(geom, kT, mu, options)[index])
        return out * (C.ENTROPY_PRODUCTION_FACTOR / volume)

    return on_grid


# Families: how each tensor transforms under time reversal (parity: all "polar", see Quantity) and what it needs.
# Anomalous Hall (sigma^e, sigma^s, kappa): a sum of Omega_n(k) = -Omega_n(-k) under T, so odd (needs magnetism);
# antisymmetric, the dual of an axial vector (WannierBerri AHC: transformTR = transform_odd).
_HALL = dict(time_reversal="odd", antisymmetric=True, operators=("H", "AA"))
# Entropy production Pi = J.E/T and its parts: dissipative, symmetric, even under T (nonzero in every crystal).
_EP = dict(time_reversal="even", needs_tau=True, fermi_surface=True, plot_units="S/(m·K)")
# Drude conductivities (charge and entropy): tau v v (-f'), symmetric and dissipative, even under T.
_DISSIPATIVE = dict(time_reversal="even", needs_tau=True, fermi_surface=True)
# Absorptive optical tensor (Hermitian): Re symmetric (even under T), Im antisymmetric (odd: the optical Hall part).
_OPTICAL = dict(time_reversal="mixed", operators=("H", "AA"), omega_axis=True, complex_valued=True)
# Berry curvature dipole v^b Omega^d: product of two T-odd fields, even under T (Sodemann & Fu 2015, T-symmetric);
# a polar index b times an axial one d, so a pseudotensor, odd under inversion (WannierBerri VelOmega: transform_odd).
_BCD = dict(time_reversal="even", parity="axial", operators=("H", "AA"), needs_tau=True, fermi_surface=True)
# Nonlinear Drude d_a d_b E v^c: one velocity, odd under T (WannierBerri NLDrude: transform_odd; needs magnetism).
_NL_DRUDE = dict(time_reversal="odd", needs_tau=True, needs_second_derivatives=True, fermi_surface=True, rank=3)
# Intrinsic nonlinear Hall v G: G is T-even, v odd, so odd under T (Gao, Yang & Niu 2014; PT antiferromagnets).
_INTRINSIC_NLH = dict(time_reversal="odd", operators=("H", "AA"), fermi_surface=True, rank=3)
# Zero-field entropy current v s: a current of a T-even density, odd under T (and zero by periodicity).
_ZERO_FIELD = dict(time_reversal="odd", vector=True)

_EP_UNITS = "W/(K*m^3)/(V/m)^2"
_CATALOGUE: list[Quantity] = [
    (ahc := charge_quantity(name="ahc", **_HALL, symbol=r"\sigma^e", figure="hall", units=C.UNITS["ahc"],
                            wiedemann_franz="sigma",
                            formula="sigma^e_ab = -(e^2/hbar) sum_n int d3k/(2pi)^3 f_n Omega_n^ab",
                            family=_berry_sea, factor=C.AHC_FACTOR_S_PER_CM, box_averaged=True)),
    entropy_twin(ahc, name="entropy_hall", symbol=r"\sigma^s", units=C.UNITS["entropy_hall"],
                 formula="sigma^s_ab = +(e k_B/hbar) sum_n int d3k/(2pi)^3 s_n Omega_n^ab (paper Eq. 28)",
                 factor=C.ENTROPY_HALL_FACTOR_A_PER_MK, kslice_title=r"$(ek_B/\hbar V)\sum_n s_n\Omega_n^{%s}$"),
    Quantity(name="thermal_hall", weight="k_BT c_2(f)", **_HALL, symbol=r"\kappa", wiedemann_franz="kappa",
             units=C.UNITS["thermal_hall"],
             formula="kappa_ab = -(k_B^2 T/hbar) sum_n int d3k/(2pi)^3 c_2(f_n) Omega_n^ab, "
                     "c_2(f) = int_0^f ln^2((1-t)/t) dt (Qin, Niu & Shi 2011); kappa = L_0 T sigma^e at low T",
             per_k=_thermal_hall_per_k),
    Quantity(name="entropy_production", weight="-df/dE (Drude) and f_n, f_m (interband pairs)",
             **_EP, operators=("H", "AA"), symbol=r"\Pi_{%s}/E^2", form_dependent=True,
             figure="dissipation", figure_part="total",
             positive_semidefinite=True, kslice_title=r"entropy production density $\Pi_{%s}/E^2$",
             units=_EP_UNITS,
             formula="Pi_ab/E^2 = Drude (Eq. 19) + interband (exact Kubo-Mori or paper Eq. 18)",
             per_k=_on_grid(_ep_total_per_k, C.ENTROPY_PRODUCTION_FACTOR, name="entropy_production")),
    Quantity(name="entropy_production_drude", weight="-df/dE",
             **_EP, symbol=r"\Pi^{D}_{%s}/E^2", positive_semidefinite=True,
             figure="dissipation", figure_part="drude",
             units=_EP_UNITS,
             formula="Pi^D_ab/E^2 = (e^2 tau/(hbar^2 T)) sum_n int v^a_n v^b_n (-df/dE) = sigma_D/T (Eq. 19)",
             per_k=_on_grid(_ep_drude_per_k, C.ENTROPY_PRODUCTION_FACTOR,
                            name="entropy_production_drude", nb_pairs=False)),
    Quantity(name="entropy_production_interband", weight="f_n, f_m (pairs)",
             **_EP, operators=("H", "AA"), symbol=r"\Pi^{inter}_{%s}/E^2",
             form_dependent=True, positive_semidefinite=True, figure="dissipation", figure_part="interband",
             units=_EP_UNITS,
             formula="Pi^inter_ab/E^2 = (k_B/tau) sum_{n!=m} int f_nm^2 K_nm g^ab_nm/(eps_nm^2+eta^2), "
                     "K = Kubo-Mori kernel (exact) or 1/(f_n(1-f_n)) (paper Eq. 18)",
             per_k=_on_grid(_ep_interband_per_k, C.ENTROPY_PRODUCTION_FACTOR,
                            name="entropy_production_interband")),
    Quantity(name="entropy_production_qm", weight="f_n, f_m (pairs)",
             **_EP, operators=("H", "AA"), symbol=r"\Pi^{QM}_{%s}/E^2",
             form_dependent=True,
             units=_EP_UNITS,
             formula="sum_nm int lambda_nm g^ab_nm, "
                     "lambda_nm = 2 tau eps_nm f_n/T + f_nm^2 K_nm/(tau(eps^2+eta^2)) "
                     "(Eq. 21 with tau restored)",
             per_k=_qm_batch(0), needs_second_derivatives=True),
    Quantity(name="entropy_production_nonqm", weight="f_n, f_m (pairs)",
             **_EP, operators=("H", "AA"), symbol=r"\Pi^{nonQM}_{%s}/E^2",
             form_dependent=True,
             units=_EP_UNITS,
             formula="(tau/T) sum_n int v^ab_n f_n (the part Eq. 21 drops)",
             per_k=_qm_batch(1), needs_second_derivatives=True),
    Quantity(name="drude_conductivity", weight="-df/dE", **_DISSIPATIVE, symbol=r"\sigma^{D}",
             units=C.CHARGE_CONDUCTIVITY_UNITS,
             formula="sigma^D_ab = (e^2 tau/hbar^2) sum_n int v^a_n v^b_n (-df/dE)",
             per_k=_on_grid(_drude_sigma_per_k, C.DRUDE_FACTOR_S_PER_CM, name="drude_conductivity",
                            nb_pairs=False)),
    Quantity(name="entropy_drude", weight="-ds/dE = ((E - mu)/k_BT) (-df/dE)", **_DISSIPATIVE, symbol=r"\sigma^{sD}",
             units=C.UNITS["entropy_hall"],
             formula="sigma^sD_ab = -(e k_B tau/hbar^2) sum_n int s_n d_a d_b E_n (Eq. 27, first term)",
             per_k=_on_grid(_entropy_drude_per_k, C.ENTROPY_HALL_FACTOR_A_PER_MK,
                            name="entropy_drude", nb_pairs=False)),
    (optical := charge_quantity(
        name="optical_conductivity", **_OPTICAL, symbol=r"\sigma^e_{%s}(\omega)", units=C.CHARGE_CONDUCTIVITY_UNITS,
        formula="sigma^e_ab(w) = (e^2/hbar) pi sum_nm int eps_mn r^a_nm r^b_mn f_nm delta(eps_mn - w) "
                "(paper Eq. 32, absorptive = Hermitian part; delta broadened)",
        family=_optical_family, factor=C.OPTICAL_FACTOR_S_PER_CM)),
    # thermal_shell=False: the optical tensors are integrated as Fermi-sea quantities (no shell forcing)
    entropy_twin(optical, name="optical_entropy_conductivity", symbol=r"\sigma^s_{%s}(\omega)",
                 units=C.UNITS["entropy_hall"], thermal_shell=False,
                 formula="sigma^s_ab(w) = -(e k_B/hbar) pi sum_nm int eps_mn r^a_nm r^b_mn (s_n - s_m) "
                         "delta(eps_mn - w) (paper Eq. 33, electrons; absorptive part)",
                 factor=C.OPTICAL_ENTROPY_FACTOR_A_PER_MK),
    (bcd := charge_quantity(
        name="nonlinear_hall_bcd", **_BCD, symbol=r"\chi", units="A/V^2", family=_bcd_family,
        factor=C.NL_HALL_FACTOR_PER_FS,
        formula="chi_bd = (e^3 tau/hbar^2) D_bd, D_bd = -sum_n int v^b_n Omega^d_n df/dE (Berry curvature "
                "dipole, WannierBerri NLAHC_FermiSurf); j_a = -eps_adc chi_bd E_b E_c for electrons (the displaced "
                "Fermi sea f0(k + e tau E/hbar) in -(e^2/hbar) E x int f Omega)")),
    entropy_twin(bcd, name="entropy_nonlinear_hall_bcd", symbol=r"\chi^s", units="A/(V*K)",
                 factor=C.ENTROPY_NL_HALL_FACTOR_PER_FS,
                 formula="chi^s_bd = -(k_B/e)(e^3 tau/hbar^2) D^s_bd, D^s_bd = -sum_n int v^b_n Omega^d_n ds/dE "
                         "(f -> s, exact at this order); j^s_a = -eps_adc chi^s_bd E_b E_c"),
    (nl_drude := charge_quantity(
        name="nonlinear_drude", **_NL_DRUDE, symbol=r"\sigma", units="A/V^2", family=_nl_drude_family,
        factor=C.NL_DRUDE_FACTOR_PER_FS2,
        formula="sigma_abc = (e^4 tau^2/hbar^3) sum_n int d_a d_b E_n v^c_n df/dE; j_a = sigma_abc E_b E_c "
                "(WannierBerri NLDrude_FermiSurf convention)")),
    Quantity(name="entropy_nonlinear_drude", weight="ds/dE and (-df/dE)/k_BT", **_NL_DRUDE, symbol=r"\sigma^s",
             units="A/(V*K)",
             formula="sigma^s_abc = -(k_B/e)(e^4 tau^2/hbar^3) sum_n int [d_a d_b E_n v^c_n ds/dE "
                     "- v^a_n v^b_n v^c_n (-df/dE)/(2 k_BT)] (exact: Tr[v S(rho)] to O(E^2), relaxation on rho); "
                     "j^s_a = sigma^s_abc E_b E_c",
             per_k=_scaled_by_tau(_on_grid(_entropy_nl_drude_exact_per_k, C.ENTROPY_NL_DRUDE_FACTOR_PER_FS2,
                                       name="entropy_nonlinear_drude", nb_pairs=False, rank=3), 2)),
    entropy_twin(nl_drude, name="entropy_nonlinear_drude_fs", symbol=r"\sigma^{s,fs}", units="A/(V*K)",
                 factor=C.ENTROPY_NL_DRUDE_FACTOR_PER_FS2,
                 formula="sigma^s_abc = -(k_B/e)(e^4 tau^2/hbar^3) sum_n int d_a d_b E_n v^c_n ds/dE (the paper's "
                         "f -> s rule, relaxation applied to s; not the entropy of the steady state); "
                         "j^s_a = sigma^s_abc E_b E_c"),
    (inlh := charge_quantity(
        name="intrinsic_nonlinear_hall", **_INTRINSIC_NLH, symbol=r"\chi^{int}", units="A/V^2",
        family=_intrinsic_nlh_family, factor=C.INTRINSIC_NL_HALL_FACTOR,
        formula="chi_abc = (e^3/hbar) sum_n int [v^a G^bc - (v^b G^ac + v^c G^ab)/2]_n df/dE, "
                "G^ab_n = 2 Re sum_m r^a_nm r^b_mn/(E_n - E_m); j_a = chi_abc E_b E_c (Hall current "
                "-(e^2/hbar) E x int f curl(e G E) of the field-induced Berry curvature, electrons)")),
    entropy_twin(inlh, name="entropy_intrinsic_nonlinear_hall", symbol=r"\chi^{s,int}", units="A/(V*K)",
                 factor=C.ENTROPY_INTRINSIC_NL_HALL_FACTOR,
                 formula="chi^s_abc = -(k_B/e) chi_abc[f -> s]; j^s_a = chi^s_abc E_b E_c"),
    Quantity(name="entropy_current_zero_field", weight="s",
             **_ZERO_FIELD, symbol=r"j^s_{%s}(0)", thermal_shell=True, rank=1,
             units="W/(K*m^2)",
             formula="j^s(0)_a = k_B sum_n int v^a_n s_n / hbar (Eq. 24); must vanish",
             per_k=_entropy_current_zero_field_per_k, box_averaged=True),
]
QUANTITIES: dict[str, Quantity] = {q.name: q for q in _CATALOGUE}


def get_quantities(names) -> list[Quantity]:
    """Look up quantities by name; raises InputError listing the known names."""
    from .errors import InputError

    out = []
    for n in names:
        if n not in QUANTITIES:
            raise InputError(f"unknown quantity {n!r}; known quantities: {', '.join(sorted(QUANTITIES))}")
        out.append(QUANTITIES[n])
    return out


def register(quantity: Quantity) -> Quantity:
    """Add a quantity to the catalogue: ``wbentropy compute`` and :func:`wbentropy.api.compute` then know its name.

    Parameters
    ----------
    quantity : Quantity
        A new record (see docs/adding_a_quantity.md); its name must not be taken.

    Returns
    -------
    Quantity
        The record, so that ``register`` can be used where it is defined.
    """
    if not isinstance(quantity, Quantity):
        raise TypeError(f"register() takes a Quantity, got {type(quantity).__name__}")
    if quantity.name in QUANTITIES:
        raise ValueError(f"a quantity named {quantity.name!r} is already in the catalogue")
    QUANTITIES[quantity.name] = quantity
    return quantity


def unregister(name: str) -> Quantity:
    """Remove a quantity added by :func:`register` (e.g. at the end of a test); returns its record."""
    return QUANTITIES.pop(name)
