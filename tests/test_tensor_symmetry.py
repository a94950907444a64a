"""Neumann's principle (issue 27, item 2): how each quantity's tensor transforms under a magnetic point group.

The rules of :mod:`wbentropy.physics.tensor_symmetry` (rank, polar/axial, time reversal even/odd/mixed, as
each catalogue record declares them) are proved on full-zone integrals of models that are exactly symmetric:
P(T) = T for every quantity, and the wrong parity or time-reversal rule leaves an O(1) residual.

* A toy model made symmetric here, without inversion, so that the rank-3 and axial tensors are finite: a
  random spinless model (4 orbitals at one site, trivial orbital representation) averaged over the magnetic
  group {E, M_z, C_2x T, M_y T} (H(S R) = H(R) or H(R)*, r(S R) = R r(R) or R r(R)*).  Measured (6x4x5 mesh,
  T = 2000 K, tau = 10 fs): P(T) = T to <= 2.6e-14 of max |T| for all 20 quantities; a flipped parity or
  time-reversal rule leaves 1.0 of max |T| (0.15 and 0.33 for the optical tensors made "even": only their
  Hall part is removed).
* The symmetrized Fe_sym (tests/test_symmetry_reduction.py) for the 4/mm'm' group of bcc Fe with M || z.
"""
from __future__ import annotations

import numpy as np
import pytest

from wbentropy.physics.tensor_symmetry import project, projector, representation, symmetry_residual

C2X = np.diag([1.0, -1.0, -1.0])
MZ = np.diag([1.0, 1.0, -1.0])
MY = np.diag([1.0, -1.0, 1.0])
#: the magnetic group m'm2' (in Cartesian axes): unitary E, M_z; antiunitary C_2x T, M_y T
TOY_ROTATIONS = np.array([np.eye(3), MZ, C2X, MY])
TOY_ANTIUNITARY = np.array([False, False, True, True])


def _c4z():
    return np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def _group_4mmm_magnetic_z():
    """4/mm'm' (M || z) by its generators: C4z, inversion (unitary), C2x T (antiunitary): 16 operations."""
    ops = {(tuple(np.eye(3).ravel()), False)}
    gens = [(_c4z(), False), (-np.eye(3), False), (C2X, True)]
    while True:
        new = set(ops)
        for R, a in ops:
            for G, b in gens:
                new.add((tuple(np.rint(np.reshape(R, (3, 3)) @ G).ravel()), a != b))
        if new == ops:
            break
        ops = new
    return np.array([np.reshape(R, (3, 3)) for R, _ in sorted(ops)]), np.array([a for _, a in sorted(ops)])


# ------------------------------------------------------------------ the representation itself
@pytest.mark.parametrize("rank, parity, tr", [(1, "polar", "odd"), (2, "axial", "even"), (2, "polar", "mixed"),
                                              (3, "polar", "odd"), (3, "axial", "even")])
def test_representation_is_a_homomorphism(rank, parity, tr):
    """rho(g1 g2) = rho(g1) rho(g2) on the 16 operations of 4/mm'm' (antiunitary flags compose by xor)."""
    R, a = _group_4mmm_magnetic_z()
    assert len(R) == 16
    for i in range(16):
        for j in range(16):
            lhs = representation(R[i] @ R[j], a[i] != a[j], rank=rank, parity=parity, time_reversal=tr)
            rhs = (representation(R[i], a[i], rank=rank, parity=parity, time_reversal=tr)
                   @ representation(R[j], a[j], rank=rank, parity=parity, time_reversal=tr))
            np.testing.assert_allclose(lhs, rhs, atol=1e-14)


def test_allowed_forms_of_bcc_fe_with_m_along_z():
    """The textbook forms for 4/mm'm': Hall only sigma_xy = -sigma_yx; dissipative xx = yy, zz; the optical
    tensor both; every rank-3 and axial rank-2 response forbidden (inversion); P idempotent."""
    R, a = _group_4mmm_magnetic_z()
    T = np.random.default_rng(0).normal(size=(2, 3, 3)) + 1j * np.random.default_rng(1).normal(size=(2, 3, 3))
    hall = project(T.real, projector(R, a, rank=2, parity="polar", time_reversal="odd"), rank=2)
    expected = np.zeros_like(hall)
    expected[:, 0, 1] = (T.real[:, 0, 1] - T.real[:, 1, 0]) / 2
    expected[:, 1, 0] = -expected[:, 0, 1]
    np.testing.assert_allclose(hall, expected, atol=1e-14)
    even = project(T.real, projector(R, a, rank=2, parity="polar", time_reversal="even"), rank=2)
    np.testing.assert_allclose(even, np.einsum("k,ab->kab", (T.real[:, 0, 0] + T.real[:, 1, 1]) / 2,
                                               np.diag([1.0, 1.0, 0.0])) + np.einsum(
        "k,ab->kab", T.real[:, 2, 2], np.diag([0.0, 0.0, 1.0])), atol=1e-14)
    # Onsager: the symmetric part transforms as an even tensor, the antisymmetric part as an odd one
    sym, anti = (T + np.swapaxes(T, 1, 2)) / 2, (T - np.swapaxes(T, 1, 2)) / 2
    mixed = project(T, projector(R, a, rank=2, parity="polar", time_reversal="mixed"), rank=2)
    even_part = project(sym, projector(R, a, rank=2, parity="polar", time_reversal="even"), rank=2)
    odd_part = project(anti, projector(R, a, rank=2, parity="polar", time_reversal="odd"), rank=2)
    np.testing.assert_allclose(mixed, even_part + odd_part, atol=1e-14)
    for rank, parity, tr in [(3, "polar", "odd"), (3, "polar", "even"), (2, "axial", "even"), (1, "polar", "odd")]:
        P = projector(R, a, rank=rank, parity=parity, time_reversal=tr)
        assert np.abs(P).max() < 1e-15
    for tr in ("even", "odd", "mixed"):
        P = projector(R, a, rank=2, parity="polar", time_reversal=tr)
        np.testing.assert_allclose(P @ P, P, atol=1e-15)


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="parity"):
        representation(np.eye(3), False, rank=2, parity="vector", time_reversal="even")
    with pytest.raises(ValueError, match="mixed"):
        representation(np.eye(3), True, rank=3, parity="polar", time_reversal="mixed")
    with pytest.raises(ValueError, match="last 2 axes"):
        project(np.zeros((2, 3)), np.eye(9), rank=2)


# ------------------------------------------------------------------ a symmetric toy model without inversion
def _symmetric_toy_model():
    """random_model on an orthorhombic lattice, all orbitals at the origin, averaged over the toy group."""
    import dataclasses

    from wbentropy.toy_models import random_model

    base = random_model(num_wann=4, radius=1, seed=7, lattice=np.diag([2.9, 3.1, 3.3]))
    R = np.asarray(base.R)
    index = {tuple(v): i for i, v in enumerate(R)}
    r = np.array(base.r)
    r[index[(0, 0, 0)], np.arange(4), np.arange(4)] = 0.0  # one site: the trivial representation of every g
    H_sym, r_sym = np.zeros_like(base.H), np.zeros_like(r)
    for S, anti in zip(TOY_ROTATIONS, TOY_ANTIUNITARY):  # diagonal ops: reduced = Cartesian
        src = np.array([index[tuple(np.rint(np.linalg.inv(S) @ v).astype(int))] for v in R])
        H, x = base.H[src], r[src] @ S.T
        H_sym += np.conj(H) if anti else H
        r_sym += np.conj(x) if anti else x
    n = len(TOY_ROTATIONS)
    return dataclasses.replace(base, operators={"H": H_sym / n, "AA": r_sym / n}, name="toy m'm2'")


@pytest.fixture(scope="module")
def toy_full_zone():
    """Every quantity on the full 6x4x5 mesh of the symmetric toy model (T = 2000 K, two mu)."""
    from wbentropy.api import compute
    from wbentropy.quantities import QUANTITIES

    model = _symmetric_toy_model()
    return compute(model=model, quantities=list(QUANTITIES), temperatures=[2000.0], mus=[-0.3, 0.2],
                   kmesh=(6, 4, 5), tau_fs=10.0, omegas=[0.4, 1.1], threads=1)


FLIP_PARITY = {"polar": "axial", "axial": "polar"}
FLIP_TR = {"even": "odd", "odd": "even", "mixed": "even"}


def test_every_quantity_obeys_its_rule_and_wrong_rules_fail(toy_full_zone):
    """P(T) = T to 1e-12 of max |T| with each record's rule; flipping its parity or its time-reversal rule leaves
    an O(1) residual (>= 0.1 of max |T|) for every quantity."""
    from wbentropy.quantities import QUANTITIES

    flipped = 0
    for name, q in QUANTITIES.items():
        T = toy_full_zone[name]
        rank = 1 if q.vector else q.rank
        size = np.max(np.abs(T))

        def residual(parity, tr):
            return symmetry_residual(T, projector(TOY_ROTATIONS, TOY_ANTIUNITARY, rank=rank, parity=parity,
                                                  time_reversal=tr), rank=rank)

        assert residual(q.parity, q.time_reversal) <= 1e-12 * size, name
        assert residual(FLIP_PARITY[q.parity], q.time_reversal) >= 0.1 * size, name
        assert residual(q.parity, FLIP_TR[q.time_reversal]) >= 0.1 * size, name
        flipped += 1
    assert flipped == len(QUANTITIES)


def test_irreducible_points_of_the_toy_model_equal_the_full_mesh(toy_full_zone):
    """The orbit machinery with antiunitary operations on an uneven mesh: the weighted irreducible points
    (6x4x5 -> 48 points), then P, equal the full mesh for every quantity to 1e-12."""
    from wbentropy.api import Options
    from wbentropy.evaluate import Evaluator
    from wbentropy.integrate.orbits import irreducible_mesh
    from wbentropy.integrate.uniform import UniformMesh, integrate_uniform
    from wbentropy.quantities import QUANTITIES

    k_ops = np.array([S * (-1.0 if a else 1.0) for S, a in zip(TOY_ROTATIONS, TOY_ANTIUNITARY)])
    irr = irreducible_mesh(k_ops, (6, 4, 5))
    assert irr.weights.sum() == 120 and irr.size == 48  # k1, k3 -> +-: 4 x 4 x 3 classes
    qs = list(QUANTITIES.values())
    ev = Evaluator(model=_symmetric_toy_model(), quantities=qs, temperatures=[2000.0], mus=[-0.3, 0.2],
                   options=Options(tau_fs=10.0, omegas=(0.4, 1.1)), threads=1, batch_size=16)
    values = ev.values(integrate_uniform(evaluator=ev, mesh=UniformMesh((6, 4, 5)), irreducible=irr))
    for q, v in zip(qs, values):
        rank = 1 if q.vector else q.rank
        P = projector(TOY_ROTATIONS, TOY_ANTIUNITARY, rank=rank, parity=q.parity, time_reversal=q.time_reversal)
        full = toy_full_zone[q.name]
        scale = max(np.max(np.abs(full)), 1e-300)
        assert np.max(np.abs(project(v, P, rank=rank) - full)) <= 1e-12 * scale + 1e-20, q.name
