"""AC (optical) charge and entropy conductivities, paper Eqs. (32)-(34)."""
import numpy as np
import pytest

from wbentropy import constants as C
from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.toy_models import flat_two_band_model, qwz_chern_model
from wbentropy.physics.occupation import entropy, fermi, kT_eV
from wbentropy.physics.optical import broadened_delta
from wbentropy.results import Result

AC = ["optical_conductivity", "optical_entropy_conductivity"]


@pytest.mark.parametrize("kind", ["lorentzian", "gaussian"])
def test_flat_band_model_analytic(kind):
    """Constant transition energy Delta and metric g_xx = a^2/4 at every k: sigma_xx(w) is known in
    closed form on any mesh, pi Delta (a^2/4) (f_- - f_+) [delta(w - Delta) + delta(w + Delta)] (e^2/hbar)/V."""
    gap, a, c, T, mu, width = 1.5, 3.0, 5.0, 2000.0, 0.3, 0.07
    model = flat_two_band_model(gap=gap, a=a, c=c)
    w = np.array([0.5, 1.4, 1.5, 1.6, 3.0])
    r = compute(model=model, quantities=AC, temperatures=[T], mus=[mu], kmesh=(7, 3, 1), omegas=w,
                smearing=kind, smearing_width=width)
    kT = kT_eV(T)
    line = broadened_delta(w - gap, width=width, kind=kind) + broadened_delta(w + gap, width=width, kind=kind)
    base = np.pi * gap * a * a / 4 * line / (a * a * c)
    df = fermi(-gap / 2, mu=mu, kT=kT) - fermi(gap / 2, mu=mu, kT=kT)
    ds = entropy(-gap / 2, mu=mu, kT=kT) - entropy(gap / 2, mu=mu, kT=kT)
    se, ss = r["optical_conductivity"][0, 0], r["optical_entropy_conductivity"][0, 0]
    np.testing.assert_allclose(se[:, 0, 0].real, C.OPTICAL_FACTOR_S_PER_CM * base * df, rtol=1e-10)
    np.testing.assert_allclose(ss[:, 0, 0].real, C.OPTICAL_ENTROPY_FACTOR_A_PER_MK * base * ds, rtol=1e-10)
    assert np.max(np.abs(se[:, 1:, :])) < 1e-12 * np.max(np.abs(se))  # only xx
    # Eq. (34) holds exactly here: sigma^s/sigma^e = -(k_B/e) (s_- - s_+)/(f_- - f_+) at every w
    ratio = ss[:, 0, 0].real / (100.0 * se[:, 0, 0].real)
    np.testing.assert_allclose(ratio, -C.KB_EV * ds / df, rtol=1e-12)


def test_hermitian_absorptive_and_positive_qwz():
    r = compute(model=qwz_chern_model(mass=-1.0, tz=0.3), quantities=AC, temperatures=[300.0],
                mus=[0.0, 1.0], kmesh=(24, 24, 4), omegas=np.linspace(0.5, 6.0, 12), smearing_width=0.1)
    s = r["optical_conductivity"]
    np.testing.assert_allclose(s, np.conj(np.swapaxes(s, -1, -2)), atol=1e-12 * np.max(np.abs(s)))
    eig = np.linalg.eigvalsh(s)  # absorption >= 0 for every polarisation (f_nm eps_mn >= 0)
    assert np.all(eig >= -1e-10 * np.max(np.abs(eig)))
    assert np.max(np.abs(s.imag)) > 1e-2 * np.max(np.abs(s.real))  # a circular-dichroism part exists
    assert r.omega is not None and len(r.omega) == 12


def test_omega_axis_roundtrip_hdf5_and_text(tmp_path):
    r = compute(model=qwz_chern_model(), quantities=AC + ["ahc"], temperatures=[300.0], mus=[0.0],
                kmesh=(8, 8, 1), omegas=[1.0, 2.0], smearing="gaussian", smearing_width=0.2)
    b = Result.load(r.save(tmp_path / "r.h5"))
    np.testing.assert_array_equal(b.omega, [1.0, 2.0])
    np.testing.assert_array_equal(b["optical_conductivity"], r["optical_conductivity"])
    assert b.quantities["optical_conductivity"].attrs["smearing"] == "gaussian"
    text = b.to_text()
    assert "omega[eV]" in text and "Imxy" in text and "## ahc" in text


def test_ac_input_errors():
    m = qwz_chern_model()
    kw = dict(model=m, quantities=["optical_conductivity"], temperatures=[300.0], mus=[0.0], kmesh=(4, 4, 1))
    with pytest.raises(InputError, match="need photon energies: give omegas"):
        compute(**kw)
    with pytest.raises(InputError, match="smearing must be one of"):
        compute(omegas=[1.0], smearing="cauchy", **kw)
    with pytest.raises(InputError, match="width must be > 0"):
        compute(omegas=[1.0], smearing_width=0.0, **kw)


@pytest.mark.parametrize("kind", ["lorentzian", "gaussian"])
def test_charge_optical_conductivity_matches_wannierberri_fe(fe_dir, kind):
    """The Hermitian part of WannierBerri's OpticalConductivity (same mesh, T, broadening) is Eq. (32)."""
    from wb_reference import FE_FERMI_EV, wb_optical_absorptive, wb_system
    from wbentropy.io.w90chk import read_chk

    model = read_chk(seed=fe_dir / "Fe")
    w, T, mu = np.linspace(0.2, 3.0, 6), 300.0, [FE_FERMI_EV]
    ours = compute(model=model, quantities=["optical_conductivity"], temperatures=[T], mus=mu, kmesh=(4, 4, 4),
                   omegas=w, smearing=kind, smearing_width=0.1)["optical_conductivity"][0]
    wb = wb_optical_absorptive(system=wb_system(seed=fe_dir / "Fe"), mesh=4, mu=mu, omegas=w,
                               kT_eV=kT_eV(T), width=0.1, kind=kind)
    assert np.max(np.abs(wb)) > 1e3
    np.testing.assert_allclose(ours, wb, rtol=0, atol=1e-10 * np.max(np.abs(wb)))


def test_cli_ac_options(tmp_path, capsys):
    from pathlib import Path

    from wbentropy.cli import main

    data = Path(__file__).resolve().parents[1] / "data"
    out = tmp_path / "ac.h5"
    base = ["compute", "--tb", str(data / "qwz_tb.dat"), "--kmesh", "12", "12", "2", "--temperature", "300",
            "--mu", "0.5", "--quantities", "optical_conductivity,optical_entropy_conductivity,nonlinear_drude",
            "--tau", "5", "--out", str(out)]
    assert main(base + ["--omega-range", "1", "3", "0.5", "--smearing", "gaussian", "0.1"]) == 0
    r = Result.load(out)
    np.testing.assert_allclose(r.omega, [1.0, 1.5, 2.0, 2.5, 3.0])
    assert r["optical_conductivity"].shape == (1, 1, 5, 3, 3) and r["nonlinear_drude"].shape == (1, 1, 3, 3, 3)
    assert r.quantities["optical_conductivity"].attrs["smearing_width_eV"] == 0.1
    assert "omega[eV]" in capsys.readouterr().out
    for extra, msg in ((["--omega-range", "1", "3", "0.5", "--smearing", "voigt", "0.1"], "smearing must be one of"),
                       (["--omega-range", "1", "3", "0.5", "--smearing", "gaussian", "wide"], "WIDTH must be a number"),
                       ([], "omega-range")):
        with pytest.raises(SystemExit) as exc:
            main(base + extra)
        assert exc.value.code == 2
        assert msg in capsys.readouterr().err


def test_maxwell_relation_holds_for_the_ac_pair():
    """d_T sigma^e(w) = -e d_mu sigma^s(w) (S/(m K) = -A/(m K) per V): the AC entropy conductivity carries
    the same f -> s correspondence and sign as the DC ones (paper: Eq. 30 holds 'in both AC and DC')."""
    model = qwz_chern_model(mass=-1.0, tz=0.3)
    T, mu, hT, hmu = 1500.0, 0.9, 1.0, 1e-4
    r = compute(model=model, quantities=AC, temperatures=[T - hT, T, T + hT], mus=[mu - hmu, mu, mu + hmu],
                kmesh=(16, 16, 4), omegas=[1.0, 2.0, 3.0], smearing_width=0.1)
    d_T = (r["optical_conductivity"][2, 1] - r["optical_conductivity"][0, 1]) / (2 * hT) * 100.0
    d_mu = (r["optical_entropy_conductivity"][1, 2] - r["optical_entropy_conductivity"][1, 0]) / (2 * hmu)
    scale = np.max(np.abs(d_T))
    assert scale > 1e-3
    np.testing.assert_allclose(d_T, -d_mu, rtol=0, atol=1e-5 * scale)
