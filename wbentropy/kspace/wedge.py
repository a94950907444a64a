"""A smooth partition of unity over the orbits of a point group acting on k: the irreducible wedge.

The adaptive integrator reduces a symmetric integral to a fundamental domain with it
(:mod:`wbentropy.integrate.adaptive`, ``reduction=``).  Let the group act on k by ``k -> A_g k``
(reduced coordinates, |G| distinct operations, time reversal included as a sign; R_g in
Cartesian coordinates is orthogonal).  With

* ``W = {k : n_g . k <= 0 for every g}``, ``n_g = R_g k0 - k0`` for a generic k0: the Dirichlet cone
  of the group, a fundamental domain of its linear action, and WS the Wigner-Seitz cell of the
  reciprocal lattice (invariant under the group), so that W n WS is a fundamental domain of the
  point group with the lattice translations;
* ``phi(k) = prod_faces S(1 + t_f(k)/delta)``, t_f the signed distance inside a face of W or of WS
  (1/Angstrom) and S the C-infinity step ``S(x) = e(x) / (e(x) + e(1 - x))``, ``e(x) = exp(-1/x)``
  (x > 0), 0 for x <= 0, 1 for x >= 1: phi = 1 on W n WS, falls to 0 within ``delta`` outside each face,
  and is smooth with compact support;
* ``Phi(k) = sum_G phi(k + G)`` (periodic) and ``w(k) = Phi(k) / sum_g Phi(A_g k)``,

the weight w is smooth, periodic, >= 0, vanishes beyond delta of W n WS (and its images), and
``sum_g w(A_g k) = 1`` for every k.  Hence for an integrand covariant under the group,
``F(A_g k) = rho(g) F(k)`` (``rho(g)`` how the tensor transforms),

    int_BZ F = sum_g int_BZ w(A_g k) F(k) dk = sum_g rho(g)^-1 int_BZ w F = |G| P(int_BZ w F),

P the group average of the tensor (Neumann's projection).  The integral of w F needs the k-points of
the support of w only: about 1/|G| of the zone plus a layer of width delta along the wedge's faces.

:meth:`Wedge.keep_boxes` is the conservative cell filter: a box of k-space is dropped only if
every periodic image of it lies beyond delta outside one face (w = 0 everywhere in it).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["Wedge", "smooth_step", "cartesian_ops"]

#: default width of the smooth step across the wedge's faces, as a fraction of the shortest
#: reciprocal lattice vector: wide enough that cells of twice its radius (the adaptive integrator splits
#: cells holding the step down to that) resolve it (tests/test_symmetry_adaptive.py: a constant and a smooth
#: invariant function integrated within the reported error; 0.005 lost 6e-4 of a constant, 0.02 3e-3)
DEFAULT_DELTA_FRACTION = 0.05
#: a generic point for the Dirichlet cone, in units of the reciprocal basis (no symmetry element fixes it)
_K0 = np.array([0.1234, 0.0567, 0.0301])


def smooth_step(x: np.ndarray) -> np.ndarray:
    """C-infinity step: 0 for x <= 0, 1 for x >= 1, ``e(x) / (e(x) + e(1 - x))`` between, e(x) = exp(-1/x)."""
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        a = np.where(x > 0, np.exp(-1.0 / np.where(x > 0, x, 1.0)), 0.0)
        b = np.where(x < 1, np.exp(-1.0 / np.where(x < 1, 1.0 - x, 1.0)), 0.0)
    return a / (a + b)


@dataclass(frozen=True)
class Wedge:
    """The smooth wedge weight of a point group on k (see the module docstring).

    Build it with :meth:`Wedge.build`.  Attributes: ``k_ops`` (|G|, 3, 3) reduced, ``recip`` (3, 3)
    rows b_i (1/Angstrom), ``delta`` (1/Angstrom), ``normals`` (F, 3) unit outward normals of the faces
    of W and WS, ``offsets`` (F,) their distances from Gamma (0 for W), ``shifts`` (m, 3) the lattice
    vectors (Cartesian) that can bring a k of the Wigner-Seitz cell into the support, ``radius`` the
    support's circumradius (1/Angstrom), ``identity`` the index of the identity in ``k_ops``,
    ``n_ws`` the number of Wigner-Seitz faces (the last rows of ``normals``).
    """

    k_ops: np.ndarray
    recip: np.ndarray
    delta: float
    normals: np.ndarray
    offsets: np.ndarray
    shifts: np.ndarray
    radius: float
    identity: int
    n_ws: int

    @classmethod
    def build(cls, *, k_ops: np.ndarray, recip: np.ndarray, delta: float | None = None) -> "Wedge":
        """The wedge of the group ``k_ops`` (reduced, distinct, a group) on the lattice ``recip``.

        ``delta`` (1/Angstrom): width of the smooth step; default :data:`DEFAULT_DELTA_FRACTION` of the
        shortest reciprocal vector.
        """
        k_ops = np.asarray(k_ops, dtype=float)
        recip = np.asarray(recip, dtype=float)
        eye = [i for i, a in enumerate(k_ops) if np.allclose(a, np.eye(3))]
        if len(eye) != 1:
            raise ValueError("the operations must hold the identity once")
        if delta is None:
            delta = DEFAULT_DELTA_FRACTION * float(np.min(np.linalg.norm(recip, axis=1)))
        cart = cartesian_ops(k_ops, recip)
        k0 = _K0 @ recip
        n = np.einsum("gij,j->gi", cart, k0) - k0  # R_g k0 - k0
        n = np.delete(n, eye[0], axis=0)
        if np.min(np.linalg.norm(n, axis=1)) < 1e-6 * np.linalg.norm(k0):
            raise ValueError("k0 is not generic for this group")
        ws = _voronoi_vectors(recip)
        normals = np.concatenate([n / np.linalg.norm(n, axis=1)[:, None], ws / np.linalg.norm(ws, axis=1)[:, None]])
        offsets = np.concatenate([np.zeros(len(n)), 0.5 * np.linalg.norm(ws, axis=1)])
        radius = _circumradius(normals[len(n):], offsets[len(n):] + delta)
        # a k of the Wigner-Seitz cell reaches the support with these lattice vectors only (Cartesian)
        shifts = _lattice_ball(recip, 2 * radius)
        shifts = shifts[np.lexsort(shifts.T[::-1])]
        return cls(k_ops=k_ops, recip=recip, delta=float(delta), normals=normals, offsets=offsets, shifts=shifts,
                   radius=float(radius), identity=eye[0], n_ws=len(ws))

    @property
    def order(self) -> int:
        """|G|, the number of operations."""
        return len(self.k_ops)

    def phi(self, kc: np.ndarray) -> np.ndarray:
        """phi at Cartesian k (n, 3) (1/Angstrom): 1 on W n WS, 0 beyond delta outside one of its faces."""
        nc = len(self.normals) - self.n_ws
        out = np.zeros(len(kc))
        t_cone = -_rows_dot(kc, self.normals[:nc])  # signed distance inside each face of W, then of WS
        alive = np.flatnonzero(np.all(t_cone > -self.delta, axis=1))
        t = np.concatenate([t_cone[alive], self.offsets[nc:] - _rows_dot(kc[alive], self.normals[nc:])], axis=1)
        inside = np.all(t > -self.delta, axis=1)
        out[alive[inside]] = np.prod(smooth_step(1.0 + t[inside] / self.delta), axis=1)
        return out

    def periodic(self, k: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """Phi(k) = sum_G phi(k + G) at reduced k (n, 3); each point's terms summed in a fixed order."""
        k = np.asarray(k, dtype=float).reshape(-1, 3)
        out = np.zeros(len(k))
        for a in range(0, len(k), chunk):
            kc = self._to_wigner_seitz(k[a:a + chunk])
            d2 = (np.einsum("ni,ni->n", kc, kc)[:, None] + 2 * _rows_dot(kc, self.shifts)
                  + np.einsum("mi,mi->m", self.shifts, self.shifts)[None, :])
            point, shift = np.nonzero(d2 < self.radius**2)
            val = self.phi(kc[point] + self.shifts[shift])
            out[a:a + chunk] = np.bincount(point, weights=val, minlength=len(kc))
        return out

    def _to_wigner_seitz(self, k: np.ndarray) -> np.ndarray:
        """Cartesian k + G in the Wigner-Seitz cell (on a face: either side) for reduced k (n, 3)."""
        kc = _rows_dot(k - np.round(k), self.recip.T)
        faces = self.normals[-self.n_ws:] * (2 * self.offsets[-self.n_ws:, None])  # the Voronoi vectors
        for _ in range(64):
            over = _rows_dot(kc, self.normals[-self.n_ws:]) - self.offsets[-self.n_ws:]  # > 0: beyond the face
            worst = np.argmax(over, axis=1)
            out = over[np.arange(len(kc)), worst] > 1e-12 * self.offsets[-1]
            if not out.any():
                return kc
            kc[out] -= faces[worst[out]]
        raise RuntimeError("reduction to the Wigner-Seitz cell did not converge")

    def weight(self, k: np.ndarray) -> np.ndarray:
        """w(k) = Phi(k) / sum_g Phi(A_g k) at reduced k (n, 3): smooth, >= 0, sum_g w(A_g k) = 1."""
        k = np.asarray(k, dtype=float).reshape(-1, 3)
        k = k - np.round(k)  # small coordinates: the images A_g k keep their digits
        out = self.periodic(k)
        some = np.flatnonzero(out > 0)  # the denominator only where the numerator is not 0
        gk = np.einsum("gab,nb->nga", self.k_ops, k[some]).reshape(-1, 3)
        P = self.periodic(gk).reshape(len(some), self.order)
        total = P[:, 0].copy()
        for g in range(1, self.order):  # a fixed order: the same bits on every rank
            total += P[:, g]
        out[some] = P[:, self.identity] / total
        return out

    def keep_boxes(self, origin: np.ndarray, size: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Boxes (reduced lower corner (n, 3), sides (n, 3)) where w may be > 0: False only where every
        periodic image of the box lies beyond delta outside one face of W n WS (conservative)."""
        origin, size = np.asarray(origin, dtype=float).reshape(-1, 3), np.asarray(size, dtype=float).reshape(-1, 3)
        keep = np.zeros(len(origin), dtype=bool)
        corners = np.array(list(itertools.product((0.0, 1.0), repeat=3)))
        for a in range(0, len(origin), chunk):
            o, h = origin[a:a + chunk], size[a:a + chunk]
            centre = o + 0.5 * h
            cws = self._to_wigner_seitz(centre)  # the centre moved by a lattice vector into the WS cell
            c = (o[:, None, :] + corners[None] * h[:, None, :]) @ self.recip + (cws - centre @ self.recip)[:, None]
            half = 0.5 * np.linalg.norm(h @ self.recip, axis=1) * (1 + 1e-9)
            for G in _lattice_ball(self.recip, self.radius + self.offsets.max() * 2 + half.max()):
                near = np.linalg.norm(cws + G, axis=1) <= self.radius + half
                if not near.any():
                    continue
                t = self.offsets[None, None, :] - (c[near] + G) @ self.normals.T  # (n', 8, F)
                beyond = np.all(t <= -self.delta * (1 + 1e-9), axis=1).any(axis=1)
                keep[a + np.flatnonzero(near)[~beyond]] = True
        return keep

    def label(self) -> str:
        """One line naming the reduction (for checkpoints and the result's attributes)."""
        return (f"smooth wedge weight of {self.order} operations, delta {self.delta:.6g} 1/Angstrom, "
                f"k0 {' '.join(f'{x:g}' for x in _K0)}")


def cartesian_ops(k_ops: np.ndarray, recip: np.ndarray) -> np.ndarray:
    """The operations in Cartesian coordinates: R_g = B^T A_g B^-T (k_cart = B^T k_red, B = ``recip`` rows b_i)."""
    return np.einsum("ai,gab,bj->gij", recip, k_ops, np.linalg.inv(recip).T)


def _rows_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b.T without BLAS (whose blocking, hence rounding, depends on the number of rows): each point's
    value is the same whatever the batch it is computed in (MPI ranks share the points out)."""
    return np.einsum("ni,mi->nm", a, b)


def _lattice_ball(recip: np.ndarray, rmax: float) -> np.ndarray:
    """The lattice vectors (Cartesian) of length <= rmax."""
    real = np.linalg.inv(recip).T
    reach = np.ceil(rmax * np.linalg.norm(real, axis=1)).astype(int)
    grid = np.array(list(itertools.product(*(range(-r, r + 1) for r in reach))), dtype=float) @ recip
    return grid[np.linalg.norm(grid, axis=1) <= rmax]


def _voronoi_vectors(recip: np.ndarray) -> np.ndarray:
    """The reciprocal vectors (Cartesian) whose bisecting planes are faces of the Wigner-Seitz cell."""
    cand = np.array([g for g in itertools.product(range(-2, 3), repeat=3) if any(g)], dtype=float) @ recip
    out = []
    for G in cand:
        others = cand[~np.all(np.isclose(cand, G), axis=1)]
        # G/2 is on a face iff no other lattice point is at least as close to it as 0 and G are
        if np.all(np.linalg.norm(others - 0.5 * G, axis=1) > 0.5 * np.linalg.norm(G) * (1 + 1e-9)):
            out.append(G)
    return np.array(out)


def _circumradius(normals: np.ndarray, offsets: np.ndarray) -> float:
    """Largest |k| over the polytope {k : normals . k <= offsets} (bounded, holding 0)."""
    from scipy.spatial import HalfspaceIntersection

    hs = HalfspaceIntersection(np.concatenate([normals, -offsets[:, None]], axis=1), np.zeros(3))
    return float(np.max(np.linalg.norm(hs.intersections, axis=1))) * (1 + 1e-9)
