"""Band-resolved quantum geometry at a batch of k-points (Hamiltonian gauge).

From the Wannier-gauge matrices of :mod:`wbentropy.kspace.interpolation` and the
eigen-decomposition H(k) U = U diag(E) this builds (Wang et al., PRB 74, 195118 (2006);
WannierBerri ``formula/covariant.py``):

    Hbar_a = U^+ d_a H U,   Abar_a = U^+ A_a U,   Obar = U^+ curl A U,
    D_a,nm = Hbar_a,nm / (E_m - E_n)                     (n, m not degenerate, else 0)
    r^a_nm = Abar_a,nm + i D_a,nm                        (n != m, interband Berry connection)
    v^a_n  = Re Hbar_a,nn                                (band velocity, eV*Angstrom)
    Omega_n^c = Re Obar_c,nn - 2 Re sum_m (D_a,nm Abar_b,mn - D_b,nm Abar_a,mn)
                + 2 Im sum_m D_a,nm D_b,mn                (c = yz, zx, xy; (a, b) cyclic)
    Omega^c_nm = i (r^a_nm r^b_mn - r^b_nm r^a_mn) = -2 Im r^a_nm r^b_mn   (paper, below Eq. 18)
    g^ab_nm = Re r^a_nm r^b_mn                           (paper, below Eq. 18)
    v^ab_n  = Re (U^+ d_a d_b H U)_nn                    (paper, below Eq. 20)

Degenerate bands are treated as one group (consecutive bands whose spacing is below
``degen_thresh``, as in WannierBerri): D and r vanish inside a group, and occupations
are evaluated at the group's mean energy (:attr:`BandGeometry.E_group`), so every
weighted sum sum_n F(E_group_n) Omega_n is gauge-invariant.  Without the common
weight, a symmetry-protected degeneracy split by Wannierisation noise (1e-8 eV in GaAs
at Gamma) gives F(E_n) - F(E_m) ~ 1e-8 times Berry curvatures ~ 1e16 A^2: garbage.

The formulas are those of :mod:`wbentropy.physics.geometry`; this module diagonalises, rotates to
the Hamiltonian gauge and caches, and knows nothing about occupations, grids or units beyond eV and
Angstrom.  Operators of the model's store beyond H and AA (e.g. spin "SS") come as their full
Hamiltonian-gauge matrices U^+ X U (:attr:`BandGeometry.operators`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..integrate.boxes import OccupationBox
from ..physics.geometry import (band_hessian, berry_curvature_bands, berry_curvature_pairs, connection_polarizability,
                                quantum_metric, velocity_products)
from .interpolation import WannierGauge

__all__ = ["BandGeometry", "band_geometry", "DEFAULT_DEGEN_THRESH"]

#: Spacing (eV) below which consecutive bands form one degenerate group (WannierBerri's
#: calculators use 1e-4 for band groups).
DEFAULT_DEGEN_THRESH = 1e-4


@dataclass(frozen=True, eq=False)
class BandGeometry:
    """Band energies and quantum geometry for a batch of k-points.

    Matrices are stored component-first: ``Hbar[k, a, n, m]``.  Public accessors
    return band-resolved arrays with Cartesian components last.

    Attributes
    ----------
    E : (nk, nb) float, eV
    U : (nk, nw, nb) complex, eigenvectors (columns)
    Hbar : (nk, 3, nb, nb) complex, U^+ d_a H U in eV*Angstrom
    Abar : (nk, 3, nb, nb) complex or None, Angstrom
    Obar_nn : (nk, 3, nb) float or None, Re (U^+ curl A U)_nn in Angstrom^2 (only the
        diagonal enters any formula)
    H2bar_nn : (nk, 3, 3, nb) float or None, Re (U^+ d_a d_b H U)_nn in eV*Angstrom^2
    degenerate : (nk, nb, nb) bool, True where n and m are in one degenerate group (diagonal included)
    E_group : (nk, nb) float, eV, mean energy of each band's degenerate group
    occupation_box : OccupationBox or None: the energies each band sweeps, linear, over the
        k-space box the point stands for (adaptive integration, ``--box-occupations``); Fermi-sea
        and entropy weights are then averaged over it (:func:`~wbentropy.integrate.boxes.box_mean`)
    operators : dict name -> (nk, ncomp, nb, nb) complex
        The other operators of the model's store that were interpolated (e.g. "SS"), as U^+ X U.
    """

    E: np.ndarray
    U: np.ndarray
    Hbar: np.ndarray
    Abar: np.ndarray | None
    Obar_nn: np.ndarray | None
    H2bar_nn: np.ndarray | None
    degenerate: np.ndarray
    E_group: np.ndarray
    occupation_box: OccupationBox | None = None
    operators: dict = dataclasses.field(default_factory=dict)

    def with_occupation_box(self, box: OccupationBox) -> "BandGeometry":
        """The same geometry with ``occupation_box`` set; band-resolved arrays already derived
        (e.g. the velocities the box came from) are kept, not derived again; the integrands'
        scratch ``cache`` is not (its entries may depend on the occupations)."""
        new = dataclasses.replace(self, occupation_box=box)
        fields = {f.name for f in dataclasses.fields(self)} | {"cache"}
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k not in fields})
        return new

    @cached_property
    def cache(self) -> dict:
        """Scratch space for integrands shared by several quantities at this batch (see quantities)."""
        return {}

    @cached_property
    def inverse_energy_difference(self) -> np.ndarray:
        """1/(E_m - E_n) as (nk, nb, nb), zero for degenerate pairs."""
        dE = self.E[:, None, :] - self.E[:, :, None]
        with np.errstate(divide="ignore"):
            inv = np.where(self.degenerate, 0.0, 1.0 / np.where(self.degenerate, 1.0, dE))
        return inv

    @cached_property
    def D(self) -> np.ndarray:
        """D_a,nm = Hbar_a,nm/(E_m - E_n), (nk, 3, nb, nb), 1/Angstrom... times Angstrom: Angstrom."""
        return self.Hbar * self.inverse_energy_difference[:, None]

    @cached_property
    def r_cov(self) -> np.ndarray:
        """Interband Berry connection r^a_nm = Abar + i D (zero within degenerate groups), (nk, 3, nb, nb), Angstrom."""
        r = 1j * self.D
        if self.Abar is not None:
            r = r + np.where(self.degenerate[:, None], 0.0, self.Abar)
        return r

    # ---------------------------------------------------------------- band-resolved
    @cached_property
    def velocity(self) -> np.ndarray:
        """v^a_n = dE_n/dk_a, (nk, nb, 3), eV*Angstrom."""
        return np.moveaxis(np.real(np.einsum("kann->kan", self.Hbar)), 1, 2)

    @cached_property
    def berry_curvature(self) -> np.ndarray:
        """Omega_n as pseudovector (yz, zx, xy), (nk, nb, 3), Angstrom^2 (Wang et al. Eq. 27-32)."""
        return berry_curvature_bands(D=self.D, Abar=self.Abar, Obar_nn=self.Obar_nn)

    @property
    def r(self) -> np.ndarray:
        """Interband Berry connection with Cartesian index last, (nk, nb, nb, 3), Angstrom."""
        return np.moveaxis(self.r_cov, 1, -1)

    @cached_property
    def berry_curvature_pairs(self) -> np.ndarray:
        """Omega^c_nm = -2 Im r^a_nm r^b_mn, (nk, nb, nb, 3), Angstrom^2 (paper, below Eq. 18)."""
        return berry_curvature_pairs(self.r)

    @cached_property
    def quantum_metric_pairs(self) -> np.ndarray:
        """g^ab_nm = Re r^a_nm r^b_mn, (nk, nb, nb, 3, 3), Angstrom^2 (paper, below Eq. 18)."""
        return quantum_metric(self.r)

    @cached_property
    def connection_polarizability(self) -> np.ndarray:
        """G^ab_n = 2 Re sum_{m not in G(n)} r^a_nm r^b_mn/(E_n - E_m), (nk, nb, 3, 3), Angstrom^2/eV.

        Berry connection polarizability (Gao, Yang & Niu, PRL 112, 166601 (2014)): the
        field-induced Berry connection of band n is A'_n = e G_n E for electrons (H' = e E.r).
        """
        return connection_polarizability(r_cov=self.r_cov, inv_dE=self.inverse_energy_difference)

    @cached_property
    def velocity_products(self) -> np.ndarray:
        """v^a_n v^b_n made gauge-invariant: sum_{m in G(n)} Re Hbar_a,nm Hbar_b,mn, (nk, nb, 3, 3), (eV*A)^2.

        For a non-degenerate band this is v^a_n v^b_n; summed over a degenerate group G
        it is the basis-independent trace Tr_G(Hbar_a P_G Hbar_b P_G).
        """
        return velocity_products(Hbar=self.Hbar, degenerate=self.degenerate)

    @cached_property
    def band_hessian(self) -> np.ndarray:
        """d_a d_b E_n = Re <n|d_a d_b H|n> + 2 sum_{m not in G(n)} Re(Hbar_a,nm Hbar_b,mn)/(E_n - E_m).

        Second-order perturbation theory of the Wannier-interpolated bands; group sums are
        gauge-invariant.  (nk, nb, 3, 3), eV*Angstrom^2.
        """
        return band_hessian(inverse_mass=self.inverse_mass, Hbar=self.Hbar, inv_dE=self.inverse_energy_difference)

    @cached_property
    def inverse_mass(self) -> np.ndarray:
        """v^ab_n = Re <n|d_a d_b H|n>, (nk, nb, 3, 3), eV*Angstrom^2 (paper, below Eq. 20)."""
        if self.H2bar_nn is None:
            raise ValueError("second derivatives of H were not interpolated")
        return np.moveaxis(self.H2bar_nn, -1, 1)


def band_geometry(wg: WannierGauge, *, degen_thresh: float = DEFAULT_DEGEN_THRESH) -> BandGeometry:
    """Diagonalise H(k) and rotate all Wannier-gauge matrices to the Hamiltonian gauge.

    Parameters
    ----------
    wg : WannierGauge
        Output of :class:`~wbentropy.kspace.interpolation.Interpolator`.
    degen_thresh : float
        Bands closer than this (eV) are one degenerate group.

    Returns
    -------
    BandGeometry
    """
    E, U = np.linalg.eigh(wg.H)
    nk, nw, nb = U.shape
    Uh = np.conj(np.swapaxes(U, -1, -2))
    # U^+ X U for all "full" components at once: X is row-interleaved (k, i, c, j), so both
    # products are single batched GEMMs, (nb, nw) @ (nw, nc*nw) then (nb*nc, nw) @ (nw, nb).
    nf = wg.full.shape[2]
    Z = ((Uh @ wg.full.reshape(nk, nw, nf * nw)).reshape(nk, nb * nf, nw) @ U).reshape(nk, nb, nf, nb)
    Z = np.moveaxis(Z, 2, 1)  # (nk, nf, nb, nb) view
    full = {name: Z[:, sl] for name, (group, sl) in wg.layout.items() if group == "full"}
    diag = {}
    nd = wg.diag.shape[2]
    if nd:
        # only (U^+ X U)_nn = sum_i U_in^* (X U)_in is ever needed: one GEMM and a row sum
        W = (wg.diag.reshape(nk, nw * nd, nw) @ U).reshape(nk, nw, nd, nb)
        dd = np.einsum("kicn,kin->kcn", W, np.conj(U)).real
        diag = {name: dd[:, sl] for name, (group, sl) in wg.layout.items() if group == "diag"}
    H2 = diag.get("d2H")
    degenerate, E_group = degenerate_groups(E, degen_thresh=degen_thresh)
    return BandGeometry(E=E, U=U, Hbar=full["dH"], Abar=full.get("A"), Obar_nn=diag.get("curlA"),
                        H2bar_nn=None if H2 is None else H2.reshape(nk, 3, 3, nb),
                        degenerate=degenerate, E_group=E_group, operators={name: full[name] for name in wg.operators})


def degenerate_groups(E: np.ndarray, *, degen_thresh: float) -> tuple[np.ndarray, np.ndarray]:
    """Group consecutive (sorted) bands whose spacing is below ``degen_thresh``.

    Returns
    -------
    same : (nk, nb, nb) bool, True if n and m belong to the same group
    E_group : (nk, nb) float, the group's mean energy for every band
    """
    labels = np.concatenate([np.zeros((E.shape[0], 1), dtype=int),
                             np.cumsum(np.diff(E, axis=1) >= degen_thresh, axis=1)], axis=1)
    same = labels[:, :, None] == labels[:, None, :]
    E_group = (same @ E[:, :, None])[..., 0] / same.sum(axis=2)
    return same, E_group
