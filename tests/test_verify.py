"""`wbentropy verify`: every relation on an analytic model where it must hold, and the CLI contract."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wbentropy import constants as C
from wbentropy import verify as V
from wbentropy.api import compute
from wbentropy.toy_models import flat_two_band_model, qwz_chern_model, random_model
from wbentropy.physics.relations import SOMMERFELD_COEFFICIENTS, SOMMERFELD_COEFFICIENTS_T0, nernst_kernel

DATA = Path(__file__).resolve().parents[1] / "data"
QWZ3D = qwz_chern_model(mass=-1.0, tz=0.3, a=3.0, c=5.0)
QWZ2D = qwz_chern_model(mass=-1.0, tz=0.0, a=3.0, c=5.0)


def test_sommerfeld_coefficients_from_the_entropy_and_fermi_moments():
    """c_n for sigma^e(T): (1 - pi t cot pi t)/t^2; for sigma^e_0: int x^2n s(x) dx/(2n)!  (quadrature)."""
    x = np.linspace(-60, 60, 240001)
    ax = np.abs(x)
    s = np.log1p(np.exp(-ax)) + ax / (1 + np.exp(ax))
    t0 = [np.trapezoid(x ** (2 * n) * s, x) / np.prod(np.arange(1, 2 * n + 1)) for n in range(3)]
    np.testing.assert_allclose(t0, SOMMERFELD_COEFFICIENTS_T0, rtol=1e-8)
    t = 1e-2
    np.testing.assert_allclose((1 - np.pi * t / np.tan(np.pi * t)) / t**2,
                               sum(c * t ** (2 * n) for n, c in enumerate(SOMMERFELD_COEFFICIENTS)), rtol=1e-11)


def test_nernst_kernel_integrates_a_single_step_to_the_entropy():
    """A single state at eps with sigma_0(E) = X theta(E - eps), X = -(e^2/hbar) Omega: Eq. (28) gives
    sigma^s = +(e k_B/hbar) s Omega = -(k_B/e) s X, so alpha per unit X is -k_B s/e [V/K]."""
    kT, mu, eps = 0.03, 0.1, 0.13
    E = np.linspace(mu - 40 * kT, mu + 40 * kT, 400001)
    alpha = np.trapezoid(nernst_kernel(E=E, mu=mu, kT=kT) * (E >= eps), E)
    x = (eps - mu) / kT
    s = np.log1p(np.exp(-x)) + x / (1 + np.exp(x))
    assert alpha == pytest.approx(-C.KB_EV * s, rel=1e-4)


def test_ahc_curve_equals_compute():
    m = random_model(num_wann=4, seed=3)
    E = np.linspace(-1.0, 1.0, 41)
    ref = compute(model=m, quantities=["ahc"], temperatures=[0.0], mus=E, kmesh=(5, 5, 5))["ahc"][0]
    np.testing.assert_allclose(V.ahc_curve(model=m, kmesh=(5, 5, 5), energies=E, batch=17), ref, rtol=0,
                               atol=1e-12 * np.max(np.abs(ref)))


def test_onsager_passes_on_qwz():
    c = V.check_onsager(model=QWZ3D, temperature=300.0, mu=-1.3, kmesh=(40, 40, 6))
    assert c.status == "PASS" and abs(c.lhs) > 1e-2 and c.deviation < 1e-3


def test_mott_two_terms_better_than_one_on_qwz():
    one, two = V.check_mott(model=QWZ2D, temperature=300.0, mu=-1.3, kmesh=(200, 200, 1))
    assert one.status == two.status == "PASS"
    assert abs(one.lhs) > 0.1
    assert two.deviation < one.deviation / 5  # the pi^4/45 term of Eq. (31) is right for sigma^e(T)
    assert one.deviation < 0.05 and two.deviation < 5e-3


def test_maxwell_right_form_passes_and_paper_form_is_off_by_T():
    ours, paper = V.check_maxwell(model=QWZ3D, temperature=400.0, mu=-1.3, kmesh=(32, 32, 8))
    assert ours.status == "PASS" and ours.deviation < 1e-5 and abs(ours.lhs) > 1.0
    assert paper.status == "INFO"
    assert paper.rhs == pytest.approx(ours.rhs / 400.0, rel=1e-12)
    assert paper.deviation == pytest.approx(1 - 1 / 400.0, rel=1e-3)


def test_eq34_exact_for_constant_band_centre_and_reported_otherwise():
    w = np.linspace(1.5, 2.5, 11)
    exact = V.check_two_band_ratio(model=flat_two_band_model(gap=2.0), temperature=3000.0, mu=0.1,
                                   kmesh=(6, 6, 1), omegas=w)
    assert exact.status == "PASS" and exact.deviation < 1e-12 and abs(exact.lhs) > 1e-6
    assert "resonant pairs 0.000e+00 eV" in exact.note
    disp = 0.2
    off = V.check_two_band_ratio(model=flat_two_band_model(gap=2.0, dispersion=disp), temperature=3000.0, mu=0.1,
                                 kmesh=(6, 6, 1), omegas=w)
    assert off.status == "INFO" and np.isnan(off.deviation) and "not applicable: eps_+ + eps_- spreads by" in off.note
    mean, spread = V.resonant_spread(model=flat_two_band_model(gap=2.0, dispersion=disp), temperature=3000.0,
                                     mu=0.1, kmesh=(6, 6, 1), omegas=[2.0], smearing="lorentzian",
                                     smearing_width=0.05)
    # eps_+ + eps_- = 2 disp cos(k_y): std 2 disp/sqrt(2) (weights ~ uniform: f_- - f_+ ~ 0.95 +- 1%)
    assert spread[0] == pytest.approx(np.sqrt(2) * disp, rel=2e-2)


def test_zero_field_current_positive_production_and_drude_sum_rule_on_qwz():
    kw = dict(model=QWZ2D, temperature=3000.0, mu=-1.3, kmesh=(64, 64, 1))
    js = V.check_zero_field_current(**kw)
    assert js.status == "PASS" and js.deviation < 1e-12
    pi = V.check_entropy_production_positive(**kw, tau_fs=10.0, n_samples=16)
    assert pi.status == "PASS" and pi.rhs > 0
    bz = V.check_drude_sum_rule(**kw, tau_fs=10.0)
    assert bz.status == "PASS" and bz.deviation < 1e-10 and bz.lhs > 1.0


def test_drude_sum_rule_says_unresolved_on_an_unresolved_mesh():
    """Issue 25: an unresolved thermal shell is INFO "unresolved: needs ..." (it was a FAIL)."""
    bz = V.check_drude_sum_rule(model=QWZ2D, temperature=30.0, mu=-1.3, kmesh=(8, 8, 1), tau_fs=10.0)
    assert bz.status == "INFO" and "unresolved: needs --kmesh" in bz.note


def test_band_hessian_identity_with_position_matrices():
    c = V.check_band_hessian_identity(model=random_model(num_wann=4, seed=3), n_samples=8)
    assert c.status == "PASS" and c.deviation < 1e-5 and "band states" in c.note


def test_verify_cli_table_and_exit_status(tmp_path):
    head = [sys.executable, "-m", "wbentropy.cli", "verify", "--tb", str(DATA / "qwz_tb.dat"), "--samples", "8"]
    ok = subprocess.run(head + ["--temperature", "3000", "--mu", "-1.3", "--omega-range", "1", "4", "0.5",
                                "--kmesh", "24", "24", "8"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for name in ("onsager", "mott-1", "mott-2", "maxwell", "maxwell-paper", "eq34", "js0", "pi>=0", "eq20-k",
                 "eq20-bz"):
        assert f"\n{name} " in ok.stdout
    assert "0 FAIL" in ok.stdout
    bad = subprocess.run(head + ["--temperature", "30", "--mu", "-1.3", "--kmesh", "6", "6", "1"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 0 and "unresolved: needs" in bad.stdout, bad.stdout  # issue 25: was exit 1
    err = subprocess.run(head + ["--temperature", "0", "--mu", "0", "--kmesh", "4", "4", "1"],
                         capture_output=True, text=True, timeout=60)
    assert err.returncode == 2 and "temperature > 0 K" in err.stderr and "Traceback" not in err.stderr


@pytest.mark.parametrize("extra,msg", [(["--tau", "-1"], "relaxation time must be > 0"),
                                       (["--smearing", "lorentz", "0.1"], "smearing must be one of"),
                                       (["--omega-range", "2", "1", "0.5"], "--omega-range needs START <= STOP"),
                                       (["--temperature", "0"], "temperature > 0 K")])
def test_verify_input_errors_exit_2(extra, msg, capsys):
    from wbentropy.cli import main

    args = ["verify", "--tb", str(DATA / "qwz_tb.dat"), "--kmesh", "4", "4", "1", "--temperature", "300", "--mu", "0"]
    with pytest.raises(SystemExit) as exc:
        main(args + extra)
    assert exc.value.code == 2 and msg in capsys.readouterr().err


def test_thermal_shell_resolution_from_the_analytic_qwz_velocities():
    """(2 pi/a/N) <|v_x|>_FS/k_BT with v from the analytic H(k) = d(k).sigma of the 2D QWZ model (t = 1 eV),
    <.>_FS over the states whose mesh cell reaches the thermal shell (issue 25: was a -df/dE weight, which
    a mesh that steps over the Fermi surface does not see)."""
    from wbentropy.physics.occupation import kT_eV

    N, T, mu, a = 40, 2000.0, -1.3, 3.0
    k = 2 * np.pi * np.arange(N) / N
    kx, ky = np.meshgrid(k, k, indexing="ij")
    d = np.stack([np.sin(kx), np.sin(ky), -1.0 + np.cos(kx) + np.cos(ky)])
    dd_x = np.stack([np.cos(kx), 0 * kx, -np.sin(kx)])
    norm = np.linalg.norm(d, axis=0)
    vx = a * np.sum(d * dd_x, axis=0) / norm  # d|d|/dk_x, eV A; same for both bands up to sign
    kT = kT_eV(T)
    vy = a * np.sum(d * np.stack([0 * ky, np.cos(ky), -np.sin(ky)]), axis=0) / norm
    dk = 2 * np.pi / a / N
    reach = 0.5 * dk * (np.abs(vx) + np.abs(vy)) + 3 * kT
    w = (np.abs(norm - mu) <= reach).astype(float) + (np.abs(-norm - mu) <= reach)
    expected = dk * np.sum(w * np.abs(vx)) / np.sum(w) / kT
    got = V.thermal_shell_resolution(model=QWZ2D, temperature=T, mu=mu, kmesh=(N, N, 1))
    assert got == pytest.approx(expected, rel=1e-10)
