"""Shared pytest fixtures: real Wannier90 data sets unpacked into session temp folders."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

if str(Path(__file__).resolve().parent) not in sys.path:  # any pytest import mode
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from wb_reference import prepare_material, shared_data_dir

# no periodic progress lines in tests (they assert exact stderr); tests/test_progress.py turns them on
os.environ.setdefault("WBENTROPY_PROGRESS_INTERVAL", "0")


def _material(tmp_path_factory, folder: str):
    if not (shared_data_dir() / folder).is_dir():
        pytest.skip(f"shared data {shared_data_dir() / folder} not available")
    return prepare_material(folder=folder, dest=tmp_path_factory.mktemp(folder))


@pytest.fixture(scope="session")
def fe_dir(tmp_path_factory):
    """Temp folder with the bcc-Fe Wannier90 files (Fe.chk, Fe.eig, Fe.mmn unpacked, Fe.nnkp, ...)."""
    return _material(tmp_path_factory, "Fe_Wannier90")


@pytest.fixture(scope="session")
def fe_sym_dir(tmp_path_factory):
    """Temp folder with WannierBerri's ``Fe_sym`` Wannier90 files (Fe_sym.chk, .eig, .mmn unpacked, .win, .spn)."""
    return _material(tmp_path_factory, "Fe_sym_Wannier90")


@pytest.fixture(scope="session")
def gaas_dir(tmp_path_factory):
    """Temp folder with the GaAs Wannier90 files (GaAs.chk, .eig, .mmn and _tb.dat files unpacked)."""
    return _material(tmp_path_factory, "GaAs_Wannier90")


@pytest.fixture
def removes_mpich_leftovers():
    """For tests whose MPI job fails on purpose: ``MPI_Abort`` leaves mpich's intra-node segment
    (``/dev/shm/mpich_shm_*``) behind; remove the ones that appeared during the test."""
    shm = Path("/dev/shm")
    before = set(shm.glob("mpich_shm_*")) if shm.is_dir() else set()
    yield
    if shm.is_dir():
        for leftover in set(shm.glob("mpich_shm_*")) - before:
            leftover.unlink(missing_ok=True)
