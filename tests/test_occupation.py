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
