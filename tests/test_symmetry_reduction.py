"""Symmetry-allowed tensors and irreducible k-points on a symmetrized model (issue 27, items 2 and 3).

The model: the shared Fe_sym (WannierBerri's test data, 18 Wannier functions) made symmetric by WannierBerri's
symmetrizer under 4/mm'm' (M along -z, 16 operations), written as Fe_sym_tb.dat beside Fe_sym.win, and run
through ``symmetrize=True`` / ``--symmetrize`` (the check accepts it: it already is symmetric).  All 20
quantities of the catalogue, 6^3 mesh, T = 300 K, mu = 17.4 and 17.6 eV, tau = 10 fs, hbar omega = 0.5, 1 eV.

Measured (this file's runs): the unprojected full-zone tensors obey their records' rules to <= 1.3e-13 of max
|T| (the rank-3 and axial ones, which inversion forbids, are <= 3e-11 of the raw model's); the irreducible
points (6^3: 30 of 216) equal the full mesh to <= 4e-13; 24^3: 1063 of 13824 points (13.0x fewer).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.io.load import load_model
from wbentropy.physics.tensor_symmetry import symmetry_residual
from wbentropy.quantities import QUANTITIES

FE_SYM_PROJ = ["Fe:sp3d2;t2g"]
MUS = [17.4, 17.6]
RUN = dict(quantities=list(QUANTITIES), temperatures=[300.0], mus=MUS, kmesh=(6, 6, 6), tau_fs=10.0,
           omegas=[0.5, 1.0], threads=1)
SYM = dict(symmetrize=True, magmom=[0, 0, -1], projections=FE_SYM_PROJ)


@pytest.fixture(scope="module")
def raw(fe_sym_dir):  # fe_sym_dir: tests/conftest.py (skips without the shared data)
    return load_model(w90=str(fe_sym_dir / "Fe_sym"))


@pytest.fixture(scope="module")
def tb_dir(raw, fe_sym_dir, tmp_path_factory):
    """Fe_sym_tb.dat of WannierBerri's symmetrization of Fe_sym (M along -z) beside Fe_sym.win."""
    from wbentropy.io.tb import write_tb
    from wbentropy.io.win import read_win_structure
    from wbentropy.symmetry import _symmetrize_system, from_system_r

    structure = read_win_structure(win_file=fe_sym_dir / "Fe_sym.win")
    system = _symmetrize_system(raw, structure=structure, projections=FE_SYM_PROJ, magmom=np.array([[0.0, 0.0, -1.0]]))
    out = tmp_path_factory.mktemp("Fe_sym_tb")
    write_tb(model=from_system_r(system, like=raw), path=out / "Fe_sym_tb.dat")
    (out / "Fe_sym.win").write_text((fe_sym_dir / "Fe_sym.win").read_text())
    return out


@pytest.fixture(scope="module")
def model(tb_dir):
    return load_model(tb=tb_dir / "Fe_sym_tb.dat")


@pytest.fixture(scope="module")
def symmetrized(model):
    """The model after --symmetrize's checked symmetrization (its sources name the group): compute() projects and
    reduces without being asked again."""
    from wbentropy.symmetry import prepare_symmetry

    return prepare_symmetry(model, symmetrize=True, magmom=[0, 0, -1], projections=FE_SYM_PROJ, mus=MUS)


@pytest.fixture(scope="module")
def group(tb_dir):
    from wbentropy.io.win import read_win_structure
    from wbentropy.symmetry import magnetic_group

    return magnetic_group(structure=read_win_structure(win_file=tb_dir / "Fe_sym.win"),
                          magmom=np.array([[0.0, 0.0, -1.0]]))


@pytest.fixture(scope="module")
def runs(model, raw, symmetrized):
    """plain: the symmetric model without symmetrize (no projection); full: symmetrize=True on the full mesh;
    reduced: the symmetrized model on its irreducible points; raw: the unsymmetrized Fe_sym (the scale of what
    inversion forbids)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few Fermi-surface points on 6^3: not the point here
        return {"plain": compute(model=model, **RUN), "raw": compute(model=raw, **RUN),
                "full": compute(model=model, **RUN, **SYM, symmetry_reduction=False),
                "reduced": compute(model=symmetrized, **RUN)}


def _rank(q):
    return 1 if q.vector else q.rank


def _scale(runs, name):
    """max |T| of the symmetric model, or of the raw model where the group forbids the whole tensor."""
    return max(np.max(np.abs(runs["plain"][name])), np.max(np.abs(runs["raw"][name])))


# ------------------------------------------------------------------ Neumann's principle
def test_full_zone_tensors_obey_their_rules_and_wrong_rules_fail(runs, group):
    """P(T) = T for every quantity on the full mesh of the symmetric model; a flipped parity or time-reversal rule
    leaves an O(1) residual wherever the group allows a tensor (the rank-2 quantities)."""
    assert (group.name, group.order, len(group.rotations), int(group.antiunitary.sum())) == ("4/mm'm'", 16, 16, 8)
    flips = {"polar": "axial", "axial": "polar", "even": "odd", "odd": "even", "mixed": "even"}
    allowed = 0
    for name, q in QUANTITIES.items():
        T, rank = runs["plain"][name], _rank(q)
        right = symmetry_residual(T, group.projector(rank=rank, parity=q.parity, time_reversal=q.time_reversal),
                                  rank=rank)
        assert right <= 1e-10 * _scale(runs, name), name
        if np.max(np.abs(T)) < 1e-8 * _scale(runs, name):  # forbidden by inversion: every rule gives 0
            continue
        allowed += 1
        for parity, tr in ((flips[q.parity], q.time_reversal), (q.parity, flips[q.time_reversal])):
            wrong = symmetry_residual(T, group.projector(rank=rank, parity=parity, time_reversal=tr), rank=rank)
            assert wrong >= 0.1 * np.max(np.abs(T)), (name, parity, tr)
    assert allowed == 12


def test_results_are_projected_and_the_residual_stored(runs, group):
    """symmetrize=True on the full mesh: each tensor is P of the plain one; ``symmetry_residual`` is what P removed."""
    full, plain = runs["full"], runs["plain"]
    assert full.attrs["symmetry_projection"] == "4/mm'm' (16 operations)"
    assert full.attrs["symmetry_reduction"] is False and "not asked for" in full.attrs["symmetry_reduction_note"]
    assert full.attrs["num_kpoints"] == 216
    assert not [w for w in full.attrs.get("warnings", []) if "projection" in w]
    for name, q in QUANTITIES.items():
        rank = _rank(q)
        P = group.projector(rank=rank, parity=q.parity, time_reversal=q.time_reversal)
        expected = symmetry_residual(plain[name], P, rank=rank)
        # both are round-off of a symmetric sum (<= 2e-10 of the scale): they agree to the noise of the k sum,
        # whose last bits depend on the batching (threads, ranks)
        np.testing.assert_allclose(full.quantities[name].attrs["symmetry_residual"], expected,
                                   rtol=1e-6, atol=1e-9 * _scale(runs, name))
        np.testing.assert_allclose(full[name], plain[name], rtol=0, atol=1e-10 * _scale(runs, name))


#: components 4/mm'm' (M || z) allows, by hand: Hall sigma_xy = -sigma_yx; dissipative xx = yy, zz; optical both
_ALLOWED = {"odd": {(0, 1), (1, 0)}, "even": {(0, 0), (1, 1), (2, 2)},
            "mixed": {(0, 0), (1, 1), (2, 2), (0, 1), (1, 0)}}


@pytest.mark.parametrize("route", ["full", "reduced"])
def test_every_forbidden_component_vanishes(runs, route):
    """Every component the group forbids (written out by hand) <= 1e-8 of the tensor's largest, every quantity."""
    for name, q in QUANTITIES.items():
        T = runs[route][name]
        allowed = _ALLOWED[q.time_reversal] if _rank(q) == 2 and q.parity == "polar" else set()
        mask = np.ones((3,) * _rank(q), dtype=bool)
        for idx in allowed:
            mask[idx] = False
        assert np.max(np.abs(T[..., mask]), initial=0.0) <= 1e-8 * _scale(runs, name), name
        if allowed:
            assert np.max(np.abs(T)) > 1e-3 * _scale(runs, name), name


# ------------------------------------------------------------------ irreducible k-points
def test_irreducible_points_equal_the_full_mesh_for_every_quantity(runs):
    reduced, full = runs["reduced"], runs["full"]
    assert reduced.attrs["symmetry_reduction"] is True
    assert (reduced.attrs["num_kpoints"], reduced.attrs["num_irreducible_kpoints"]) == (30, 30)
    # the sampling counts weigh each irreducible point by its orbit: the same Fermi-surface warning as the full mesh
    assert [w[:60] for w in reduced.attrs["warnings"]] == [w[:60] for w in full.attrs["warnings"]]
    print("full:", full.attrs["warnings"], "\nreduced:", reduced.attrs["warnings"])
    for name in QUANTITIES:
        assert "symmetry_residual" not in reduced.quantities[name].attrs
        assert np.max(np.abs(reduced[name] - full[name])) <= 1e-10 * _scale(runs, name), name


def test_24_cubed_diagonalises_13_times_fewer_points(symmetrized):
    """bcc Fe, M || z, 16 operations: 24^3 = 13824 points -> 1063 irreducible (13.0x fewer)."""
    res = compute(model=symmetrized, quantities=["ahc"], temperatures=[0.0], mus=[17.6], kmesh=(24, 24, 24))
    assert res.attrs["num_kpoints"] == 1063
    assert 24**3 / res.attrs["num_kpoints"] >= 12
    s = res["ahc"][0, 0]
    assert abs(s[0, 1]) > 100 and max(abs(s[1, 2]), abs(s[2, 0])) <= 1e-8 * abs(s[0, 1])


def test_mesh_not_invariant_falls_back_to_the_full_mesh(symmetrized, caplog):
    """6x6x4 is not mapped to itself by the cubic operations: the full mesh is integrated (the same numbers as
    without reduction), the reason recorded, and the residual P removes (the mesh's asymmetry) warned about."""
    import logging

    from wbentropy.errors import ConvergenceWarning

    run = dict(model=symmetrized, quantities=["ahc", "drude_conductivity"], temperatures=[300.0], mus=[17.6],
               kmesh=(6, 6, 4), tau_fs=10.0, threads=1)
    with pytest.warns(ConvergenceWarning) as caught, caplog.at_level(logging.INFO, logger="wbentropy.integrate.orbits"):
        fallback = compute(**run)
    marker = ": projecting onto the form 4/mm'm' allows removed"
    warned = {str(w.message).split(marker)[0] for w in caught if marker in str(w.message)}
    assert warned == {"ahc", "drude_conductivity"}
    assert "6x6x4 mesh is not invariant under the 16 symmetry operations" in caplog.text
    with pytest.warns(ConvergenceWarning):
        full = compute(**run, symmetry_reduction=False)
    assert fallback.attrs["symmetry_reduction"] is False and fallback.attrs["num_kpoints"] == 144
    assert "not invariant" in fallback.attrs["symmetry_reduction_note"]
    for name in ("ahc", "drude_conductivity"):
        np.testing.assert_array_equal(fallback[name], full[name])
        assert fallback.quantities[name].attrs["symmetry_residual_relative"] > 1e-6


# ------------------------------------------------------------------ command line, HDF5 and MPI
def _cli(*args, cwd, mpi: int = 0):
    from _mpi import mpiexec

    launch = [mpiexec(), "-n", str(mpi)] if mpi else []
    return subprocess.run([*launch, sys.executable, "-m", "wbentropy.cli", "compute", *args], capture_output=True,
                          text=True, cwd=cwd)


def _cli_args(tb_dir, out):
    return ["--tb", str(tb_dir / "Fe_sym_tb.dat"), "--temperature", "300", "--mu", "17.4", "17.6", "--kmesh", "6", "6",
            "6", "--quantities", "ahc,entropy_hall,drude_conductivity", "--tau", "10", "--symmetrize", "--magmom", "0",
            "0", "-1", "--projections", "Fe:sp3d2;t2g", "--batch-size", "8", "--threads", "1", "--out", str(out)]


def test_cli_stores_the_reduction_and_mpi_ranks_agree(tb_dir, runs, tmp_path):
    """--no-symmetry-reduction: symmetry_residual on each quantity group; default: the irreducible count; 2 MPI
    ranks of 1 thread equal 1 rank of 2 threads to 1e-12 (the batches are summed in the same order)."""
    import h5py

    from _mpi import assert_same_results, rank_results

    names = ("ahc", "entropy_hall", "drude_conductivity")
    out = {}
    for label, extra, ranks in (("full", ["--no-symmetry-reduction"], 0), ("two", [], 2),
                                ("one", ["--threads", "2"], 0)):
        out[label] = tmp_path / f"{label}.h5"
        p = _cli(*_cli_args(tb_dir, out[label]), *extra, cwd=tmp_path, mpi=ranks)
        assert p.returncode == 0, p.stderr
    with h5py.File(out["full"]) as h:
        assert not h.attrs["symmetry_reduction"] and h.attrs["num_kpoints"] == 216
        for name in names:
            assert 0 <= h[name].attrs["symmetry_residual"] <= 1e-10 * np.max(np.abs(h[name]["value"][()]))
    with h5py.File(out["one"]) as h:
        assert h.attrs["symmetry_reduction"] and h.attrs["num_irreducible_kpoints"] == h.attrs["num_kpoints"] == 30
        assert h.attrs["symmetry_projection"] == "4/mm'm' (16 operations)"
    one, two = rank_results(out["one"], 1, names), rank_results(out["two"], 2, names)
    assert_same_results(one, two, rtol=1e-12)
    for name in names:
        np.testing.assert_allclose(one[name], runs["full"][name], rtol=0, atol=1e-10 * _scale(runs, name))


def test_cli_help_names_the_option():
    p = subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", "--help"], capture_output=True, text=True,
                       cwd=Path(__file__).parent)
    assert "--no-symmetry-reduction" in p.stdout


def test_adaptive_runs_cover_the_full_zone_and_are_projected(symmetrized):
    """The adaptive integrator with symmetry_reduction=False integrates the full zone; the result is projected, the
    residual stored and warned about exactly when it exceeds the error estimate.  Measured (2^3 coarse cells, 1500
    k-points): P removes 0.5 % of max |T| from the AHC (estimate 46 %) and 48 % from the Drude tensor (estimate
    58 %), so neither is warned here; the warning itself is exercised by the uniform fallback test."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = compute(model=symmetrized, quantities=["ahc", "drude_conductivity"], temperatures=[300.0], mus=[17.6],
                      kmesh=(2, 2, 2), tau_fs=10.0, tolerance=0.01, max_kpoints=1500, threads=1,
                      symmetry_reduction=False)
    assert res.attrs["symmetry_reduction"] is False
    assert res.attrs["symmetry_reduction_note"] == "not asked for (symmetry_reduction=False / --no-symmetry-reduction)"
    warned = {str(w.message).split(":")[0] for w in caught if "projecting onto" in str(w.message)}
    for name, allowed in (("ahc", _ALLOWED["odd"]), ("drude_conductivity", _ALLOWED["even"])):
        q = res.quantities[name]
        assert q.attrs["symmetry_residual"] > 0
        assert (name in warned) == (q.attrs["symmetry_residual"] > np.max(q.error)), name
        mask = np.ones((3, 3), dtype=bool)
        for idx in allowed:
            mask[idx] = False
        assert np.max(np.abs(q.value[..., mask])) <= 1e-12 * np.max(np.abs(q.value))
