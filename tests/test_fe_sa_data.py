"""The bundled symmetry-adapted bcc-Fe model (data/Fe_sa_hr.dat.gz + Fe_sa_r.dat.gz + Fe_sa_wsvec.dat.gz +
Fe_sa.win, made by ``examples/fe_dft/run_fe_dft.py --symmetry-adapted``): wbentropy's checked symmetrization
accepts it (M || +z), and the symmetrized model has exactly the symmetry of 4/mm'm'.

Independent routes: the 16 operations act on k directly (band energies at k and g k from the same model,
no symmetrizer involved); the band count below E_F of the raw model against the symmetrized one; the
symmetry-forbidden Hall components against the allowed one; the command line against the API.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.io.load import load_model
from wbentropy.io.win import read_win_settings, read_win_structure
from wbentropy.symmetry import _bands, band_breaking, magnetic_group, parse_magmom, symmetrize_model

DATA = Path(__file__).resolve().parents[1] / "data"
EF = 17.3811  # pw.x scf of examples/fe_dft (the same DFT run as data/Fe_*)
SA_FILES = dict(hr=DATA / "Fe_sa_hr.dat.gz", r=DATA / "Fe_sa_r.dat.gz", wsvec=DATA / "Fe_sa_wsvec.dat.gz",
                win=DATA / "Fe_sa.win")
MESH = (6, 6, 6)


@pytest.fixture(scope="module")
def fe_sa():
    return load_model(**{k: str(v) for k, v in SA_FILES.items()})


@pytest.fixture(scope="module")
def group():
    return magnetic_group(structure=read_win_structure(win_file=SA_FILES["win"]),
                          magmom=parse_magmom([0, 0, 1], n_atoms=1, atom_names=["Fe"]))


@pytest.fixture(scope="module")
def symmetrized(fe_sa):
    """(symmetrized model, record) of wbentropy's checked symmetrization (M || +z)."""
    return symmetrize_model(fe_sa, win=SA_FILES["win"], magmom=[0, 0, 1], mus=[EF])


def test_bundled_sa_model_and_its_win(fe_sa):
    assert fe_sa.num_wann == 18 and fe_sa.r is not None and fe_sa.spin_degeneracy == 1
    s = read_win_structure(win_file=SA_FILES["win"])
    assert s["projections"] == ["Fe:s;p;d"] and s["spinors"] is True and s["atom_names"] == ["Fe"]
    settings = read_win_settings(win_file=SA_FILES["win"])
    assert settings.fermi_energy == pytest.approx(EF) and settings.kmesh == (20, 20, 20)


def test_the_check_accepts_it_and_records_the_group(fe_sa, symmetrized):
    _, record = symmetrized
    assert (record["symmetry_group"], record["symmetry_group_order"]) == ("4/mm'm'", 16)
    # the raw model already has the symmetry of its Wannier functions up to the six decimals of
    # _hr.dat/_r.dat: measured 5.5e-6 eV (the maximally localised data/Fe_*: 56.8 meV)
    assert record["symmetry_breaking_before_eV"] < 1e-3
    assert record["symmetry_breaking_after_eV"] <= 1e-8


def test_symmetrized_bands_are_invariant_under_all_16_operations(symmetrized, group):
    sym, _ = symmetrized
    assert group.order == 16
    k = np.random.default_rng(11).random((40, 3))
    E = _bands(sym, k)
    for op in group.k_ops:
        np.testing.assert_allclose(_bands(sym, k @ op.T), E, rtol=0, atol=1e-8)
    assert band_breaking(sym, group, energy=EF, nk=50, seed=3) <= 1e-8


def test_symmetrization_keeps_the_bands_and_the_filling(fe_sa, symmetrized):
    """The symmetrized bands equal the raw ones to the raw model's breaking, and no band crosses E_F."""
    sym, record = symmetrized
    k = np.random.default_rng(5).random((300, 3))
    raw, new = _bands(fe_sa, k), _bands(sym, k)
    assert np.abs(new - raw).max() < 1e-3
    below_raw, below_sym = (raw <= EF).sum(axis=1), (new <= EF).sum(axis=1)
    assert 7.0 < below_raw.mean() < 9.0               # 8 valence electrons in the s-p-d manifold
    np.testing.assert_array_equal(below_sym, below_raw)


def test_symmetrized_hall_tensors_have_only_sigma_xy_api(symmetrized):
    sym, _ = symmetrized
    res = compute(model=sym, quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=[EF], kmesh=MESH)
    for name in ("ahc", "entropy_hall"):
        s = res[name][0, 0]
        assert abs(s[0, 1]) > 0
        assert max(abs(s[1, 2]), abs(s[2, 0])) <= 1e-8 * abs(s[0, 1]), name


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_cli_and_api_symmetrize_agree_and_forbid_sigma_yz_zx(fe_sa, tmp_path):
    """``wbentropy compute --symmetrize --magmom 0 0 1`` on the bundled files and ``compute(symmetrize=True)``
    on the loaded model: the same tensors, only sigma_xy and sigma^s_xy left."""
    import h5py

    out = tmp_path / "o.h5"
    p = _cli("--hr", str(SA_FILES["hr"]), "--r", str(SA_FILES["r"]), "--wsvec", str(SA_FILES["wsvec"]), "--win",
             str(SA_FILES["win"]), "--temperature", "300", "--mu", str(EF), "--kmesh", *map(str, MESH),
             "--quantities", "ahc,entropy_hall", "--symmetrize", "--magmom", "0", "0", "1", "--out", str(out),
             cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    api = compute(model=fe_sa, quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=[EF], kmesh=MESH,
                  symmetrize=True, magmom=[0, 0, 1])
    with h5py.File(out) as f:
        assert f.attrs["input_symmetry_group"] == "4/mm'm'"
        assert float(f.attrs["input_symmetry_breaking_after_eV"]) <= 1e-8
        for name in ("ahc", "entropy_hall"):
            cli = f[f"{name}/value"][()]
            np.testing.assert_allclose(api[name], cli, rtol=1e-10, atol=1e-12 * np.max(np.abs(cli)))
            s = cli[0, 0]
            assert max(abs(s[1, 2]), abs(s[2, 0])) <= 1e-8 * abs(s[0, 1]), name


def test_symmetrizing_the_sa_model_changes_sigma_xy_little(fe_sa, symmetrized):
    """Symmetrizing a model that already has the projections' character only removes the breaking:
    sigma_xy on the same mesh moves by far less than its size, the forbidden components go."""
    raw = compute(model=fe_sa, quantities=["ahc"], temperatures=[0.0], mus=[EF], kmesh=MESH)["ahc"][0, 0]
    sym = compute(model=symmetrized[0], quantities=["ahc"], temperatures=[0.0], mus=[EF], kmesh=MESH)["ahc"][0, 0]
    assert abs(sym[0, 1] - raw[0, 1]) < 0.01 * abs(raw[0, 1])
    assert max(abs(raw[1, 2]), abs(raw[2, 0])) > 1e3 * max(abs(sym[1, 2]), abs(sym[2, 0]))


#: second-order (and zero-field) responses: odd under inversion, so centrosymmetric bcc Fe forbids them
INVERSION_ODD = ["nonlinear_hall_bcd", "entropy_nonlinear_hall_bcd", "nonlinear_drude", "entropy_nonlinear_drude",
                 "entropy_nonlinear_drude_fs", "intrinsic_nonlinear_hall", "entropy_intrinsic_nonlinear_hall",
                 "entropy_current_zero_field"]


def test_second_order_responses_vanish_on_the_symmetrized_model(fe_sa):
    """Inversion forbids every second-order response of bcc Fe.  On the symmetrized model integrated over the
    full zone (``symmetry_reduction=False``) the integral itself -- before the projection; its removed part is
    ``symmetry_residual`` -- is <= 1e-8 of the unsymmetrized size of that response: the same integral of the
    bundled maximally localised Fe (56.8 meV breaking; measured ratios 1e-13 ... 3e-12), and <= 3e-8 of the
    raw symmetry-adapted model, which is itself symmetric to 5.5e-6 eV so that its own second-order responses
    are already small (measured 2.9e-9 ... 1.1e-8: round-off of the cancelling k sum).  The stored
    (projected) tensor is zero."""
    kw = dict(quantities=INVERSION_ODD, temperatures=[300.0], mus=[EF - 0.1, EF], kmesh=MESH, tau_fs=10.0)
    raw = compute(model=fe_sa, **kw)
    maximally_localised = compute(model=load_model(hr=str(DATA / "Fe_hr.dat.gz"), r=str(DATA / "Fe_r.dat.gz"),
                                                   wsvec=str(DATA / "Fe_wsvec.dat.gz"), win=str(DATA / "Fe.win")),
                                  **kw)
    sym = compute(model=fe_sa, symmetrize=True, magmom=[0, 0, 1], symmetry_reduction=False, **kw)
    for name in INVERSION_ODD:
        unprojected = sym.quantities[name].attrs["symmetry_residual"]
        assert unprojected <= 1e-8 * float(np.max(np.abs(maximally_localised[name]))), name
        assert unprojected <= 3e-8 * float(np.max(np.abs(raw[name]))), name
        assert np.max(np.abs(sym[name])) == 0.0, name


# ------------------------------------------------------------------ the symmetrization average, lean
@pytest.fixture(scope="module")
def lean(fe_sa, group):
    """wbentropy's symmetrization average (wbentropy.symmetrize_lean) of the raw model, unchecked."""
    from wbentropy.symmetry import _symmetrize

    structure = read_win_structure(win_file=SA_FILES["win"])
    return _symmetrize(fe_sa, group=group, structure=structure, projections=structure["projections"])


def test_lean_average_equals_wannierberris_symmetrize(fe_sa, lean):
    """The average wbentropy computes equals WannierBerri's own ``System_R.symmetrize`` (same projections,
    magnetic moments, R vectors) to 1e-12 of each operator's largest element (measured 2e-16)."""
    from _symmetrized import assert_same_operators
    from wbentropy.symmetry import _symmetrize_system, from_system_r

    structure = read_win_structure(win_file=SA_FILES["win"])
    theirs = from_system_r(_symmetrize_system(fe_sa, structure=structure, projections=structure["projections"],
                                              magmom=np.array([[0.0, 0.0, 1.0]])), like=fe_sa)
    assert_same_operators(lean, theirs, rtol=1e-12)
    assert lean.R.shape == fe_sa.R.shape and np.array_equal(lean.R, fe_sa.R)   # R vectors kept in order


def test_symmetrization_peak_memory_within_twice_the_model(fe_sa, group, lean):
    """tracemalloc peak of the symmetrization (group action + average; the result included) <= 2x the model's
    operator arrays (12.4 MB; measured 1.5x; WannierBerri's System_R route: 4.2x)."""
    import tracemalloc

    from wbentropy.symmetry import _symmetrize

    structure = read_win_structure(win_file=SA_FILES["win"])
    model_bytes = sum(X.nbytes for X in fe_sa.operators.values())
    tracemalloc.start()
    try:
        sym = _symmetrize(fe_sa, group=group, structure=structure, projections=structure["projections"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(X.nbytes for X in sym.operators.values()) == model_bytes   # the result itself: 1x
    assert peak <= 2.0 * model_bytes, f"peak {peak / 1e6:.1f} MB for a {model_bytes / 1e6:.1f} MB model"


def test_without_magmom_the_warning_names_the_nonmagnetic_group_and_asks_for_magmom(fe_sa, caplog):
    """No --magmom: the magnetic model (M || z, spin-orbit coupling) breaks the non-magnetic group m-3m1' of its
    structure by nature (26 meV); the warning says the crystal was taken as non-magnetic and asks for the moments,
    instead of blaming the model."""
    import logging

    from wbentropy.symmetry import measure_breaking

    with caplog.at_level(logging.WARNING, logger="wbentropy.symmetry"):
        record = measure_breaking(fe_sa, win=SA_FILES["win"], mus=[EF], temperatures=[300.0])
    assert record["symmetry_group"] == "m-3m1'" and record["symmetry_breaking_before_eV"] > 0.01
    assert "without --magmom the crystal is taken as non-magnetic" in caplog.text
    assert "point group m-3m1' (48 operations, time reversal included) of its structure" in caplog.text
    assert "give its moments with --magmom MX MY MZ" in caplog.text
    assert "breaks its magnetic point group" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wbentropy.symmetry"):
        record = measure_breaking(fe_sa, win=SA_FILES["win"], magmom=[0, 0, 1], mus=[EF], temperatures=[300.0])
    assert record["symmetry_breaking_before_eV"] < 1e-3 and not caplog.text     # with the moments: symmetric


def test_symmetrize_without_magmom_is_refused_with_the_missing_moments_as_reason(fe_sa):
    """--symmetrize without --magmom on the magnetic model: the average over the non-magnetic m-3m1' removes the
    exchange splitting (bands move by 1.7 eV, 8.06 -> 6.99 bands below E_F); the refusal names the missing
    moments first, and the projections' character only for a crystal that really is non-magnetic."""
    from wbentropy.errors import InputError

    with pytest.raises(InputError, match=r"symmetrization refused: .* of m-3m1', and the bands below mu per k-point "
                                         r"change \(8\.06 -> 6\.99\); without --magmom the crystal is taken as "
                                         r"non-magnetic.*give the moments with --magmom MX MY MZ\. For a "
                                         r"non-magnetic crystal: the Wannier functions no longer have the character"):
        symmetrize_model(fe_sa, win=SA_FILES["win"], mus=[EF])
