"""``wbentropy plot``: figures from a result file, and k-resolved maps (:mod:`wbentropy.plot`)."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from ..errors import InputError
from . import options as O

__all__ = ["add_parser", "run"]

logger = logging.getLogger("wbentropy.plot")


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
                   help="chemical potential of the maps (default: the result's E_F, else the middle of its mu grid)")
    p.add_argument("--kslice-extent", type=float, default=None, metavar="INV_ANGSTROM",
                   help="half-width of a Cartesian plane (default: covers the first BZ)")
    p.add_argument("--component", default="xy", help="sigma^s component of the map (default xy)")
    p.add_argument("--ep-component", default="xx", help="entropy-production component of the map (default xx)")
    O.add_tau(p, default=None, help="relaxation time for the entropy-production map (default: the result's, if any)")
    O.add_model_files(p.add_argument_group("model for --kslice (default: the input files recorded in the result)"),
                      required=False)


def _model_from_provenance(result, path):
    """The model from the input files a result records (``input_*`` attributes)."""
    from ..io.load import load_model

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


def _kslice(args, result):
    """The k-slice maps asked for by ``--kslice``, at the result's T, mu, tau and form unless given."""
    import numpy as np

    from ..plot import kslice_map

    model = O.load_model_from_args(args) if (args.w90 or args.tb or args.hr) else \
        _model_from_provenance(result, args.result)
    T = args.kslice_temperature if args.kslice_temperature is not None else float(np.max(result.temperature))
    ef = result.fermi_energy
    mu = args.kslice_mu if args.kslice_mu is not None else ef if ef is not None else float(
        result.mu[len(result.mu) // 2])
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
    return ks


def run(args) -> int:
    """Execute ``wbentropy plot``; prints the files written."""
    from ..plot import FIGURES, plot_result
    from ..results import Result

    result = Result.load(args.result)
    others = [Result.load(f) for f in args.convergence]
    prefix = args.out or str(Path(args.result).with_suffix(""))
    O.check_outputs({"--out": [f"{prefix}_{kind}.{args.format}" for kind in FIGURES]}, args,
                    inputs={"RESULT.h5": args.result, "--convergence": args.convergence})
    ks = None if args.kslice is None else _kslice(args, result)
    written = plot_result(result=result, prefix=prefix, fmt=args.format, others=others, kslice=ks)
    for p in written:
        sys.stdout.write(f"{p}\n")
    return 0
