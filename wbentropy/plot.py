"""``wbentropy plot``: figures from a result file, and k-resolved maps on a plane of the BZ.

Figures (matplotlib, Agg backend; PNG or PDF), written next to the result unless ``--out``:

* ``PREFIX_hall``: sigma^e_ab (``ahc``, S/cm) and sigma^s_ab (``entropy_hall``, A/(m K))
  against mu, one curve per temperature and independent component;
* ``PREFIX_entropy_production``: Pi_aa/E^2 against mu and the Drude / interband shares
  of its trace (needs ``entropy_production_drude`` and ``entropy_production_interband``,
  or one of them and ``entropy_production``);
* ``PREFIX_convergence``: the adaptive integrator's error estimate against the number of
  k-points (the result's ``history``), and the values of other result files of the same
  job on other meshes (``--convergence FILE ...``) against their number of k-points;
* ``PREFIX_kslice`` (with ``--kslice``): maps on a plane of the BZ of the entropy-Hall
  integrand (e k_B/hbar V) sum_n s_n Omega_n^ab and of the entropy-production density
  (the integrand of ``entropy_production``), i.e. the per-k terms whose mean over the BZ is
  what ``wbentropy compute`` reports.  This needs the model: the result's provenance
  (``input_*`` attributes) is used unless input options are given again.

The per-k integrands come from the same :class:`~wbentropy.evaluate.Evaluator` as
``compute``, so the mean of a map over a full reduced plane (``k3=0``) of a 2D model equals
``compute`` on the mesh N x N x 1 (tested).  No physics is defined here.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = ["KSlice", "parse_plane", "kslice_map", "plot_result", "FIGURES", "map_change"]

logger = logging.getLogger(__name__)

_AXES = "xyz"


def _record(name: str):
    """The catalogue record of a result's quantity, or None (a file may hold quantities this version lacks)."""
    from .quantities import QUANTITIES

    return QUANTITIES.get(name)


def _kslice_names(*, with_tau: bool) -> list[str]:
    """The quantities the catalogue maps on a k-slice (:attr:`~wbentropy.quantities.Quantity.kslice_title`): the
    entropy-Hall integrand, and the entropy-production density when the relaxation time is known."""
    from .quantities import QUANTITIES

    return [n for n, q in QUANTITIES.items() if q.kslice_title and (with_tau or not q.needs_tau)]


def _on_figure(result, figure: str) -> list[str]:
    """Names of the result's quantities that the catalogue puts on ``figure``, in catalogue order."""
    from .quantities import QUANTITIES

    return [n for n, q in QUANTITIES.items() if q.figure == figure and n in result.quantities]


# --------------------------------------------------------------------------- k-plane
@dataclass(frozen=True)
class KSlice:
    """A plane of k-points and the per-k integrands on it.

    Attributes
    ----------
    plane : str
        The plane as given, e.g. ``"k3=0"`` (reduced) or ``"kz=0"`` (Cartesian, 1/Angstrom).
    u, v : (N,) float
        In-plane coordinates of the map's columns and rows (reduced units, or 1/Angstrom).
    axis_labels : (str, str)
    kpoints : (N, N, 3) float
        The k-points in reduced coordinates (rows: v, columns: u).
    maps : dict name -> (N, N) float
        ``entropy_hall`` (A/(m K)) and, if a relaxation time is known,
        ``entropy_production`` (S/(m K)): per-k integrands in the units of the
        BZ-integrated quantity (their BZ mean is the integral).
    component : dict name -> str
    temperature : float, K
    mu : float, eV
    reciprocal : (3, 3) float or None
        Rows b_i (1/Angstrom), to draw the map in Cartesian in-plane coordinates with the BZ boundary.
    resolution : dict name -> float
        How much the map changes when every point moves by half a pixel along both in-plane
        directions: max(r, 1/r) - 1 with r the ratio of the largest |value|, or the relative change
        of the mean, whichever is larger.  Above :data:`UNDER_RESOLVED` the figure says the map is
        under-resolved (hot spots narrower than a pixel).
    """

    plane: str
    u: np.ndarray
    v: np.ndarray
    axis_labels: tuple
    kpoints: np.ndarray
    maps: dict
    component: dict
    temperature: float
    mu: float
    reciprocal: np.ndarray | None = None
    resolution: dict = field(default_factory=dict)


#: A k-slice map whose largest value or mean changes by more than this fraction on a half-pixel shift is
#: labelled under-resolved.
UNDER_RESOLVED = 0.25


#: Largest map mesh (``--kslice-mesh``): 4096 x 4096 = 16.8 million k-points, far more than a figure resolves.
MAX_KSLICE_MESH = 4096


def parse_plane(text: str) -> tuple[str, int, float]:
    """``"k3=0.25"`` -> ("reduced", 2, 0.25); ``"kz=0"`` -> ("cartesian", 2, 0.0)."""
    m = re.fullmatch(r"\s*k([123xyz])\s*=\s*([-+0-9.eE]+)\s*", text)
    if not m:
        raise InputError(f"{{plane}} must look like k1=0, k2=0.5, k3=0 (reduced) or kx=0, ky=0, kz=0 "
                         f"(Cartesian, 1/Angstrom), got {text!r}", param="plane")
    axis, value = m.group(1), float(m.group(2))
    if axis in "123":
        return "reduced", int(axis) - 1, value
    return "cartesian", "xyz".index(axis), value


def _plane_points(*, model, plane: str, mesh: int, extent: float | None):
    kind, axis, value = parse_plane(plane)
    if not 2 <= mesh <= MAX_KSLICE_MESH:
        raise InputError(f"{{mesh}} must be >= 2 and at most {MAX_KSLICE_MESH} (N x N k-points), got {mesh}",
                         param="mesh")
    if extent is not None and not (np.isfinite(extent) and extent > 0):
        raise InputError(f"{{extent}} must be a finite length > 0 (1/Angstrom), got {extent}", param="extent")
    others = [i for i in range(3) if i != axis]
    if kind == "reduced":
        # the Gamma-centred points i/N, shown centred on Gamma: the same set modulo G
        u = np.arange(-(mesh // 2), mesh - mesh // 2) / mesh
        uu, vv = np.meshgrid(u, u, indexing="xy")
        k = np.zeros(uu.shape + (3,))
        k[..., others[0]], k[..., others[1]], k[..., axis] = uu, vv, value
        labels = (f"$k_{others[0] + 1}$ (reduced)", f"$k_{others[1] + 1}$ (reduced)")
        return u, u, k, labels
    B = model.reciprocal_lattice  # rows b_i, 1/Angstrom, a_i . b_j = 2 pi delta_ij
    half = extent if extent is not None else float(np.max(np.linalg.norm(B[:, others], axis=1)))
    u = np.linspace(-half, half, mesh)
    uu, vv = np.meshgrid(u, u, indexing="xy")
    kc = np.zeros(uu.shape + (3,))
    kc[..., others[0]], kc[..., others[1]], kc[..., axis] = uu, vv, value
    k = kc @ model.lattice.T / (2 * np.pi)  # reduced: k_i = k_cart . a_i / 2pi
    labels = (f"$k_{_AXES[others[0]]}$ (1/Å)", f"$k_{_AXES[others[1]]}$ (1/Å)")
    return u, u, k, labels


def _component(text: str) -> tuple[int, int]:
    if len(text) != 2 or any(c not in _AXES for c in text):
        raise InputError(f"a tensor component is two letters of xyz, e.g. xy, got {text!r}")
    return _AXES.index(text[0]), _AXES.index(text[1])


def kslice_map(*, model, plane: str, mesh: int, temperature: float, mu: float, tau_fs: float | None = None,
               entropy_production_form: str = "exact", hall_component: str = "xy", ep_component: str = "xx",
               extent: float | None = None, degen_thresh: float | None = None,
               max_memory_mb: float = 256.0) -> KSlice:
    """Per-k integrands of ``entropy_hall`` (and ``entropy_production`` if ``tau_fs``) on a plane.

    Parameters
    ----------
    model : TBModel
    plane : str
        ``k1=``, ``k2=``, ``k3=`` value (reduced; the map covers the full reciprocal cell,
        N x N Gamma-centred points shown centred on Gamma) or ``kx=``, ``ky=``, ``kz=``
        value in 1/Angstrom (a square of half-width ``extent``, default the largest
        in-plane length of a reciprocal vector, which covers the first BZ).
    mesh : int
        N points per direction.
    temperature : float
        K, > 0 (s_n = 0 at T = 0).
    mu : float
        eV.
    tau_fs : float, optional
        Relaxation time for the entropy-production density; without it that map is omitted.
    hall_component, ep_component : str
        Tensor components shown, e.g. ``"xy"`` and ``"xx"``.

    Returns
    -------
    KSlice
    """
    from .api import check_grid, check_options
    from .evaluate import Evaluator
    from .kspace.geometry import DEFAULT_DEGEN_THRESH
    from .quantities import Options, get_quantities

    if not temperature > 0:
        raise InputError(f"the k-slice map needs T > 0 (s_n = 0 at T = 0), got {temperature} K")
    check_grid(temperatures=[temperature], mus=[mu])
    check_options(tau_fs=tau_fs, **({} if degen_thresh is None else {"degen_thresh": degen_thresh}))
    hc, ec = _component(hall_component), _component(ep_component)
    u, v, k, labels = _plane_points(model=model, plane=plane, mesh=mesh, extent=extent)
    names = _kslice_names(with_tau=tau_fs is not None)
    options = Options(tau_fs=tau_fs, entropy_production_form=entropy_production_form)
    ev = Evaluator(model=model, quantities=get_quantities(names), temperatures=[temperature], mus=[mu],
                   options=options, degen_thresh=DEFAULT_DEGEN_THRESH if degen_thresh is None else degen_thresh,
                   max_memory_mb=max_memory_mb)
    half_pixel = 0.5 * (k[1, 1] - k[0, 0])  # reduced coordinates; the same shift for every point
    both = np.concatenate([k.reshape(-1, 3), (k + half_pixel).reshape(-1, 3)])
    parts = ev.split(ev(both))
    maps, comps, resolution = {}, {}, {}
    for name, arr in zip(names, parts):
        (a, b), c = (hc, hall_component) if _record(name).antisymmetric else (ec, ep_component)
        plain, shifted = (x.reshape(k.shape[:2]) for x in np.split(arr[:, 0, 0, a, b], 2))
        maps[name], comps[name] = plain, c
        resolution[name] = map_change(plain, shifted)
    return KSlice(plane=plane, u=u, v=v, axis_labels=labels, kpoints=k, maps=maps, component=comps,
                  temperature=float(temperature), mu=float(mu), reciprocal=np.array(model.reciprocal_lattice),
                  resolution=resolution)


def map_change(plain: np.ndarray, shifted: np.ndarray) -> float:
    """Change of a map under a half-pixel shift: max(r, 1/r) - 1 of the largest |value|, or the change of the
    mean relative to the mean |value|, whichever is larger (0 for two zero maps)."""
    top, top_s = float(np.max(np.abs(plain))), float(np.max(np.abs(shifted)))
    if top == 0.0 and top_s == 0.0:
        return 0.0
    if min(top, top_s) == 0.0:
        return float("inf")
    ratio = max(top / top_s, top_s / top) - 1.0
    scale = max(float(np.mean(np.abs(plain))), float(np.mean(np.abs(shifted))))
    return max(ratio, abs(float(np.mean(shifted)) - float(np.mean(plain))) / scale)


# --------------------------------------------------------------------------- figures
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _antisym_components(value: np.ndarray) -> list[tuple[int, int]]:
    comps = [(1, 2), (2, 0), (0, 1)]
    scale = np.max(np.abs(value)) if value.size else 0.0
    keep = [c for c in comps if np.max(np.abs(value[..., c[0], c[1]])) > 1e-6 * scale]
    return keep or [(0, 1)]


def _diagonal_components(value: np.ndarray) -> list[tuple[int, int]]:
    scale = np.max(np.abs(value)) if value.size else 0.0
    keep = [(a, a) for a in range(3) if np.max(np.abs(value[..., a, a])) > 1e-6 * scale]
    return keep or [(0, 0)]


_LINESTYLES = ("-", "--", ":", "-.")


def _mu_axis(result) -> tuple[np.ndarray, str, float | None]:
    """x values, label and the position of E_F: mu - E_F when the result knows E_F, else mu."""
    ef = result.fermi_energy
    if ef is None:
        return np.asarray(result.mu), r"$\mu$ (eV)", None
    return np.asarray(result.mu) - ef, rf"$\mu - E_F$ (eV),  $E_F$ = {ef:g} eV", 0.0


_COLOURS = ("#1f4e9c", "#c0392b", "#2e8b57", "#8e44ad", "#b9770e", "#138d90")


def _t_styles(temperatures) -> list[dict]:
    """One colour and one line style per temperature, the same in every panel."""
    return [dict(color=_COLOURS[i % len(_COLOURS)], ls=_LINESTYLES[i % len(_LINESTYLES)], lw=1.6)
            for i in range(len(temperatures))]


def _t_lines(ax, x, y, err, temperatures, styles) -> None:
    """One line per temperature with its error band; temperatures where the values are all zero
    (e.g. sigma^s at T = 0) are listed in a corner instead of drawn flat."""
    marker = dict(marker="o") if len(x) == 1 else dict(marker="." if len(x) < 30 else None)
    zero = []
    for iT, T in enumerate(temperatures):
        if not np.any(y[iT]):
            zero.append(f"{T:g} K")
            continue
        ax.plot(x, y[iT], **styles[iT], **marker)
        if err is not None and np.any(err[iT]):
            ax.fill_between(x, y[iT] - err[iT], y[iT] + err[iT], color=styles[iT]["color"], alpha=0.25, lw=0)
    if zero:
        ax.text(0.02, 0.03, r"$\equiv 0$ at T = " + ", ".join(zero), transform=ax.transAxes, fontsize=7, color="0.35")


def _decorate(ax, ef) -> None:
    ax.axhline(0, color="0.75", lw=0.6)
    if ef is not None:
        ax.axvline(ef, color="0.3", lw=0.8, ls=(0, (1, 2)))
        ax.text(ef, 1.0, " $E_F$", transform=ax.get_xaxis_transform(), fontsize=8, va="bottom", ha="center")


def _t_legend(fig, temperatures, styles, *, errors: bool) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], **styles[i]) for i in range(len(temperatures))]
    labels = [f"T = {T:g} K" for T in temperatures]
    if errors:
        from matplotlib.patches import Patch

        handles.append(Patch(color="0.6", alpha=0.4))
        labels.append("± error estimate")
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False, fontsize=8)


def _component_grid(result, names, components, *, ylabel_of) -> tuple:
    """Figure with one row per quantity and one panel per component; returns (fig, any error bands)."""
    plt = _pyplot()
    per_name = [components(result[n]) for n in names]
    ncol = max(len(c) for c in per_name)
    fig, axes = plt.subplots(len(names), ncol, figsize=(3.9 * ncol, 2.9 * len(names) + 0.6), squeeze=False,
                             sharex=True)
    x, xlabel, ef = _mu_axis(result)
    styles = _t_styles(result.temperature)
    errors = False
    for row, (name, comps) in enumerate(zip(names, per_name)):
        val, err = result[name], result.quantities[name].error
        errors |= err is not None
        for col in range(ncol):
            ax = axes[row, col]
            if col >= len(comps):
                ax.axis("off")
                continue
            a, b = comps[col]
            _t_lines(ax, x, val[..., a, b], None if err is None else err[..., a, b], result.temperature, styles)
            _decorate(ax, ef)
            ax.set_ylabel(ylabel_of(name, _AXES[a] + _AXES[b]), fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel, fontsize=9)
    _t_legend(fig, result.temperature, styles, errors=errors)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


def _quantity_label(name: str, indices: str) -> str:
    q = _record(name)
    if q is None:
        return f"{name} {indices}"
    return f"{q.label(indices)} ({q.label_units})"


def plot_hall(result, path: Path) -> Path | None:
    """sigma^e, sigma^s (and any quantity the catalogue puts on the Hall figure) against mu: one row per
    quantity, one panel per independent component, a line style per T, error bands, E_F marked."""
    names = _on_figure(result, "hall")
    if not names:
        return None
    fig = _component_grid(result, names, _antisym_components, ylabel_of=_quantity_label)
    fig.savefig(path)
    _pyplot().close(fig)
    return path


def _ep_parts(result):
    parts = {_record(n).figure_part: result[n] for n in _on_figure(result, "dissipation")}
    total, drude, inter = (parts.get(p) for p in ("total", "drude", "interband"))
    if total is None and drude is not None and inter is not None:
        total = drude + inter
    if drude is None and total is not None and inter is not None:
        drude = total - inter
    if inter is None and total is not None and drude is not None:
        inter = total - drude
    return total, drude, inter


def plot_entropy_production(result, path: Path) -> Path | None:
    """Pi_aa/E^2 against mu (one panel per non-zero diagonal component) and the Drude share of its trace."""
    total, drude, inter = _ep_parts(result)
    if total is None:
        return None
    plt = _pyplot()
    comps = _diagonal_components(total)
    shares = drude is not None and inter is not None
    n = len(comps) + (1 if shares else 0)
    fig, axes = plt.subplots(1, n, figsize=(3.9 * n, 3.5), squeeze=False)
    x, xlabel, ef = _mu_axis(result)
    styles = _t_styles(result.temperature)
    units = _record(_on_figure(result, "dissipation")[0]).label_units
    for ax, (a, _) in zip(axes[0], comps):
        _t_lines(ax, x, total[..., a, a], None, result.temperature, styles)
        _decorate(ax, ef)
        ax.set_ylabel(rf"$\Pi_{{{_AXES[a] * 2}}}/E^2$ ({units})", fontsize=9)
    if shares:
        ax = axes[0, -1]
        tr_t = np.trace(total, axis1=-2, axis2=-1)
        tr_d = np.trace(drude, axis1=-2, axis2=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            _t_lines(ax, x, tr_d / tr_t, None, result.temperature, styles)
        _decorate(ax, ef)
        ax.set_ylabel(r"Drude share of tr $\Pi/E^2$ (interband: 1 − it)", fontsize=9)
        ax.set_ylim(-0.05, 1.05)
    for ax in axes[0]:
        ax.set_xlabel(xlabel, fontsize=9)
    _t_legend(fig, result.temperature, styles, errors=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    fig.savefig(path)
    plt.close(fig)
    return path


def _num_kpoints(result) -> int:
    n = result.attrs.get("num_kpoints")
    if n is None:
        raise InputError("result has no num_kpoints attribute")
    return int(n)


def plot_convergence(result, others: list, path: Path, *, iT: int, imu: int) -> Path | None:
    import json

    history = result.attrs.get("history")
    if isinstance(history, str):
        history = json.loads(history)
    if not history and not others:
        return None
    plt = _pyplot()
    panels = (1 if history else 0) + (1 if others else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4), squeeze=False)
    col = 0
    if history:
        ax = axes[0, col]
        col += 1
        nk = [h["kpoints"] for h in history]
        err = [h["rel_error"] for h in history]
        ax.loglog(nk, err, "o-")
        ax.set_xlabel("k-points evaluated")
        ax.set_ylabel("estimated relative error (dimensionless)")
        ax.set_title("adaptive refinement")
    if others:
        ax = axes[0, col]
        runs = sorted([result] + others, key=_num_kpoints)
        nk = [_num_kpoints(r) for r in runs]
        T, mu = result.temperature[iT], result.mu[imu]
        for name in _on_figure(result, "hall"):
            comps = _antisym_components(result[name][iT, imu])
            for a, b in comps:
                ys = []
                for r in runs:
                    jT = int(np.argmin(np.abs(r.temperature - T)))
                    jm = int(np.argmin(np.abs(r.mu - mu)))
                    ys.append(r[name][jT, jm, a, b])
                ys = np.array(ys)
                ref = ys[-1] if ys[-1] != 0 else 1.0
                sym, units = _record(name).label(_AXES[a] + _AXES[b]), _record(name).label_units
                ax.semilogx(nk, ys / ref, "o-", label=f"{sym} / last ({units} / {units})")
        ax.set_xlabel("k-points")
        ax.set_ylabel("value / value of the largest run (dimensionless)")
        ax.set_title(f"T = {T:g} K, μ = {mu:g} eV")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _plane_frame(ks: KSlice):
    """Orthonormal in-plane axes e_u, e_v, the plane's offset o (Cartesian, 1/Angstrom) and the tiles.

    The map's point (i, j) is at o + X e_u + Y e_v; reduced planes are shown with their periodic images
    (``tiles``: in-plane shifts by the two reciprocal vectors) so that the whole BZ section is covered.
    """
    kind, axis, value = parse_plane(ks.plane)
    others = [i for i in range(3) if i != axis]
    B = ks.reciprocal
    if kind == "cartesian":
        eye = np.eye(3)
        return eye[others[0]], eye[others[1]], value * eye[axis], [np.zeros(2)]
    bu, bv = B[others[0]], B[others[1]]
    normal = np.cross(bu, bv) / np.linalg.norm(np.cross(bu, bv))
    eu = bu / np.linalg.norm(bu)
    ev = np.cross(normal, eu)
    offset = (value * B[axis] @ normal) * normal
    tiles = [np.array([(i * bu + j * bv) @ eu, (i * bu + j * bv) @ ev]) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    return eu, ev, offset, tiles


def _pixel_corners(ks: KSlice, eu, ev) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian in-plane coordinates (N+1, N+1) of the pixel corners."""
    kind, axis, value = parse_plane(ks.plane)
    if kind == "cartesian":
        du, dv = ks.u[1] - ks.u[0], ks.v[1] - ks.v[0]
        return np.meshgrid(np.append(ks.u - du / 2, ks.u[-1] + du / 2),
                           np.append(ks.v - dv / 2, ks.v[-1] + dv / 2), indexing="xy")
    n = len(ks.u)
    corners = np.append(ks.u - 0.5 / n, ks.u[-1] + 0.5 / n)
    others = [i for i in range(3) if i != axis]
    cu, cv = np.meshgrid(corners, corners, indexing="xy")
    kc = cu[..., None] * ks.reciprocal[others[0]] + cv[..., None] * ks.reciprocal[others[1]]
    return kc @ eu, kc @ ev


def _bz_mask(ks: KSlice, eu, ev, offset, box, n: int = 400):
    """The first Brillouin zone's section by the plane on an n x n raster of ``box`` (x0, x1, y0, y1)."""
    x = np.linspace(box[0], box[1], n)
    y = np.linspace(box[2], box[3], n)
    xx, yy = np.meshgrid(x, y, indexing="xy")
    p = offset + xx[..., None] * eu + yy[..., None] * ev
    idx = np.array([n for n in np.ndindex(5, 5, 5) if n != (2, 2, 2)]) - 2  # G = n.B, n in {-2..2}^3 \ 0
    G = idx @ ks.reciprocal
    inside = np.all(p.reshape(-1, 3) @ G.T <= 0.5 * np.sum(G * G, axis=1) + 1e-12, axis=1)
    return x, y, inside.reshape(n, n)


def _colour_scale(name: str, m: np.ndarray):
    from matplotlib import colors

    lim = float(np.max(np.abs(m))) or 1.0
    if _record(name).positive_semidefinite:  # hot spots span decades: a power-law scale for Pi >= 0
        return "viridis", colors.PowerNorm(gamma=0.3, vmin=0.0, vmax=lim), None
    # symmetric-log for the signed sigma^s integrand: two decades of log, ticks one decade apart
    ticks = [-lim, -lim / 10, 0.0, lim / 10, lim]
    return "RdBu_r", colors.SymLogNorm(linthresh=lim / 100, linscale=0.5, vmin=-lim, vmax=lim), ticks


def _kslice_panel(fig, ax, ks: KSlice, name: str) -> None:
    m = ks.maps[name]
    cmap, norm, ticks = _colour_scale(name, m)
    eu, ev, offset, tiles = _plane_frame(ks)
    X, Y = _pixel_corners(ks, eu, ev)
    for shift in tiles:
        im = ax.pcolormesh(X + shift[0], Y + shift[1], m, cmap=cmap, norm=norm, shading="flat", rasterized=True)
    centre = [(X.min() + X.max()) / 2, (Y.min() + Y.max()) / 2]
    half = max(X.max() - X.min(), Y.max() - Y.min()) / 2
    box = (centre[0] - 1.5 * half, centre[0] + 1.5 * half, centre[1] - 1.5 * half, centre[1] + 1.5 * half)
    x, y, inside = _bz_mask(ks, eu, ev, offset, box)
    if inside.any() and len(tiles) > 1:
        xs, ys = x[inside.any(axis=0)], y[inside.any(axis=1)]
        pad = 0.06 * max(xs[-1] - xs[0], ys[-1] - ys[0])
        ax.set_xlim(xs[0] - pad, xs[-1] + pad)
        ax.set_ylim(ys[0] - pad, ys[-1] + pad)
    else:
        ax.set_xlim(X.min(), X.max())
        ax.set_ylim(Y.min(), Y.max())
    if inside.any():
        ax.contour(x, y, inside.astype(float), levels=[0.5], colors="w" if ticks is None else "k", linewidths=1.0)
    ax.set_aspect("equal")
    cb = fig.colorbar(im, ax=ax, ticks=ticks, format="%.1e" if ticks else None)
    cb.set_label(f"per-k integrand ({_record(name).label_units})")
    title = f"{_record(name).kslice_title % ks.component[name]}\n{ks.plane}, T = {ks.temperature:g} K, μ = {ks.mu:g} eV"
    change = ks.resolution.get(name, 0.0)
    if change > UNDER_RESOLVED:
        title += f"\nunder-resolved: changes {change:.0%} on a half-pixel shift"
    ax.set_title(title, fontsize=9, color="#b03a2e" if change > UNDER_RESOLVED else "k")
    kind, axis, _ = parse_plane(ks.plane)
    others = [i for i in range(3) if i != axis]
    names = (f"$k_{_AXES[others[0]]}$", f"$k_{_AXES[others[1]]}$") if kind == "cartesian" else (
        rf"$k \cdot \hat b_{others[0] + 1}$", r"$k \cdot \hat e_\perp$")
    ax.set_xlabel(f"{names[0]} (1/Å)")
    ax.set_ylabel(f"{names[1]} (1/Å)")


def plot_kslice(ks: KSlice, path: Path) -> Path:
    """Maps of the per-k integrands on the plane, in Cartesian in-plane coordinates (1/Angstrom) with the
    first Brillouin zone's boundary; a map that changes on a half-pixel shift is labelled
    under-resolved (and a warning is logged)."""
    plt = _pyplot()
    names = list(ks.maps)
    fig, axes = plt.subplots(1, len(names), figsize=(5.6 * len(names), 5.0), squeeze=False)
    for ax, name in zip(axes[0], names):
        _kslice_panel(fig, ax, ks, name)
        change = ks.resolution.get(name, 0.0)
        if change > UNDER_RESOLVED:
            logger.warning("the %s map on %s changes by %.0f%% when its points move by half a pixel: hot spots are "
                           "narrower than a pixel; raise --kslice-mesh (now %d)", name, ks.plane, 100 * change,
                           len(ks.u))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


#: the figures PREFIX_<name>.png that :func:`plot_result` may write
FIGURES = ("hall", "entropy_production", "convergence", "kslice")


def plot_result(*, result, prefix: str | Path, fmt: str = "png", others: list | None = None,
                kslice: KSlice | None = None, iT: int = -1, imu: int | None = None) -> list[Path]:
    """Write every figure the result supports; returns the paths written."""
    prefix = Path(prefix)
    imu = len(result.mu) // 2 if imu is None else imu
    iT = iT % len(result.temperature)
    written = [plot_hall(result, Path(f"{prefix}_hall.{fmt}")),
               plot_entropy_production(result, Path(f"{prefix}_entropy_production.{fmt}")),
               plot_convergence(result, others or [], Path(f"{prefix}_convergence.{fmt}"), iT=iT, imu=imu)]
    if kslice is not None:
        written.append(plot_kslice(kslice, Path(f"{prefix}_kslice.{fmt}")))
    return [p for p in written if p is not None]

