"""Warnings that a result is likely unconverged: each is triggered, and absent when converged."""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.errors import ConvergenceWarning
from wbentropy.model import TBModel
from wbentropy.toy_models import qwz_chern_model


@pytest.fixture(scope="module")
def qwz():
    return qwz_chern_model(mass=-1.0, a=3.0, c=5.0)


def _run(model, **kw):
    """compute() recording every ConvergenceWarning; returns (result, list of messages)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = compute(model=model, **kw)
    return res, [str(w.message) for w in rec if issubclass(w.category, ConvergenceWarning)]


# ---------------------------------------------------------------- adaptive error above tolerance
def test_adaptive_not_converged_warns(qwz, caplog):
    with caplog.at_level(logging.WARNING, logger="wbentropy"):
        res, msgs = _run(qwz, quantities=["ahc", "entropy_hall"], temperatures=[30.0], mus=[-1.5],
                         kmesh=(6, 6, 1), tolerance=1e-8, max_kpoints=3000)
    assert not res.attrs["converged"] and res.attrs["estimated_rel_error"] > 1e-8
    assert len(msgs) == 1 and "adaptive integration stopped before reaching the tolerance 1.0e-08" in msgs[0]
    assert msgs[0] in caplog.text  # logged as well
    assert res.attrs["warnings"] == msgs  # and recorded in the result file


def test_adaptive_converged_no_warning(qwz):
    res, msgs = _run(qwz, quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=[-1.5],
                     kmesh=(6, 6, 1), tolerance=1e-3)
    assert res.attrs["converged"]
    assert msgs == [] and "warnings" not in res.attrs


# ---------------------------------------------------------------- degenerate-band threshold
def _split_pair(delta: float) -> TBModel:
    """Two bands eps(k) +- delta on a square lattice: split by 2 delta everywhere."""
    eye, sz = np.eye(2), np.diag([1.0, -1.0])
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]])
    H = np.array([delta * sz] + [0.5 * eye] * 4, dtype=complex)
    return TBModel(lattice=np.diag([3.0, 3.0, 5.0]), R=R, H=H, r=np.zeros(H.shape + (3,), complex), name="pair")


@pytest.mark.parametrize("delta,thresh,warns", [
    (3e-5, 1e-4, True),    # split 6e-5 eV < threshold: two distinct bands merged everywhere
    (0.0, 1e-4, False),    # exactly degenerate: merging is right
    (3e-5, 1e-5, False),   # threshold below the splitting: nothing merged
    (1e-7, 1e-4, False),   # split 2e-7 eV, far below a tenth of the threshold (round-off-like)
])
def test_degenerate_threshold_warning(delta, thresh, warns):
    res, msgs = _run(_split_pair(delta), quantities=["ahc"], temperatures=[300.0], mus=[0.3], kmesh=(8, 8, 1),
                     degen_thresh=thresh)
    hit = [m for m in msgs if "degenerate-band threshold" in m]
    assert bool(hit) == warns, msgs
    if warns:
        assert "merged bands split by up to 6.00e-05 eV at 64 of 64 k-points" in hit[0]
    assert msgs == hit


# ---------------------------------------------------------------- Fermi surface sampling
def test_fermi_surface_undersampled_warns(qwz):
    """30 K on a 32x32 mesh: the 3 k_BT shell (8 meV) is far thinner than a mesh cell."""
    res, msgs = _run(qwz, quantities=["ahc", "entropy_hall"], temperatures=[30.0, 300.0], mus=[-1.5],
                     kmesh=(32, 32, 1))
    assert len(msgs) == 1 and msgs[0].startswith("few k-points sample the Fermi surface (T=30 K, mu=-1.5 eV:")
    assert "T=300 K" in msgs[0]  # 72 of 1024 near mu at 300 K: also too few


def test_fermi_surface_well_sampled_no_warning(qwz):
    """300 K on 128x128: sigma^s_xy is within 2e-5 of the 256x256 value, and no warning."""
    kw = dict(quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=[-1.5])
    res, msgs = _run(qwz, kmesh=(128, 128, 1), **kw)
    assert msgs == []
    fine = compute(model=qwz, kmesh=(256, 256, 1), **kw)["entropy_hall"][0, 0, 0, 1]
    assert res["entropy_hall"][0, 0, 0, 1] == pytest.approx(fine, rel=2e-5)


def test_fermi_level_in_gap_no_warning(qwz):
    """mu in the gap of the insulator: no Fermi surface, nothing to sample, no warning."""
    res, msgs = _run(qwz, quantities=["entropy_hall", "entropy_production"], temperatures=[30.0], mus=[0.0],
                     kmesh=(16, 16, 1), tau_fs=10.0)
    assert msgs == []


def test_fermi_quantity_free_run_not_tracked(qwz):
    """Fermi-sea AHC alone is not a Fermi-surface quantity: a coarse mesh gives no such warning."""
    _, msgs = _run(qwz, quantities=["ahc"], temperatures=[30.0], mus=[-1.5], kmesh=(16, 16, 1))
    assert msgs == []


def test_no_degenerate_warning_on_fe(fe_dir):
    """Real data: Fe's smallest band spacing on a 6^3 mesh is above 1e-4 eV (none merged)."""
    from wbentropy.io.w90chk import read_chk

    res, msgs = _run(read_chk(seed=fe_dir / "Fe"), quantities=["ahc"], temperatures=[300.0], mus=[17.6255],
                     kmesh=(6, 6, 6))
    assert msgs == [] and abs(res["ahc"][0, 0, 0, 1]) > 0
