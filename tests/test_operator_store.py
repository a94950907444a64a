"""The model's named operator store: a new operator is a reader plus a catalogue entry.

Here the "reader" puts a spin operator SS (Pauli matrices, block diagonal: all at R = 0) into the QWZ
toy model's store by hand; the catalogue entry is a quantity defined in this test that needs
("H", "SS"): the occupied spin polarisation sum_n f_n <n|sigma|n>.  It is computed through
wbentropy.api.compute and checked against a direct diagonalisation on the same mesh.
"""
import dataclasses

import numpy as np
import pytest

from wbentropy import quantities as Q
from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.kspace.interpolation import Interpolator
from wbentropy.physics.entropy_production import check_positive_semidefinite
from wbentropy.physics.occupation import fermi, kT_eV
from wbentropy.toy_models import qwz_chern_model

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])  # (3, 2, 2)
KMESH = (7, 6, 1)
TEMPERATURES = [0.0, 300.0, 3000.0]
MUS = [-4.0, -0.3, 0.0, 0.7, 4.0]


def band_spin(S: np.ndarray) -> np.ndarray:
    """<n|sigma_a|n> = Re (U^+ sigma_a U)_nn from the Hamiltonian-gauge matrices (nk, 3, nb, nb) -> (nk, nb, 3)."""
    return np.real(np.einsum("kann->kna", S))


def spin_polarisation_per_k(geom, *, temperatures, mus, volume, options):
    """sum_n f_n <n|sigma|n> per k-point (a sum over a degenerate group is gauge-invariant: one weight per group)."""
    return Q.occupation_weighted(geom.E_group, band_spin(geom.operators["SS"]), weight=fermi,
                                 temperatures=temperatures, mus=mus, block=options.block_floats)


SPIN = Q.Quantity(name="spin_polarisation_test", units="1", weight="f", vector=True, rank=1,
                  operators=("H", "SS"), parity="axial", time_reversal="odd", symbol=r"\langle\sigma\rangle",
                  formula="s_a = sum_n int f_n <n|sigma_a|n> d3k/V_BZ (spin per cell, units of hbar/2)",
                  per_k=spin_polarisation_per_k)


def spin_operator(model) -> np.ndarray:
    """SS(R): the Pauli matrices at R = 0, zero elsewhere, (nR, nw, nw, 3)."""
    SS = np.zeros(model.H.shape + (3,), complex)
    SS[model.index_of_R((0, 0, 0))] = np.moveaxis(PAULI, 0, -1)
    return SS


@pytest.fixture
def model():
    base = qwz_chern_model(mass=-1.0, tz=0.1)
    return base.with_operators(SS=spin_operator(base))


@pytest.fixture
def registered():
    Q.register(SPIN)
    try:
        yield SPIN
    finally:
        Q.unregister(SPIN.name)


def direct(model) -> np.ndarray:
    """The BZ mean of sum_n f_n <n|sigma|n> by plain Fourier sums and eigh on the Gamma-centred mesh."""
    grid = np.stack(np.meshgrid(*(np.arange(n) / n for n in KMESH), indexing="ij"), -1).reshape(-1, 3)
    phase = np.exp(2j * np.pi * grid @ model.R.T)  # (nk, nR)
    E, U = np.linalg.eigh(np.einsum("kR,Rmn->kmn", phase, model.H))
    S = np.einsum("kR,Rmna->kamn", phase, model.operators["SS"])
    s_n = np.real(np.einsum("kim,kaij,kjm->kma", U.conj(), S, U))  # (nk, nb, 3)
    out = np.empty((len(TEMPERATURES), len(MUS), 3))
    for iT, T in enumerate(TEMPERATURES):
        for im, mu in enumerate(MUS):
            out[iT, im] = np.einsum("kn,kna->a", fermi(E, mu=mu, kT=kT_eV(T)), s_n) / len(grid)
    return out


def test_the_store_holds_operators_by_name(model):
    assert list(model.operators) == ["H", "AA", "SS"]
    assert model.H is model.operators["H"] and model.r is model.operators["AA"]
    bare = qwz_chern_model(mass=-1.0, tz=0.1)
    assert model.digest() != bare.digest()  # every operator is in the content digest
    assert dataclasses.replace(model, name="x").operators.keys() == model.operators.keys()
    U = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    assert np.allclose(model.rotated(U).operators["SS"][..., 2], U.T @ model.operators["SS"][..., 2] @ U)
    with pytest.raises(InputError, match=r"SS\(R\) must have shape"):
        model.with_operators(SS=np.zeros(model.H.shape))


def test_the_interpolator_builds_only_the_operators_asked_for(model):
    assert set(Interpolator(model=model).layout) == {"dH", "A", "curlA"}  # default: H and AA
    assert set(Interpolator(model=model, operators=("H",)).layout) == {"dH"}
    assert set(Interpolator(model=model, operators=("H", "AA")).layout) == {"dH", "A", "curlA"}
    both = Interpolator(model=model, operators=("H", "SS"))
    assert set(both.layout) == {"dH", "SS"} and both.operators == ("H", "SS")
    k = np.random.default_rng(1).random((5, 3))
    wg = both(k)
    ref = np.einsum("kR,Rmna->kamn", np.exp(2j * np.pi * k @ model.R.T), model.operators["SS"])
    assert np.allclose(wg.get("SS"), ref, atol=1e-14)


def test_spin_polarisation_through_compute_equals_direct_diagonalisation(model, registered):
    res = compute(model=model, quantities=[SPIN.name], temperatures=TEMPERATURES, mus=MUS, kmesh=KMESH)
    value = res[SPIN.name]
    assert value.shape == (len(TEMPERATURES), len(MUS), 3)
    np.testing.assert_allclose(value, direct(model), rtol=0, atol=1e-13)
    assert abs(value[1, 2, 2]) > 0.1  # mu in the gap: the occupied band is spin-polarised
    assert np.allclose(value[:2, -1], 0.0, atol=1e-13)  # both bands full (T <= 300 K): tr sigma = 0


def test_a_quantity_needing_an_operator_the_model_lacks_is_refused(registered):
    with pytest.raises(InputError, match="spin_polarisation_test needs the operator SS"):
        compute(model=qwz_chern_model(), quantities=[SPIN.name], temperatures=[300.0], mus=[0.0], kmesh=KMESH)


def test_the_store_survives_the_wannierberri_converter(model):
    pytest.importorskip("wannierberri")
    from wbentropy.symmetry import from_system_r, to_system_r

    system = to_system_r(model)
    assert system.has_R_mat("Ham") and system.has_R_mat("SS")
    back = from_system_r(system, like=model)
    assert list(back.operators) == ["H", "AA", "SS"]
    order = [back.index_of_R(R) for R in model.R]
    for name in model.operators:
        assert np.allclose(back.operators[name][order], model.operators[name], atol=1e-14), name


def test_a_record_carries_its_checks():
    """Pi >= 0 is a check of the record (``for check in q.checks``), following ``positive_semidefinite``."""
    psd = {n for n, q in Q.QUANTITIES.items() if check_positive_semidefinite in q.checks}
    assert psd == {n for n, q in Q.QUANTITIES.items() if q.positive_semidefinite}
    drude = Q.QUANTITIES["drude_conductivity"]
    assert dataclasses.replace(drude, positive_semidefinite=True).checks == (check_positive_semidefinite,)
    ep = Q.QUANTITIES["entropy_production"]
    assert dataclasses.replace(ep, positive_semidefinite=False).checks == ()
