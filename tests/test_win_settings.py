"""postw90 settings of a .win read as defaults (wbentropy.io.win.read_win_settings)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wbentropy import InputError
from wbentropy.io.win import read_win_settings

DATA = Path(__file__).resolve().parents[1] / "data"
CELL = """begin unit_cell_cart
ang
3.0 0.0 0.0
0.0 4.0 0.0
0.0 0.0 5.0
end unit_cell_cart
"""


def _win(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.win"
    path.write_text(CELL + text)
    return path


def test_bundled_fe_win():
    s = read_win_settings(win_file=DATA / "Fe.win")
    assert s.fermi_energy == 17.3811
    assert s.kmesh == (20, 20, 20) and s.kmesh_keyword == "berry_kmesh"
    assert s.source("fermi_energy") == f"{DATA / 'Fe.win'}, line 27 (fermi_energy)"
    assert s.mu_range is None and s.omega_range is None and s.smearing is None


def test_nothing_given_is_all_none(tmp_path):
    s = read_win_settings(win_file=_win(tmp_path, "num_wann = 2\n"))
    assert (s.fermi_energy, s.mu_range, s.kmesh, s.omega_range, s.smearing) == (None,) * 5


@pytest.mark.parametrize("text, mesh", [
    ("berry_kmesh = 8 9 10", (8, 9, 10)),
    ("Berry_Kmesh : 12", (12, 12, 12)),            # one number: all three, any case, ':' separator
    ("berry_kmesh 6, 6, 2  ! comment", (6, 6, 2)),
    ("kmesh = 7", (7, 7, 7)),                       # the global postw90 mesh as fallback
    ("kmesh = 7\nberry_kmesh = 5", (5, 5, 5)),     # berry_kmesh wins
])
def test_meshes(tmp_path, text, mesh):
    assert read_win_settings(win_file=_win(tmp_path, text + "\n")).kmesh == mesh


def test_mesh_spacing_as_postw90(tmp_path):
    """N_i = max(1, ceil(|b_i|/spacing)) (postw90's get_module_kmesh)."""
    s = read_win_settings(win_file=_win(tmp_path, "berry_kmesh_spacing = 0.1\n"))
    b = 2 * np.pi / np.array([3.0, 4.0, 5.0])
    assert s.kmesh == tuple(int(np.ceil(x / 0.1)) for x in b) == (21, 16, 13)


def test_scans_and_smearing(tmp_path):
    s = read_win_settings(win_file=_win(tmp_path, "fermi_energy_min = -1\nfermi_energy_max = 1.0d0\n"
                                                  "fermi_energy_step = 0.25\nkubo_freq_max = 3\n"
                                                  "kubo_smr_fixed_en_width = 0.02\nsmr_type = gauss\n"))
    assert s.mu_range == (-1.0, 1.0, 0.25)
    assert s.omega_range == (0.0, 3.0, 0.01)
    assert s.smearing == ("gaussian", 0.02)


@pytest.mark.parametrize("text, line, words", [
    ("fermi_energy = abc", 7, "fermi_energy must be a number, found abc"),
    ("fermi_energy = 1\nfermi_energy = 2", 8, "fermi_energy is given twice (lines 7 and 8)"),
    ("fermi_energy = nan", 7, "fermi_energy must be finite"),
    ("berry_kmesh = 4 4", 7, "berry_kmesh needs 3 values, found 4 4"),
    ("berry_kmesh = 0 4 4", 7, "berry_kmesh must be > 0"),
    ("berry_kmesh = 4.5 4 4", 7, "berry_kmesh must be an integer"),
    ("fermi_energy_min = 1", 7, "fermi_energy_min is given without fermi_energy_max and fermi_energy_step"),
    ("kubo_freq_step = 0.1", 7, "kubo_freq_step is given without kubo_freq_max"),
    ("kubo_smr_fixed_en_width = 0.1\nkubo_smr_type = m-p1", 8, "kubo_smr_type = m-p1 has no wbentropy equivalent"),
])
def test_bad_values_name_file_and_line(tmp_path, text, line, words):
    path = _win(tmp_path, text + "\n")
    with pytest.raises(InputError) as err:
        read_win_settings(win_file=path)
    assert str(err.value).startswith(f"{path}, line {line}: {words}")
    assert "\n" not in str(err.value)
