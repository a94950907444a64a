"""Fermi-Dirac functions: stability for |E-mu|/kT up to 1e3, T -> 0 limit, thermodynamic identities."""
import numpy as np
import pytest

from wbentropy.constants import KB_EV
from wbentropy.occupation import entropy, fermi, grand_potential, minus_dfermi


@pytest.mark.parametrize("x", [1e3, 5e2, 50.0, 1.0, 1e-8])
def test_stable_far_from_mu(x):
    kT = 0.025
    for sign in (+1, -1):
        E = np.array([sign * x * kT])
        vals = [fermi(E, mu=0.0, kT=kT), entropy(E, mu=0.0, kT=kT), minus_dfermi(E, mu=0.0, kT=kT),
                grand_potential(E, mu=0.0, kT=kT)]
        for v in vals:
            assert np.all(np.isfinite(v))
    # asymptotics: s ~ (1+x) e^{-x}, -df/dE ~ e^{-x}/kT for large x
    x = 30.0
    assert entropy(np.array([x * kT]), mu=0.0, kT=kT)[0] == pytest.approx((1 + x) * np.exp(-x), rel=1e-12)
    assert minus_dfermi(np.array([x * kT]), mu=0.0, kT=kT)[0] == pytest.approx(np.exp(-x) / kT, rel=1e-12)
    assert fermi(np.array([1e3 * kT]), mu=0.0, kT=kT)[0] == 0.0
    assert fermi(np.array([-1e3 * kT]), mu=0.0, kT=kT)[0] == 1.0


def test_entropy_matches_definition_where_direct_form_is_accurate():
    E = np.linspace(-0.2, 0.2, 101)
    kT = 0.05
    f = 1 / (np.exp(E / kT) + 1)
    s_direct = -f * np.log(f) - (1 - f) * np.log(1 - f)
    assert np.allclose(entropy(E, mu=0.0, kT=kT), s_direct, rtol=1e-12, atol=1e-15)
    assert np.allclose(fermi(E, mu=0.0, kT=kT), f, rtol=1e-13)
    assert entropy(np.array([0.0]), mu=0.0, kT=kT)[0] == pytest.approx(np.log(2), rel=1e-15)


def test_zero_temperature_is_step_limit():
    E = np.array([-0.1, -1e-9, 0.0, 1e-9, 0.1])
    assert np.array_equal(fermi(E, mu=0.0, kT=0.0), [1, 1, 1, 0, 0])  # E <= mu occupied, as WannierBerri
    assert np.array_equal(entropy(E, mu=0.0, kT=0.0), np.zeros(5))
    # small kT tends to the step
    assert np.allclose(fermi(E[[0, 4]], mu=0.0, kT=1e-6), [1, 0])
    with pytest.raises(ValueError):
        minus_dfermi(E, mu=0.0, kT=0.0)


def test_thermodynamic_identities():
    """f = -dg/dmu, s = -dg/dT / k_B, -df/dE = df/dmu, s = [(E-mu) f - g]/kT (paper below Eq. 24)."""
    E = np.linspace(-0.3, 0.3, 61)
    T, mu, h = 300.0, 0.01, 1e-6
    kT = KB_EV * T
    g = lambda mu_, T_: grand_potential(E, mu=mu_, kT=KB_EV * T_)  # noqa: E731
    f_fd = -(g(mu + h, T) - g(mu - h, T)) / (2 * h)
    s_fd = -(g(mu, T + 1e-3) - g(mu, T - 1e-3)) / (2e-3) / KB_EV
    assert np.allclose(f_fd, fermi(E, mu=mu, kT=kT), atol=1e-8)
    assert np.allclose(s_fd, entropy(E, mu=mu, kT=kT), atol=1e-7)
    dfdmu = (fermi(E, mu=mu + h, kT=kT) - fermi(E, mu=mu - h, kT=kT)) / (2 * h)
    assert np.allclose(dfdmu, minus_dfermi(E, mu=mu, kT=kT), rtol=1e-6, atol=1e-6)
    s_alt = ((E - mu) * fermi(E, mu=mu, kT=kT) - g(mu, T)) / kT
    assert np.allclose(s_alt, entropy(E, mu=mu, kT=kT), atol=1e-13)


# ------------------------------------------------------------------ box means (adaptive occupations)
@pytest.mark.parametrize("weight", [fermi, entropy, minus_dfermi])
def test_box_mean_is_the_mean_over_the_swept_energies(weight):
    """box_mean = (1/2W') int_{E-W'}^{E+W'} w, W' = max(W - kT, 0), checked by adaptive quadrature on
    both sides of the switch between the Gauss-Legendre (W'/kT < 0.1) and antiderivative forms."""
    from scipy.integrate import quad

    from wbentropy.occupation import box_mean

    kT, mu = 0.02, 0.1
    for E in (-0.4, 0.05, 0.1, 0.13, 0.5):
        for W in (0.0, 0.01, 0.025, 0.0299, 0.0301, 0.045, 0.2, 1.5):
            got = float(box_mean(weight, np.array(E), mu=mu, kT=kT, halfwidth=np.array(W)))
            Wp = max(W - kT, 0.0)
            if Wp == 0.0:
                want = float(weight(np.array(E), mu=mu, kT=kT))
            else:
                want = quad(lambda e: float(weight(np.array(e), mu=mu, kT=kT)), E - Wp, E + Wp, points=[mu],
                            limit=400, epsabs=1e-13)[0] / (2 * Wp)
            scale = float(weight(np.array(mu), mu=mu, kT=kT))  # the weight's size at mu
            assert abs(got - want) <= 1e-7 * scale, (E, W, got, want)


def test_box_mean_limits_and_stability():
    """T = 0: the occupied fraction of the swept range (the linear tetrahedron weight), s = 0;
    far from mu and for huge widths the means stay finite and exact (no exp overflow)."""
    from wbentropy.occupation import box_mean

    frac = box_mean(fermi, np.array([-0.3, 0.0, 0.1, 0.3, 0.05]), mu=0.0, kT=0.0, halfwidth=np.array([0.2, 0.2, 0.2, 0.2, 0.0]))
    np.testing.assert_allclose(frac, [1.0, 0.5, 0.25, 0.0, 0.0])
    assert np.all(box_mean(entropy, np.array([0.0, 1.0]), mu=0.0, kT=0.0, halfwidth=np.array([0.1, 0.1])) == 0)
    E = np.array([-60.0, -1.0, 60.0])
    for W in (1e-3, 0.5, 100.0):
        f = box_mean(fermi, E, mu=0.0, kT=1e-3, halfwidth=np.full(3, W))
        s = box_mean(entropy, E, mu=0.0, kT=1e-3, halfwidth=np.full(3, W))
        assert np.all(np.isfinite(f)) and np.all(np.isfinite(s)) and np.all(s >= -1e-12)
        if W < 1.0:
            np.testing.assert_allclose(f, [1.0, 1.0, 0.0], atol=1e-15)
    # a range reaching across mu: int f over [-100, 100] (with W' = 100 - kT) is half the range
    np.testing.assert_allclose(box_mean(fermi, np.array(0.0), mu=0.0, kT=1e-3, halfwidth=np.array(100.0)), 0.5)
    # int s dE over all energies is pi^2 kT / 3: the mean over a wide symmetric range is that / 2W'
    kT, W = 0.01, 3.0
    np.testing.assert_allclose(box_mean(entropy, np.array(0.0), mu=0.0, kT=kT, halfwidth=np.array(W)),
                               np.pi**2 * kT / 3 / (2 * (W - kT)), rtol=1e-12)


def test_box_halfwidth_matches_the_spread_of_a_linear_band():
    """W = sqrt(3 Var(v.dk)) for dk uniform in the box (Monte Carlo, 1e6 samples)."""
    from wbentropy.occupation import box_halfwidth

    rng = np.random.default_rng(3)
    v = rng.normal(size=(1, 2, 3))
    edges = rng.normal(size=(1, 3, 3)) * 0.1
    t = rng.uniform(-0.5, 0.5, size=(1_000_000, 3))
    dk = t @ edges[0]
    var = np.var(dk @ v[0].T, axis=0)
    np.testing.assert_allclose(box_halfwidth(velocity=v, edges=edges)[0], np.sqrt(3 * var), rtol=3e-3)


def test_box_halfwidth_geometry_keeps_derived_velocities_but_not_the_scratch_cache():
    from wbentropy.geometry import band_geometry
    from wbentropy.interpolation import Interpolator
    from wbentropy.models import random_model

    g = band_geometry(Interpolator(model=random_model(num_wann=3, seed=1))(np.random.default_rng(0).random((4, 3))))
    v = g.velocity
    g.cache["f"] = 1.0
    h = g.with_occupation_halfwidth(np.ones((4, 3)))
    assert h.velocity is v and h.cache == {} and g.occupation_halfwidth is None
    assert np.array_equal(h.occupation_halfwidth, np.ones((4, 3))) and np.array_equal(h.E, g.E)
