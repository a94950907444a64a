"""Fermi-Dirac functions: stability for |E-mu|/kT up to 1e3, T -> 0 limit, thermodynamic identities."""
import numpy as np
import pytest

from wbentropy.constants import KB_EV
from wbentropy.physics.occupation import entropy, fermi, grand_potential, minus_dfermi


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
def _box_quadrature(weight, E, mu, kT, h, shift, n=160):
    """Mean of weight(E + shift + sum_a u_a 2 h_a), u_a uniform in [-1/2, 1/2], by a tensor
    Gauss-Legendre rule (n^3 nodes; the weights are smooth on the scale kT << sum h here)."""
    x, w = np.polynomial.legendre.leggauss(n)
    u, w = 0.5 * x, 0.5 * w
    U = np.add.outer(np.add.outer(2 * h[0] * u, 2 * h[1] * u), 2 * h[2] * u)
    return float(np.sum(np.einsum("i,j,k->ijk", w, w, w) * weight(E + shift + U, mu=mu, kT=kT)))


@pytest.mark.parametrize("weight", [fermi, entropy, minus_dfermi])
def test_box_mean_is_the_mean_over_the_box_of_a_linear_band(weight):
    """box_mean = the mean of w(E + s + v.dk) over the parallelepiped (exact for a linear band), against
    an independent 160^3-node quadrature, on both sides of each direction's switch between the
    Gauss (h_a/kT < 0.1) and antiderivative forms, with one or two directions sweeping nothing, and
    the point value where the band sweeps at most k_BT either side (a resolved shell)."""
    from wbentropy.integrate.boxes import OccupationBox, box_mean

    kT, mu = 0.02, 0.1
    widths = [(0.05, 0.03, 0.011), (0.2, 0.0019, 0.0021), (0.3, 0.0, 0.0), (0.04, 0.01, 0.0), (0.6, 0.45, 0.2),
              (0.008, 0.006, 0.005)]
    for h in map(np.array, widths):
        for E in (-0.5, -0.1, 0.05, 0.1, 0.13, 0.4):
            for shift in (0.0, 0.3 * h.sum()):
                got = float(box_mean(weight, np.array(E), mu=mu, kT=kT, box=OccupationBox(h, np.array(shift))))
                if h.sum() <= kT:
                    want = float(weight(np.array(E), mu=mu, kT=kT))  # resolved: the point's own weight
                else:
                    want = _box_quadrature(weight, E, mu, kT, h, shift)
                scale = float(weight(np.array(mu), mu=mu, kT=kT))  # the weight's size at mu
                assert abs(got - want) <= 1e-9 * scale, (h, E, shift, got, want)


def test_box_mean_at_zero_temperature_is_the_occupied_fraction():
    """T = 0: <f> is the occupied fraction of the box (a 1D range: linear; Monte Carlo in 3D), the
    limit of small kT, and <s> = 0."""
    from wbentropy.integrate.boxes import OccupationBox, box_mean

    frac = box_mean(fermi, np.array([-0.3, 0.0, 0.1, 0.3, 0.05]), mu=0.0, kT=0.0,
                    box=OccupationBox(np.array([[0.2, 0, 0]] * 4 + [[0, 0, 0]]), np.zeros(5)))
    np.testing.assert_allclose(frac, [1.0, 0.5, 0.25, 0.0, 1.0 * (0.05 <= 0)])
    rng = np.random.default_rng(2)
    h, E, s = np.array([0.03, 0.08, 0.01]), 0.02, 0.004
    box = OccupationBox(h, np.array(s))
    u = rng.uniform(-0.5, 0.5, size=(4_000_000, 3))
    mc = np.mean(E + s + u @ (2 * h) <= 0)
    got = float(box_mean(fermi, np.array(E), mu=0.0, kT=0.0, box=box))
    assert abs(got - mc) < 4 * np.sqrt(mc * (1 - mc) / len(u))
    for kT in (1e-6, 1e-8):
        assert abs(float(box_mean(fermi, np.array(E), mu=0.0, kT=kT, box=box)) - got) < 10 * kT / h.sum()
    assert float(box_mean(entropy, np.array(E), mu=0.0, kT=0.0, box=box)) == 0.0


def test_box_mean_far_from_mu_and_wide_boxes_keep_their_digits():
    """Far from mu the weights are exact constants; boxes hundreds of kT wide (a coarse cell at 30 K)
    give finite means with the right integrals: int f over a symmetric range is half of it, and
    int s dE = pi^2 kT/3 (all digits: the step is split off the polylogarithms)."""
    from wbentropy.integrate.boxes import OccupationBox, box_mean

    E = np.array([-60.0, -1.0, 60.0])
    for W in (1e-3, 0.5, 100.0):
        box = OccupationBox(np.full((3, 3), W / 3), np.zeros(3))
        f = box_mean(fermi, E, mu=0.0, kT=1e-3, box=box)
        s = box_mean(entropy, E, mu=0.0, kT=1e-3, box=box)
        assert np.all(np.isfinite(f)) and np.all(np.isfinite(s)) and np.all(s >= -1e-12)
        if W < 1.0:
            np.testing.assert_allclose(f, [1.0, 1.0, 0.0], atol=1e-15)
    one_d = OccupationBox(np.array([100.0, 0.0, 0.0]), np.array(0.0))
    np.testing.assert_allclose(box_mean(fermi, np.array(0.0), mu=0.0, kT=1e-3, box=one_d), 0.5, rtol=1e-13)
    kT, W = 0.0026, 3.0
    np.testing.assert_allclose(box_mean(entropy, np.array(0.0), mu=0.0, kT=kT,
                                        box=OccupationBox(np.array([W, 0.0, 0.0]), np.array(0.0))),
                               np.pi**2 * kT / 3 / (2 * W), rtol=1e-11)
    # a box 600 kT wide in every direction, centred 200 kT below mu: against int s(E + S) p(S) dS with
    # p the (Irwin-Hall) density of the sum of three uniforms
    from scipy.integrate import quad

    kT = 0.0026
    c, E0 = 300 * kT, -200 * kT

    def density(S):
        t = (S + 3 * c) / (2 * c)
        return (t * t if t < 1 else -2 * t * t + 6 * t - 3 if t < 2 else (3 - t) ** 2) / 2 / (2 * c)

    want = quad(lambda S: float(entropy(np.array(E0 + S), mu=0.0, kT=kT)) * density(S), -3 * c, 3 * c,
                points=[-E0 - 40 * kT, -E0, -E0 + 40 * kT, -c, c], limit=500, epsabs=1e-15)[0]
    got = float(box_mean(entropy, np.array(E0), mu=0.0, kT=kT, box=OccupationBox(np.full(3, c), np.array(0.0))))
    assert abs(got - want) < 1e-12 * want, (got, want)


def test_polylogarithms_of_negative_arguments():
    """Li_n(-u), n = 2, 3, 4, on both sides of the switch between the power and Taylor series
    (against mpmath)."""
    mpmath = pytest.importorskip("mpmath")
    from wbentropy.physics.occupation import _li_neg

    u = np.array([0.0, 1e-3, 0.2, 0.5, 0.5000001, 0.7, 0.99, 1.0])
    for n in (2, 3, 4):
        want = np.array([float(mpmath.polylog(n, -x)) for x in u])
        np.testing.assert_allclose(_li_neg(n, u), want, rtol=2e-15, atol=1e-300)


def test_box_of_linear_band():
    """Half-widths |v.e_a|/2 and the shift v.(centre - point): the energies of a linear band over the
    box are E + shift + sum_a u_a v.e_a (their extremes, for random corners)."""
    from wbentropy.integrate.boxes import box_of_linear_band

    rng = np.random.default_rng(3)
    v = rng.normal(size=(1, 2, 3))
    edges = rng.normal(size=(1, 3, 3)) * 0.1
    c = rng.normal(size=(1, 3)) * 0.01
    box = box_of_linear_band(velocity=v, edges=edges, centre_offset=c)
    t = rng.choice([-0.5, 0.5], size=(64, 3))
    dk = c[0] + t @ edges[0]
    e = dk @ v[0].T  # (64, nb)
    np.testing.assert_allclose(e.max(axis=0), box.shift[0] + box.halfwidths[0].sum(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(e.min(axis=0), box.shift[0] - box.halfwidths[0].sum(axis=-1), rtol=1e-12)


def test_box_geometry_keeps_derived_velocities_but_not_the_scratch_cache():
    from wbentropy.kspace.geometry import band_geometry
    from wbentropy.kspace.interpolation import Interpolator
    from wbentropy.toy_models import random_model

    g = band_geometry(Interpolator(model=random_model(num_wann=3, seed=1))(np.random.default_rng(0).random((4, 3))))
    v = g.velocity
    g.cache["f"] = 1.0
    from wbentropy.integrate.boxes import OccupationBox

    box = OccupationBox(np.ones((4, 3, 3)), np.zeros((4, 3)))
    h = g.with_occupation_box(box)
    assert h.velocity is v and h.cache == {} and g.occupation_box is None
    assert h.occupation_box is box and np.array_equal(h.E, g.E)


def test_minus_dentropy_is_the_energy_derivative_of_s():
    """-ds/dE against a central difference of s, and finite (no overflow) far from mu."""
    from wbentropy.physics.occupation import minus_dentropy

    kT, mu, h = 0.02, 0.1, 1e-6
    E = np.linspace(-0.5, 0.7, 241)
    fd = -(entropy(E + h, mu=mu, kT=kT) - entropy(E - h, mu=mu, kT=kT)) / (2 * h)
    assert np.allclose(minus_dentropy(E, mu=mu, kT=kT), fd, rtol=1e-6, atol=1e-6)
    far = minus_dentropy(np.array([-1e3, 1e3]), mu=0.0, kT=1e-3)
    assert np.all(np.isfinite(far)) and np.all(np.abs(far) < 1e-300)
    with pytest.raises(ValueError):
        minus_dentropy(E, mu=mu, kT=0.0)
