"""``wbentropy plot``: the k-slice maps integrate to ``compute``, and every figure is written."""
from pathlib import Path

import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.cli import main
from wbentropy.errors import InputError
from wbentropy.toy_models import qwz_chern_model
from wbentropy.plot import kslice_map

DATA = Path(__file__).resolve().parents[1] / "data"
PNG = b"\x89PNG\r\n\x1a\n"


def test_kslice_map_mean_is_the_bz_integral_of_a_2d_model():
    """For a 2D model the reduced plane k3 = 0 sampled N x N is the whole BZ: the mean of the
    per-k maps must equal compute() on the N x N x 1 mesh (sigma^s_xy and Pi_xx/E^2)."""
    model = qwz_chern_model(mass=-1.0)
    T, mu, tau, n = 300.0, 1.2, 10.0, 16  # mu inside the upper band: both maps nonzero
    ks = kslice_map(model=model, plane="k3=0", mesh=n, temperature=T, mu=mu, tau_fs=tau)
    res = compute(model=model, quantities=["entropy_hall", "entropy_production"], temperatures=[T], mus=[mu],
                  kmesh=(n, n, 1), tau_fs=tau)
    sh, ep = ks.maps["entropy_hall"], ks.maps["entropy_production"]
    assert sh.shape == ep.shape == (n, n)
    assert np.max(np.abs(sh)) > 0 and np.min(ep) >= 0
    assert sh.mean() == pytest.approx(res["entropy_hall"][0, 0, 0, 1], rel=1e-10)
    assert ep.mean() == pytest.approx(res["entropy_production"][0, 0, 0, 0], rel=1e-10)


def test_cartesian_plane_samples_the_same_function_as_the_reduced_plane():
    """kz = 0 (Cartesian, 1/Angstrom) on the tetragonal QWZ lattice is the plane k3 = 0:
    points k_x = u 2pi/a coincide with reduced k1 = u."""
    model = qwz_chern_model(mass=-1.0, a=3.0)
    g = 2 * np.pi / 3.0
    red = kslice_map(model=model, plane="k3=0", mesh=4, temperature=300, mu=1.2)  # u = -0.5, -0.25, 0, 0.25
    cart = kslice_map(model=model, plane="kz=0", mesh=5, temperature=300, mu=1.2, extent=0.5 * g)
    assert np.allclose(cart.u / g, [-0.5, -0.25, 0, 0.25, 0.5])
    scale = np.max(np.abs(red.maps["entropy_hall"]))
    assert scale > 0
    assert np.allclose(cart.maps["entropy_hall"][:4, :4], red.maps["entropy_hall"], rtol=0, atol=1e-12 * scale)


def test_kslice_rejects_bad_input():
    model = qwz_chern_model()
    with pytest.raises(InputError, match="k1=0"):
        kslice_map(model=model, plane="z=0", mesh=8, temperature=300, mu=0.0)
    with pytest.raises(InputError, match="T > 0"):
        kslice_map(model=model, plane="k3=0", mesh=8, temperature=0, mu=0.0)


def _is_image(path: Path, fmt: str) -> bool:
    head = path.read_bytes()[:8]
    return path.stat().st_size > 1000 and (head == PNG if fmt == "png" else head.startswith(b"%PDF"))


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_plot_command_writes_every_figure(tmp_path, capsys, fmt):
    res = tmp_path / "q.h5"
    assert main(["compute", "--tb", str(DATA / "qwz_tb.dat"), "--kmesh", "8", "8", "1", "--temperature", "100",
                 "300", "--mu-range", "-1.5", "1.5", "0.5", "--tau", "10", "--quantities",
                 "ahc,entropy_hall,entropy_production,entropy_production_drude,entropy_production_interband",
                 "--out", str(res)]) == 0
    coarse = tmp_path / "coarse.h5"
    assert main(["compute", "--tb", str(DATA / "qwz_tb.dat"), "--kmesh", "4", "4", "1", "--temperature", "100",
                 "300", "--mu", "0.5", "--out", str(coarse)]) == 0
    capsys.readouterr()
    # the model comes from the result's provenance (input_tb), not from options
    assert main(["plot", str(res), "--format", fmt, "--kslice", "k3=0", "--kslice-mesh", "12",
                 "--convergence", str(coarse), "--out", str(tmp_path / "fig")]) == 0
    written = capsys.readouterr().out.split()
    names = {Path(p).name for p in written}
    assert names == {f"fig_{n}.{fmt}" for n in ("hall", "entropy_production", "convergence", "kslice")}
    for p in written:
        assert _is_image(Path(p), fmt), p


def test_plot_adaptive_history_and_bad_plane(tmp_path, capsys):
    res = tmp_path / "a.h5"
    assert main(["compute", "--tb", str(DATA / "qwz_tb.dat"), "--kmesh", "4", "4", "1", "--temperature", "300",
                 "--mu", "0.5", "--tolerance", "1e-3", "--max-kpoints", "3000", "--no-progress",
                 "--out", str(res)]) == 0
    capsys.readouterr()
    assert main(["plot", str(res)]) == 0
    names = {Path(p).name for p in capsys.readouterr().out.split()}
    assert names == {"a_hall.png", "a_convergence.png"}  # no entropy production, no k-slice
    assert _is_image(tmp_path / "a_convergence.png", "png")
    with pytest.raises(SystemExit) as exc:
        main(["plot", str(res), "--kslice", "q=1"])
    assert exc.value.code == 2
    assert "--kslice must look like" in capsys.readouterr().err


def test_kslice_says_when_hot_spots_are_narrower_than_a_pixel():
    """The half-pixel-shift measure falls as the mesh resolves the entropy-production hot spots: a 16 x 16
    map is labelled under-resolved, a 128 x 128 one is not; the measure itself is exact on simple maps."""
    from wbentropy.plot import UNDER_RESOLVED, map_change

    model = qwz_chern_model(mass=-1.0)
    coarse, fine = (kslice_map(model=model, plane="k3=0", mesh=n, temperature=300, mu=1.2, tau_fs=10.0).resolution
                    for n in (16, 128))
    assert coarse["entropy_production"] > 1.0 > UNDER_RESOLVED > 0.01 > fine["entropy_production"]
    assert fine["entropy_hall"] < 1e-3
    ones = np.ones((4, 4))
    assert map_change(ones, ones) == 0.0 and map_change(0 * ones, 0 * ones) == 0.0
    assert map_change(ones, 3 * ones) == pytest.approx(2.0)
    assert map_change(ones, 0 * ones) == float("inf")


def test_bz_section_of_the_plane():
    """The first-BZ mask on the plane: the square of area (2 pi/a)^2 for the tetragonal QWZ lattice at k3 = 0,
    and the map shown with its 8 periodic images around it."""
    from wbentropy.plot import _bz_mask, _plane_frame

    model = qwz_chern_model(mass=-1.0, a=3.0, c=5.0)
    ks = kslice_map(model=model, plane="k3=0", mesh=4, temperature=300, mu=1.2)
    eu, ev, offset, tiles = _plane_frame(ks)
    g = 2 * np.pi / 3.0
    x, y, inside = _bz_mask(ks, eu, ev, offset, (-g, g, -g, g), n=401)
    area = inside.mean() * (2 * g) ** 2
    assert area == pytest.approx(g * g, rel=0.01)
    assert len(tiles) == 9


def test_hall_figure_marks_e_f(tmp_path):
    """With fermi_energy_eV in the result the x axis is mu - E_F and E_F is marked; without it, mu."""
    from wbentropy.plot import _mu_axis, plot_hall

    res = compute(model=qwz_chern_model(mass=-1.0), quantities=["ahc", "entropy_hall"], temperatures=[0, 300],
                  mus=[-1.0, 0.0, 1.0], kmesh=(8, 8, 1))
    assert res.fermi_energy is None and _mu_axis(res)[2] is None
    res.attrs["fermi_energy_eV"] = 0.5
    x, label, ef = _mu_axis(res)
    assert np.allclose(x, [-1.5, -0.5, 0.5]) and ef == 0.0 and "E_F" in label
    assert _is_image(plot_hall(res, tmp_path / "h.png"), "png")
