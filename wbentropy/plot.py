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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = ["KSlice", "parse_plane", "kslice_map", "plot_result", "add_parser", "run"]

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


#: Largest --kslice-mesh: 4096 x 4096 = 16.8 million k-points, far more than a figure resolves.
MAX_KSLICE_MESH = 4096


def parse_plane(text: str) -> tuple[str, int, float]:
    """``"k3=0.25"`` -> ("reduced", 2, 0.25); ``"kz=0"`` -> ("cartesian", 2, 0.0)."""
    m = re.fullmatch(r"\s*k([123xyz])\s*=\s*([-+0-9.eE]+)\s*", text)
    if not m:
        raise InputError(f"--kslice must look like k1=0, k2=0.5, k3=0 (reduced) or kx=0, ky=0, kz=0 "
                         f"(Cartesian, 1/Angstrom), got {text!r}")
    axis, value = m.group(1), float(m.group(2))
    if axis in "123":
        return "reduced", int(axis) - 1, value
    return "cartesian", "xyz".index(axis), value


def _plane_points(*, model, plane: str, mesh: int, extent: float | None):
    kind, axis, value = parse_plane(plane)
    if not 2 <= mesh <= MAX_KSLICE_MESH:
        raise InputError(f"--kslice-mesh must be >= 2 and at most {MAX_KSLICE_MESH} (N x N k-points), got {mesh}")
    if extent is not None and not (np.isfinite(extent) and extent > 0):
        raise InputError(f"--kslice-extent must be a finite length > 0 (1/Angstrom), got {extent}")
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
    flat = ev(k.reshape(-1, 3))
    parts = ev.split(flat)
    maps, comps = {}, {}
    for name, arr in zip(names, parts):
        (a, b), c = (hc, hall_component) if _record(name).antisymmetric else (ec, ep_component)
        maps[name] = arr[:, 0, 0, a, b].reshape(k.shape[:2])
        comps[name] = c
    return KSlice(plane=plane, u=u, v=v, axis_labels=labels, kpoints=k, maps=maps, component=comps,
                  temperature=float(temperature), mu=float(mu))


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


def _lines(ax, mu, ys, label):
    style = dict(marker="o") if len(mu) == 1 else dict(marker="." if len(mu) < 30 else None)
    ax.plot(mu, ys, label=label, **style)


def plot_hall(result, path: Path) -> Path | None:
    names = _on_figure(result, "hall")
    if not names:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        val = result[name]
        q = _record(name)
        for a, b in _antisym_components(val):
            for iT, T in enumerate(result.temperature):
                _lines(ax, result.mu, val[iT, :, a, b], f"{_AXES[a]}{_AXES[b]}, T = {T:g} K")
        ax.set_xlabel(r"$\mu$ (eV)")
        ax.set_ylabel(f"{q.label('ab')} ({q.label_units})")
        ax.axhline(0, color="0.7", lw=0.5)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
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
    total, drude, inter = _ep_parts(result)
    if total is None:
        return None
    plt = _pyplot()
    shares = drude is not None and inter is not None
    fig, axes = plt.subplots(1, 2 if shares else 1, figsize=(10.4 if shares else 5.2, 4), squeeze=False)
    ax = axes[0, 0]
    scale = np.max(np.abs(total))
    for a in range(3):
        if np.max(np.abs(total[..., a, a])) <= 1e-6 * scale:
            continue
        for iT, T in enumerate(result.temperature):
            _lines(ax, result.mu, total[iT, :, a, a], f"{_AXES[a] * 2}, T = {T:g} K")
    ax.set_xlabel(r"$\mu$ (eV)")
    ax.set_ylabel(r"$\Pi_{aa}/E^2$ (S/(m·K))")
    ax.legend(fontsize=7)
    if shares:
        ax = axes[0, 1]
        tr_t = np.trace(total, axis1=-2, axis2=-1)
        tr_d = np.trace(drude, axis1=-2, axis2=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            for iT, T in enumerate(result.temperature):
                _lines(ax, result.mu, tr_d[iT] / tr_t[iT], f"Drude, T = {T:g} K")
                _lines(ax, result.mu, 1 - tr_d[iT] / tr_t[iT], f"interband, T = {T:g} K")
        ax.set_xlabel(r"$\mu$ (eV)")
        ax.set_ylabel(r"share of tr $\Pi/E^2$ (dimensionless)")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=7)
    fig.tight_layout()
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


def plot_kslice(ks: KSlice, path: Path) -> Path:
    plt = _pyplot()
    names = list(ks.maps)
    fig, axes = plt.subplots(1, len(names), figsize=(5.4 * len(names), 4.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        m = ks.maps[name]
        from matplotlib import colors

        lim = float(np.max(np.abs(m))) or 1.0
        # hot spots span decades: symmetric-log (sigma^s integrand) / power-law (Pi >= 0) colour scales
        if _record(name).positive_semidefinite:
            cmap, norm = "inferno", colors.PowerNorm(gamma=0.3, vmin=0.0, vmax=lim)
        else:
            cmap, norm = "RdBu_r", colors.SymLogNorm(linthresh=1e-3 * lim, vmin=-lim, vmax=lim)
        extent = (ks.u[0], ks.u[-1], ks.v[0], ks.v[-1])
        im = ax.imshow(m, origin="lower", extent=extent, cmap=cmap, norm=norm, aspect="equal",
                       interpolation="nearest")
        t, units = _record(name).kslice_title, _record(name).label_units
        cb = fig.colorbar(im, ax=ax)
        cb.set_label(f"per-k integrand ({units})")
        ax.set_title(f"{t % ks.component[name]}\n{ks.plane}, T = {ks.temperature:g} K, μ = {ks.mu:g} eV",
                     fontsize=9)
        ax.set_xlabel(ks.axis_labels[0])
        ax.set_ylabel(ks.axis_labels[1])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


_FIGURES = ("hall", "entropy_production", "convergence", "kslice")  # PREFIX_<name>.png written


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


# --------------------------------------------------------------------------- CLI
def add_parser(sub) -> None:
    """Register ``wbentropy plot`` on the CLI's subparsers."""
    p = sub.add_parser("plot", help="figures from a result file (and k-resolved maps with --kslice)")
    p.add_argument("result", metavar="RESULT.h5")
    p.add_argument("--out", default=None, metavar="PREFIX",
                   help="file name prefix (default: RESULT without .h5); writes PREFIX_hall.png etc.")
    p.add_argument("--format", choices=("png", "pdf"), default="png")
    p.add_argument("--convergence", nargs="+", default=[], metavar="FILE",
                   help="results of the same job on other meshes, for the convergence figure")
    p.add_argument("--kslice", default=None, metavar="PLANE",
                   help="k-resolved maps on a plane: k1=, k2=, k3= (reduced) or kx=, ky=, kz= (1/Angstrom)")
    p.add_argument("--kslice-mesh", type=int, default=100, metavar="N", help="N x N points (default 100)")
    p.add_argument("--kslice-temperature", type=float, default=None, metavar="K",
                   help="temperature of the maps (default: the result's highest)")
    p.add_argument("--kslice-mu", type=float, default=None, metavar="EV",
                   help="chemical potential of the maps (default: the middle of the result's mu grid)")
    p.add_argument("--kslice-extent", type=float, default=None, metavar="INV_ANGSTROM",
                   help="half-width of a Cartesian plane (default: covers the first BZ)")
    p.add_argument("--component", default="xy", help="sigma^s component of the map (default xy)")
    p.add_argument("--ep-component", default="xx", help="entropy-production component of the map (default xx)")
    p.add_argument("--tau", type=float, default=None, metavar="FS",
                   help="relaxation time for the entropy-production map (default: the result's, if any)")
    g = p.add_argument_group("model for --kslice (default: the input files recorded in the result)")
    src = g.add_mutually_exclusive_group()
    src.add_argument("--w90", metavar="SEED")
    src.add_argument("--tb", metavar="FILE")
    src.add_argument("--hr", metavar="FILE")
    g.add_argument("--r", metavar="FILE")
    g.add_argument("--wsvec", metavar="FILE")
    g.add_argument("--win", metavar="FILE")


def _model_from_provenance(result, path):
    from .io.load import load_model

    a = result.attrs
    fmt = a.get("input_format")
    given = lambda k: a.get(f"input_{k}") or None  # noqa: E731
    if fmt == "tb":
        return load_model(tb=given("tb"), wsvec=given("wsvec"))
    if fmt == "hr":
        return load_model(hr=given("hr"), r=given("r"), wsvec=given("wsvec"), win=given("win"))
    chk = given("chk")
    if chk:
        return load_model(w90=str(Path(chk).with_suffix("")))
    raise InputError("the result does not record loadable input files (model built in Python?): "
                     "give the model again with --tb/--hr/--w90", path=path)


def run(args) -> int:
    """Execute ``wbentropy plot``; prints the files written."""
    import sys

    from .results import Result

    result = Result.load(args.result)
    others = [Result.load(f) for f in args.convergence]
    prefix = args.out or str(Path(args.result).with_suffix(""))
    from .outputs import check_outputs

    check_outputs({"--out": [f"{prefix}_{kind}.{args.format}" for kind in _FIGURES]}, args,
                  inputs={"RESULT.h5": args.result, "--convergence": args.convergence})
    ks = None
    if args.kslice is not None:
        if args.w90 or args.tb or args.hr:
            from .io.load import load_model

            model = load_model(w90=args.w90, tb=args.tb, hr=args.hr, r=args.r, wsvec=args.wsvec, win=args.win)
        else:
            model = _model_from_provenance(result, args.result)
        T = args.kslice_temperature if args.kslice_temperature is not None else float(np.max(result.temperature))
        mu = args.kslice_mu if args.kslice_mu is not None else float(result.mu[len(result.mu) // 2])
        tau = args.tau
        if tau is None:
            for q in result.quantities.values():
                if "tau_fs" in q.attrs:
                    tau = float(q.attrs["tau_fs"])
                    break
        form = "paper" if any(str(q.attrs.get("form", "")).startswith("paper")
                              for q in result.quantities.values()) else "exact"
        ks = kslice_map(model=model, plane=args.kslice, mesh=args.kslice_mesh, temperature=T, mu=mu, tau_fs=tau,
                        entropy_production_form=form, hall_component=args.component,
                        ep_component=args.ep_component, extent=args.kslice_extent,
                        degen_thresh=result.attrs.get("degen_thresh_eV"))
        if tau is None:
            logger.warning("no relaxation time (the result has none; give --tau FS): "
                           "the entropy-production map is omitted")
    written = plot_result(result=result, prefix=prefix, fmt=args.format, others=others, kslice=ks)
    for p in written:
        sys.stdout.write(f"{p}\n")
    return 0
