"""Plot paper/exact ratio of the interband entropy production vs k_BT/Delta.

Writes ``docs/img/entropy_production_ratio.png``.  Run from anywhere:

    python docs/make_entropy_production_plot.py

Two curves, both from :mod:`wbentropy.physics.entropy_production`:

* one k-point, two bands at -/+Delta/2, mu mid-gap (analytic: sinh(x)/x, x = Delta/2k_BT);
* a two-band square-lattice model (Qi-Wu-Zhang type plus a d0 term, bands in
  [-2.7, 2.3] eV, gap Delta = 1 eV between -0.3 and 0.7 eV), mu = 0.2 eV mid-gap,
  Brillouin-zone average on a 120 x 120 mesh.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from wbentropy.physics.entropy_production import interband_integrand  # noqa: E402

PAULI = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], complex)


def two_band_lattice(n, a=2.0, t=0.5, b=0.5, m=0.5, c=0.1):
    """E (nk, 2) eV and interband r (nk, 2, 2, 3) A of H = d0 + d.sigma on an n x n mesh (same model as the tests)."""
    k = 2 * np.pi / a * np.arange(n) / n
    kx, ky = (q.ravel() for q in np.meshgrid(k, k, indexing="ij"))
    sx, cx, sy, cy = np.sin(kx * a), np.cos(kx * a), np.sin(ky * a), np.cos(ky * a)
    z = np.zeros_like(kx)
    d = np.stack([c * (cx + cy), t * sx, t * sy, m + b * (2 - cx - cy)], -1)
    grad = np.stack([np.stack([-c * a * sx, t * a * cx, z, b * a * sx], -1),
                     np.stack([-c * a * sy, z, t * a * cy, b * a * sy], -1),
                     np.zeros((kx.size, 4))], 1)
    E, U = np.linalg.eigh(np.einsum("ki,ist->kst", d, PAULI))
    dH = np.einsum("kns,kai,ist,ktm->knma", np.conj(np.swapaxes(U, 1, 2)), grad, PAULI, U)
    off = ~np.eye(2, dtype=bool)
    r = np.zeros_like(dH)
    r[:, off] = 1j * dH[:, off] / (E[:, None, :] - E[:, :, None])[:, off][..., None]
    return E, r


def ratio(E, r, mu, kTs, eta):
    """BZ-averaged paper/exact for the xx component, one value per kT (kT as a grid axis)."""
    f = expit(-(E[..., None] - mu) / kTs)  # (nk, nb, nT)
    ex = interband_integrand(E=E, f=f, r=r, kT=kTs, eta=eta).mean(0)[0, 0]
    pa = interband_integrand(E=E, f=f, r=r, kT=kTs, eta=eta, form="paper", mu=mu).mean(0)[0, 0]
    return pa / ex


def main() -> None:
    gap, eta = 1.0, 1e-3
    t = np.union1d(np.geomspace(0.02, 2.0, 60), [0.05, 0.2])  # kT / Delta
    kTs = t * gap

    r1 = np.zeros((1, 2, 2, 3), complex)
    r1[0, 0, 1, 0] = r1[0, 1, 0, 0] = 1.0
    single = ratio(np.array([[-0.5, 0.5]]) * gap, r1, 0.0, kTs, eta)
    x = gap / (2 * kTs)

    E, r = two_band_lattice(120)
    lattice = ratio(E, r, 0.2, kTs, eta)

    fig, ax = plt.subplots(figsize=(6.0, 4.2), dpi=150)
    ax.semilogy(t, lattice, "-", color="C3", lw=2, label="two-band lattice model, BZ average")
    ax.semilogy(t, single, "o", color="C0", ms=4, label="one k-point, two bands (code)")
    ax.semilogy(t, np.sinh(x) / x, "-", color="C0", lw=1, label=r"$\sinh x/x$, $x=\Delta/2k_BT$")
    ax.semilogy(t, np.exp(x) / (2 * x), "--", color="grey", lw=1, label=r"$e^{\Delta/2k_BT}/(\Delta/k_BT)$")
    for tt in (0.05, 0.2):
        ax.axvline(tt, color="k", lw=0.5, ls=":")
    ax.axhline(1.0, color="k", lw=0.5)
    ax.set_xscale("log")
    ax.set_ylim(0.5, 1e20)
    ax.set_xlabel(r"$k_BT/\Delta$")
    ax.set_ylabel(r"$\Pi_{\rm inter}^{\rm paper\ Eq.(18)} / \Pi_{\rm inter}^{\rm exact}$")
    ax.set_title("Interband entropy production: published Eq. (18) vs exact Eq. (9)", fontsize=9)
    ax.legend(fontsize=7.5, loc="upper right")
    fig.tight_layout()
    out = ROOT / "docs" / "img" / "entropy_production_ratio.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    print(f"wrote {out}")
    for tt in (0.05, 0.2):
        i = int(np.flatnonzero(t == tt)[0])
        print(f"kT/Delta = {tt}: single k {single[i]:.6g}, lattice {lattice[i]:.4g}")


if __name__ == "__main__":
    main()
