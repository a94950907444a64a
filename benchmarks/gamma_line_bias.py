"""One coarse cell on a Gamma-H line of magnetic bcc Fe: Gamma-centred and shifted uniform meshes against the
adaptive integrator (the table "Gamma-centred uniform meshes are not a reference here" of docs/symmetry.md).

    nice python benchmarks/gamma_line_bias.py [--model fe_sym|fe_sa] [--divisions 4] [--meshes 256 512]
        [--shifts 3 2] [--tolerances 1e-3 1e-4] [--seed 1]

The zone is cut into ``--divisions``^3 Gamma-centred cells (cell i: the box of side 1/n centred on i/n, reduced
coordinates); the cell holding ``--point`` (default k = (0, 1/2, 0) 2pi/a, on the Gamma-H line along k_y,
perpendicular to the magnetisation, where every Gamma-centred mesh has points) is integrated by

* the adaptive integrator on that cell alone (:func:`wbentropy.integrate.adaptive.integrate_adaptive` on an
  evaluator that maps the unit zone onto the cell), at every ``--tolerances`` (relative to the cell's value);
* the points of the Gamma-centred M^3 mesh in the cell (points on its faces with weight 1/2 per face), for every
  ``--meshes``: what a uniform mesh, WannierBerri's or postw90's, adds up there;
* M^3 meshes shifted by a random fraction of their spacing (``--shifts`` of each M, seeded), which sample the
  line only by chance.

Printed: sigma_xy of the cell (S/cm, its share of the zone's AHC), 300 K, mu of the model.  The models:
``fe_sym``, the symmetrized shared Fe_sym (M along -z, mu = 17.6 eV), with the defaults (about 25 min on 2
cores, the 512^3 rows and the 1e-4 run most of it); ``fe_sa``, the bundled Fe_sa (M along z, mu = E_F =
17.3811 eV), with ``--divisions 8 --point 0 0.375 0.375`` (a cell on the Gamma-N line in the plane k_x = 0).

``--all-cells CHECKPOINT`` compares instead every coarse cell of a full-zone adaptive run (its checkpoint,
``wbentropy compute ... --no-symmetry-reduction --checkpoint FILE``) with the Gamma-centred mesh of the first
``--meshes`` (over its irreducible points, spread over their orbits) and prints the cells that differ by more
than 0.1 S/cm: where a uniform mesh's error sits.  Nothing is asserted.
"""
from __future__ import annotations

import _threads  # noqa: F401  (before numpy: the thread pool and single-threaded BLAS)

import argparse
import json
import time

import numpy as np
from _data import REPO, material

from wbentropy.evaluate import Evaluator
from wbentropy.integrate.adaptive import AdaptiveSettings, integrate_adaptive
from wbentropy.io.load import load_model
from wbentropy.quantities import Options, get_quantities
from wbentropy.symmetry import prepare_symmetry

T = 300.0
BATCH = 262_144  # k-points per evaluation call of the uniform sums


def _model(name: str):
    """(symmetrized model, mu) of ``name``."""
    if name == "fe_sym":
        from symmetry_adaptive import symmetrized_fe_sym  # WannierBerri's symmetrization, written once

        src = material("Fe_sym_Wannier90")
        raw = load_model(tb=symmetrized_fe_sym(src.parent / "Fe_sym_symmetrized"))
        return prepare_symmetry(raw, symmetrize=True, magmom=[0, 0, -1], projections=["Fe:sp3d2;t2g"],
                                mus=[17.6]), 17.6
    d = REPO / "data"
    raw = load_model(hr=d / "Fe_sa_hr.dat.gz", r=d / "Fe_sa_r.dat.gz", wsvec=d / "Fe_sa_wsvec.dat.gz",
                     win=d / "Fe_sa.win")
    return prepare_symmetry(raw, symmetrize=True, magmom=[0, 0, 1], mus=[17.3811]), 17.3811


class CellEvaluator:
    """An evaluator whose unit zone is one cell (lower corner ``lo``, side 1/n) of the model's zone: the adaptive
    integrator's coarse cells (``coarse`` per direction, centred on i/coarse) tile the cell."""

    def __init__(self, evaluator: Evaluator, *, lo: np.ndarray, n: int, coarse: int) -> None:
        self._ev, self._lo, self._n, self._coarse = evaluator, lo, n, coarse

    def __getattr__(self, name):
        return getattr(self._ev, name)

    @property
    def reciprocal_lattice(self) -> np.ndarray:
        return self._ev.reciprocal_lattice / self._n

    def __call__(self, k, radius=None, box=None, contrast=False):
        kk = (self._lo + np.mod(k + 0.5 / self._coarse, 1.0) / self._n) % 1.0
        return self._ev(kk, radius, None if box is None else box / self._n, contrast=contrast)


def _sum(ev: Evaluator, k: np.ndarray, w: np.ndarray | None, j: int) -> float:
    """sum_k w(k) F_j(k) in batches."""
    out = 0.0
    for a in range(0, len(k), BATCH):
        F = ev(k[a:a + BATCH] % 1.0)[:, j]
        out += F.sum() if w is None else w[a:a + BATCH] @ F
    return out


def gamma_centred(ev: Evaluator, *, cell: np.ndarray, n: int, M: int, j: int) -> float:
    """The Gamma-centred M^3 mesh's points in the cell (faces weighted 1/2 per face), / M^3."""
    m = M // n
    ax = [np.arange(cell[d] * m - m // 2, cell[d] * m + m // 2 + 1) / M for d in range(3)]
    w1 = np.ones(m + 1)
    w1[0] = w1[-1] = 0.5
    k = np.array(np.meshgrid(*ax, indexing="ij")).reshape(3, -1).T
    return _sum(ev, k, np.einsum("i,j,k->ijk", w1, w1, w1).ravel(), j) / M ** 3


def shifted(ev: Evaluator, *, lo: np.ndarray, n: int, M: int, shift: np.ndarray, j: int) -> float:
    """The M^3 mesh shifted by ``shift`` (fractions of its spacing): its points in the cell, / M^3."""
    m = M // n
    ax = [lo[d] + (np.arange(m) + shift[d]) / M for d in range(3)]
    return _sum(ev, np.array(np.meshgrid(*ax, indexing="ij")).reshape(3, -1).T, None, j) / M ** 3


def all_cells(ev: Evaluator, model, *, checkpoint: str, M: int, j: int) -> None:
    """Every coarse cell of an adaptive checkpoint (``wbentropy compute ... --checkpoint``, full zone) against the
    Gamma-centred M^3 mesh, evaluated on its irreducible points and spread over their orbits (sigma_xy is
    invariant under the group of a magnetisation along z); prints the cells that differ by more than 0.1 S/cm."""
    import h5py

    from wbentropy.integrate.orbits import irreducible_mesh, mesh_operations
    from wbentropy.symmetry import symmetrized_group

    with h5py.File(checkpoint, "r") as h:
        lev, cor = h["leaf_level"][()], h["leaf_corner"][()]
        Q, E = h["leaf_Q"][()][:, j], h["leaf_err"][()][:, j]
        n = json.loads(h.attrs["signature"])["coarse_mesh"][0]
    k_ops = symmetrized_group(model).k_ops
    irr = irreducible_mesh(k_ops, (M,) * 3)
    idx = np.array(np.unravel_index(irr.indices, (M,) * 3)).T
    F = np.concatenate([ev(idx[a:a + BATCH] / M)[:, j] for a in range(0, len(idx), BATCH)])
    K = mesh_operations(k_ops, (M,) * 3)
    images = np.sort(np.ravel_multi_index(tuple(np.moveaxis(np.einsum("gab,nb->nga", K, idx) % M, -1, 0)),
                                          (M,) * 3), axis=1)
    first = np.ones(images.shape, bool)
    first[:, 1:] = images[:, 1:] != images[:, :-1]  # every mesh point of an orbit once
    pts = np.array(np.unravel_index(images[first], (M,) * 3)).T
    val = np.repeat(F, first.sum(axis=1)) / M ** 3
    m = M // n
    face = pts % m == m // 2  # on a face between two cells: half to each
    below, above = (pts - m // 2) // m % n, np.where(face, (pts + m // 2) // m, (pts - m // 2) // m) % n
    U = np.zeros(n ** 3)
    for corner in np.ndindex(2, 2, 2):
        up = np.array(corner, bool)
        w = np.prod(np.where(face, 0.5, np.where(up, 0.0, 1.0)), axis=1)
        c = np.where(up, above, np.where(face, below, np.rint(pts / m).astype(int) % n))
        U += np.bincount(np.ravel_multi_index(tuple(c.T), (n,) * 3), weights=val * w, minlength=n ** 3)
    cid = np.ravel_multi_index(tuple((cor // (2 ** lev)[:, None] % n).T), (n,) * 3)
    A, Ae = np.bincount(cid, Q, n ** 3), np.bincount(cid, E, n ** 3)
    print(f"zone: Gamma-centred {M}^3 {U.sum():.4f}, adaptive {A.sum():.4f} (leaves of {checkpoint})")
    recip = model.reciprocal_lattice * np.linalg.norm(model.lattice[0]) * 2 / np.sqrt(3) / (2 * np.pi)
    for c in np.flatnonzero(np.abs(U - A) > 0.1):
        centre = (np.array(np.unravel_index(c, (n,) * 3)) / n + 0.5) % 1.0 - 0.5
        print(f"  cell at k = {np.round(centre @ recip, 3)} 2pi/a: adaptive {A[c]:.4f} +- {Ae[c]:.4f}, "
              f"Gamma-centred {U[c]:.4f}, difference {U[c] - A[c]:+.4f}")
    print(f"  cells beyond 0.1 S/cm: {np.sum(np.abs(U - A) > 0.1)} of {n ** 3}, together "
          f"{np.sum((U - A)[np.abs(U - A) > 0.1]):+.4f} of {U.sum() - A.sum():+.4f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=["fe_sym", "fe_sa"], default="fe_sym")
    p.add_argument("--divisions", type=int, default=4)
    p.add_argument("--point", type=float, nargs=3, default=[0.0, 0.5, 0.0],
                   help="Cartesian k in units of 2pi/a: the cell holding it is integrated")
    p.add_argument("--meshes", type=int, nargs="*", default=[256, 512])
    p.add_argument("--shifts", type=int, nargs="*", default=[3, 2], help="random shifts per mesh of --meshes")
    p.add_argument("--tolerances", type=float, nargs="*", default=[1e-3, 1e-4])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--all-cells", metavar="CHECKPOINT",
                   help="instead: every coarse cell of this full-zone adaptive checkpoint against the first --meshes")
    args = p.parse_args()
    model, mu = _model(args.model)
    ev = Evaluator(model=model, quantities=get_quantities(["ahc"]), temperatures=[T], mus=[mu], options=Options())
    j = 1  # (a, b) = (x, y) of the flattened 3x3 tensor
    if args.all_cells:
        return all_cells(ev, model, checkpoint=args.all_cells, M=args.meshes[0], j=j)
    n = args.divisions
    a = np.linalg.norm(model.lattice[0]) * 2 / np.sqrt(3)  # bcc: |a_i| = sqrt(3) a / 2
    k_red = model.lattice @ (np.array(args.point) * 2 * np.pi / a) / (2 * np.pi)
    cell = np.rint(k_red * n).astype(int) % n
    lo = (cell - 0.5) / n
    print(f"{args.model}: cell {tuple(int(c) for c in cell)} of {n}^3 (holding k = {tuple(args.point)} 2pi/a = "
          f"{np.round(k_red, 4)} reduced), "
          f"{T:g} K, mu = {mu} eV; sigma_xy of the cell in S/cm")
    for tol in args.tolerances:
        t0 = time.perf_counter()
        res = integrate_adaptive(evaluator=CellEvaluator(ev, lo=lo, n=n, coarse=2),
                                 settings=AdaptiveSettings(coarse_mesh=(2, 2, 2), tolerance=tol, max_kpoints=8_000_000,
                                                           progress=False))
        print(f"adaptive, tolerance {tol:g} of the cell: {res.value[j] / n ** 3:.4f} +- {res.error[j] / n ** 3:.4f} "
              f"({res.n_evaluations} k-points, {time.perf_counter() - t0:.0f} s)", flush=True)
    for M in args.meshes:
        print(f"Gamma-centred {M}^3: {gamma_centred(ev, cell=cell, n=n, M=M, j=j):.4f}", flush=True)
    rng = np.random.default_rng(args.seed)
    for M, count in zip(args.meshes, args.shifts):
        values = [shifted(ev, lo=lo, n=n, M=M, shift=rng.random(3), j=j) for _ in range(count)]
        print(f"shifted {M}^3 ({count} random shifts): " + ", ".join(f"{v:.4f}" for v in values), flush=True)


if __name__ == "__main__":
    main()
