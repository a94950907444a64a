"""Command line: ``wbentropy compute``, ``show``, ``verify`` and ``plot`` (:mod:`wbentropy.plot`).

User errors (bad files, bad options, including argparse's) print one line
``wbentropy: error: ...`` and exit with status 2; no traceback.  Under MPI an error every
rank sees is printed once and every rank exits 2 without ``MPI_Abort``.  Ctrl-C (SIGINT) and
SIGTERM (Slurm's time limit) print one line ``wbentropy: interrupted (SIGINT) ...`` naming the
checkpoint to resume from, and exit 130 (SIGINT) or 143 (SIGTERM).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import InputError

__all__ = ["main", "build_parser"]

logger = logging.getLogger("wbentropy")


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error format of every other user error (subparsers inherit it)."""

    def error(self, message: str):
        self.exit(2, f"wbentropy: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="wbentropy", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"wbentropy {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compute", help="integrate quantities over the Brillouin zone")
    add_model_arguments(c)
    c.add_argument("--kmesh", nargs=3, type=int, required=True, metavar=("N1", "N2", "N3"))
    c.add_argument("--temperature", nargs="+", type=float, required=True, metavar="K",
                   help="temperatures in K (0 = step occupations)")
    mu = c.add_mutually_exclusive_group(required=True)
    mu.add_argument("--mu", nargs="+", type=float, metavar="EV", help="chemical potentials in eV")
    mu.add_argument("--mu-range", nargs=3, type=float, metavar=("START", "STOP", "STEP"),
                    help="chemical potentials START..STOP (inclusive) in steps of STEP, eV")
    from .quantities import QUANTITIES

    c.add_argument("--quantities", default="ahc,entropy_hall",
                   help="comma-separated list (default: ahc,entropy_hall); known: " + ", ".join(QUANTITIES))
    c.add_argument("--tau", type=float, default=None, metavar="FS",
                   help="relaxation time in fs (entropy production, Drude quantities)")
    c.add_argument("--entropy-production-form", choices=("exact", "paper"), default="exact",
                   help="interband kernel: exact (Kubo-Mori, default) or paper (Eq. 18 as printed)")
    add_ac_arguments(c)
    c.add_argument("--out", required=True, metavar="RESULT.h5")
    c.add_argument("--tb-down", metavar="FILE", default=None,
                   help="collinear spin-polarised run: the spin-down SEED_tb.dat (--tb is then the spin-up one); "
                        "both channels are integrated, the result holds the totals and each channel")
    c.add_argument("--wsvec-down", metavar="FILE", default=None, help="SEED_wsvec.dat of the spin-down channel")
    a = c.add_argument_group("adaptive integration (active with --tolerance, --max-kpoints or --restart; "
                             "--kmesh is then the coarse mesh)")
    a.add_argument("--tolerance", type=float, default=None, metavar="REL",
                   help="target relative error of every tensor (relative to its largest component)")
    a.add_argument("--abs-tolerance", type=float, default=0.0, metavar="ABS",
                   help="absolute error floor added to every tensor's scale (its units)")
    a.add_argument("--max-kpoints", type=int, default=None, help="budget of k-point evaluations")
    a.add_argument("--max-levels", type=int, default=50, help="maximum refinement levels (default 50)")
    a.add_argument("--box-occupations", action="store_true",
                   help="average f_n, s_n of each Gauss node over the energies its band sweeps in the node's box "
                        "where that exceeds k_BT (adaptive smearing; default: the node's own f_n, s_n). Use it at "
                        "T = 0 and low T, where the Fermi surface or the entropy shell is thinner than the cells; at "
                        "room temperature it biases sigma^e (figures: docs/adaptive.md)")
    a.add_argument("--checkpoint", default=None, metavar="FILE",
                   help="checkpoint written after each level (default: RESULT.h5 + .checkpoint.h5)")
    a.add_argument("--restart", default=None, metavar="CHECKPOINT", help="resume a killed adaptive run")
    a.add_argument("--no-progress", action="store_true", help="no progress bar")
    a.add_argument("--_exit-after-level", dest="exit_after_level", type=int, default=None,
                   help=argparse.SUPPRESS)
    c.add_argument("--degen-thresh", type=float, default=None, metavar="EV")
    c.add_argument("--batch-size", type=int, default=None, help="k-points per batch (memory bound)")
    c.add_argument("--threads", type=int, default=None, metavar="N",
                   help="threads per rank evaluating k-batches side by side (default: the rank's share of the "
                        "node's cores; env WBENTROPY_THREADS)")
    c.add_argument("--max-memory", type=float, default=None, metavar="MB",
                   help="memory budget (MB per rank) of the arrays of the computation, kept by batch sizing "
                        "(default: a quarter of the available memory shared by the ranks, 64..2048 MB)")
    c.add_argument("-v", "--verbose", action="store_true")

    s = sub.add_parser("show", help="print a result file as a table")
    s.add_argument("result", metavar="RESULT.h5")
    from .verify import add_verify_parser

    add_verify_parser(sub)

    from .plot import add_parser as add_plot_parser

    add_plot_parser(sub)
    return p


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """The input-file options shared by the subcommands that load a model."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--w90", metavar="SEED", help="SEED.chk + SEED.eig + SEED.mmn (read by WannierBerri)")
    src.add_argument("--tb", metavar="FILE", help="Wannier90 SEED_tb.dat")
    src.add_argument("--hr", metavar="FILE", help="Wannier90 SEED_hr.dat")
    p.add_argument("--r", metavar="FILE", help="Wannier90 SEED_r.dat (with --hr)")
    p.add_argument("--wsvec", metavar="FILE", help="Wannier90 SEED_wsvec.dat (MDRS, with --tb/--hr)")
    p.add_argument("--win", metavar="FILE", help="Wannier90 SEED.win (lattice, with --hr)")
    p.add_argument("--spin-degeneracy", type=int, choices=(1, 2), default=None,
                   help="electrons per band: 1 for spinor Wannier functions, 2 for spinless ones (default: "
                        "from 'spinors' in the .win given with --hr or beside SEED_tb.dat / SEED.chk; "
                        "1 if there is no .win)")
    p.add_argument("--symmetrize", action="store_true",
                   help="symmetrize H(R) and r(R) under the magnetic space group of the .win structure "
                        "(WannierBerri's symmetrizer; checked, refused if it changes the bands: docs/symmetry.md)")
    p.add_argument("--magmom", nargs="+", type=float, default=None, metavar="M",
                   help="magnetic moments: MX MY MZ for every atom, or 3 numbers per atom of the .win "
                        "(default: non-magnetic, time reversal kept)")
    p.add_argument("--projections", nargs="+", default=None, metavar="ATOM:ORBITALS",
                   help="projections for --symmetrize in WannierBerri's notation, e.g. Fe:sp3d2;t2g "
                        "(default: the .win's projections block)")


def symmetry_step(model, args, *, mus, temperatures=()):
    """The model after --symmetrize (or the breaking measurement without it)."""
    from .symmetry import prepare_symmetry

    return prepare_symmetry(model, symmetrize=args.symmetrize, magmom=args.magmom, projections=args.projections,
                            mus=mus, temperatures=temperatures)


def add_ac_arguments(p: argparse.ArgumentParser) -> None:
    """Photon energies and broadening of the AC quantities."""
    p.add_argument("--omega-range", nargs=3, type=float, default=None, metavar=("START", "STOP", "STEP"),
                   help="photon energies hbar*omega START..STOP (inclusive) in steps of STEP, eV (AC quantities)")
    p.add_argument("--smearing", nargs=2, default=("lorentzian", "0.05"), metavar=("SHAPE", "WIDTH"),
                   help="line shape (lorentzian|gaussian) and width in eV replacing delta(eps_mn - omega) "
                        "in the AC quantities (default: lorentzian 0.05)")


def ac_options(args) -> dict:
    """compute() keyword arguments for the AC options of ``args``."""
    shape, width = args.smearing
    try:
        width = float(width)
    except ValueError:
        raise InputError(f"--smearing WIDTH must be a number in eV, got {width!r}") from None
    from .api import inclusive_range

    omegas = None if args.omega_range is None else inclusive_range(*args.omega_range, name="--omega-range")
    return {"omegas": omegas, "smearing": shape.lower(), "smearing_width": width}


def _prepare(args, *, checkpoint: str | None):
    """Everything about a ``compute`` run that can be checked before integrating, and the model.

    Returns (model, mus, quantity names, AC options); raises InputError naming the option or file.
    """
    from .api import check_grid, check_kmesh, check_omegas, check_options, check_quantity_names, inclusive_range
    from .io.load import load_model
    from .kspace.geometry import DEFAULT_DEGEN_THRESH
    from .io.outputs import INPUT_OPTIONS, check_outputs
    from .quantities import get_quantities

    check_outputs({"--out": args.out, "--checkpoint": checkpoint},  # fail now, not after the computation
                  {opt: getattr(args, opt[2:].replace("-", "_"), None) for opt in INPUT_OPTIONS})
    mus = args.mu if args.mu is not None else inclusive_range(*args.mu_range)
    check_grid(temperatures=args.temperature, mus=mus)
    names = check_quantity_names(args.quantities.split(","))
    check_options(degen_thresh=DEFAULT_DEGEN_THRESH if args.degen_thresh is None else args.degen_thresh,
                  batch_size=args.batch_size, max_memory_mb=args.max_memory, tau_fs=args.tau,
                  tolerance=args.tolerance, abs_tolerance=args.abs_tolerance, max_kpoints=args.max_kpoints,
                  max_levels=args.max_levels, threads=args.threads)
    check_kmesh(args.kmesh)
    ac = ac_options(args)
    if any(q.omega_axis for q in get_quantities(names)):
        check_omegas(omegas=ac["omegas"], smearing=ac["smearing"], smearing_width=ac["smearing_width"])
    if args.tb_down is not None or args.wsvec_down is not None:
        if args.symmetrize or args.magmom is not None:
            raise InputError("--symmetrize/--magmom: not available for a collinear spin-polarised pair (--tb-down)")
        return _collinear_pair(args), mus, names, ac
    model = load_model(w90=args.w90, tb=args.tb, hr=args.hr, r=args.r, wsvec=args.wsvec, win=args.win,
                       spin_degeneracy=args.spin_degeneracy)
    model = symmetry_step(model, args, mus=mus, temperatures=args.temperature)
    return model, mus, names, ac


def _collinear_pair(args):
    """The (up, down) models of ``--tb UP --tb-down DOWN``."""
    from .io.load import load_collinear_pair

    if args.tb_down is None:
        raise InputError("--wsvec-down: applies to the spin-down channel given with --tb-down")
    if args.tb is None:
        raise InputError("--tb-down: give the spin-up channel with --tb "
                         "(a collinear pair is read from two _tb.dat files)")
    if args.spin_degeneracy is not None:
        raise InputError("--spin-degeneracy: each channel of a collinear pair (--tb-down) holds one electron per "
                         "band; drop the option")
    if args.checkpoint is not None or args.restart is not None:
        raise InputError("--checkpoint/--restart: not available for a collinear spin-polarised pair (--tb-down); "
                         "integrate each channel in a run of its own to checkpoint it")
    for opt, path in (("--out", args.out), ("--checkpoint", args.checkpoint)):
        if path is not None and Path(path).resolve() == Path(args.tb_down).resolve():
            raise InputError(f"{opt} {path}: is the input file given with --tb-down; choose another name")
    return load_collinear_pair(tb_up=args.tb, tb_down=args.tb_down, wsvec_up=args.wsvec, wsvec_down=args.wsvec_down)


def interrupt_message(signum: int, *, checkpoint: str | None, restart: str | None, since: float) -> str:
    """The one line printed when a run is stopped by SIGINT (Ctrl-C) or SIGTERM (e.g. Slurm's time limit).

    ``checkpoint`` is the adaptive run's checkpoint (None: uniform mesh); it counts as this run's
    if it was written after ``since`` (``time.time()`` at the start) or is the ``restart`` file.
    """
    import signal

    what = f"wbentropy: interrupted ({signal.Signals(signum).name})"
    if checkpoint is None:
        return f"{what}: no result written (a uniform-mesh run keeps no checkpoint; adaptive runs do)"
    path = Path(checkpoint)
    ours = path.is_file() and (path.stat().st_mtime >= since or (restart is not None and path.samefile(restart)))
    if not ours:
        return f"{what} before the first checkpoint was written: nothing to resume, start again"
    try:
        import h5py

        with h5py.File(path, "r") as h:
            held = f"level {int(h.attrs['level'])} ({int(h.attrs['n_evaluations'])} k-points)"
    except (OSError, KeyError, ValueError):
        held = "the last finished level"
    return f"{what}; the checkpoint {path} holds {held}: resume with the same command plus --restart {path}"


def _compute(args) -> int:
    import signal
    import time

    from .api import compute
    from .integrate.parallel import INTERRUPT_EXIT_CODES, ignore_signals, world
    from .kspace.geometry import DEFAULT_DEGEN_THRESH
    from .io.outputs import save_with_fallback

    since = time.time()
    parallel = world()
    adaptive = args.tolerance is not None or args.max_kpoints is not None or args.restart is not None
    checkpoint = args.checkpoint or (str(args.out) + ".checkpoint.h5" if adaptive else None)
    message = lambda signum: interrupt_message(signum, checkpoint=checkpoint, restart=args.restart,  # noqa: E731
                                               since=since)
    parallel.interrupt_message = message
    try:
        with parallel.stop_all_on_error():
            model, mus, names, ac = parallel.agree(lambda: _prepare(args, checkpoint=checkpoint))
            if isinstance(model, tuple):  # a collinear spin-polarised pair: both channels, no checkpoint
                from .api import compute_collinear

                checkpoint = None
                run = lambda model, **kw: compute_collinear(up=model[0], down=model[1], **kw)  # noqa: E731
            else:
                run = compute
            result = run(model=model, quantities=names, temperatures=args.temperature, mus=mus,
                             kmesh=args.kmesh,
                             degen_thresh=DEFAULT_DEGEN_THRESH if args.degen_thresh is None else args.degen_thresh,
                             batch_size=args.batch_size, parallel=parallel, max_memory_mb=args.max_memory,
                             tau_fs=args.tau, entropy_production_form=args.entropy_production_form,
                             tolerance=args.tolerance, abs_tolerance=args.abs_tolerance,
                             max_kpoints=args.max_kpoints, max_levels=args.max_levels, checkpoint=checkpoint,
                             restart=args.restart,
                             progress=adaptive and not args.no_progress and sys.stderr.isatty(), **ac,
                             threads=args.threads, box_occupations=args.box_occupations,
                             _exit_after_level=args.exit_after_level)
            if parallel.is_root:
                sys.stdout.write(result.to_text())  # first, and flushed: a failed write below cannot lose the numbers
                sys.stdout.flush()
                path = save_with_fallback(result.save, args.out)
                logger.info("wrote %s", path)
                if adaptive and checkpoint and args.checkpoint is None and result.attrs.get("converged"):
                    Path(checkpoint).unlink(missing_ok=True)  # default checkpoint of a finished run
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM (Interrupted); every rank is here
        ignore_signals()  # a second Ctrl-C must not interrupt the report (main() restores the handlers)
        signum = getattr(exc, "signum", signal.SIGINT)
        if parallel.is_root:
            sys.stderr.write(message(signum) + "\n")
        return INTERRUPT_EXIT_CODES.get(signum, 130)
    finally:
        parallel.close()  # reached by every rank together (a crash on one rank ends in MPI_Abort instead)
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    import warnings

    from .errors import ConvergenceWarning, InputWarning

    warnings.simplefilter("ignore", ConvergenceWarning)  # already logged once as WARNING
    warnings.simplefilter("ignore", InputWarning)  # likewise
    import signal
    import threading

    from .integrate.parallel import INTERRUPT_EXIT_CODES, AgreedInputError, ignore_signals, raise_on_signal

    main_thread = threading.current_thread() is threading.main_thread()
    previous = (signal.signal(signal.SIGINT, raise_on_signal), signal.signal(signal.SIGTERM, raise_on_signal)) \
        if main_thread else None
    try:
        if args.command == "compute":
            return _compute(args)
        if args.command == "verify":
            from .verify import run_verify

            return run_verify(args)
        if args.command == "show":
            from .results import Result

            sys.stdout.write(Result.load(args.result).to_text())
            return 0
        if args.command == "plot":
            from .plot import run as run_plot

            return run_plot(args)
    except AgreedInputError as exc:  # under MPI: every rank has it, one prints
        parser.exit(2, f"wbentropy: error: {exc}\n" if exc.report else None)
    except InputError as exc:
        parser.exit(2, f"wbentropy: error: {exc}\n")
    except KeyboardInterrupt as exc:  # outside compute (show, verify, plot): nothing to keep
        ignore_signals()
        signum = getattr(exc, "signum", signal.SIGINT)
        parser.exit(INTERRUPT_EXIT_CODES.get(signum, 130), f"wbentropy: interrupted ({signal.Signals(signum).name})\n")
    finally:
        # after a reported interruption the signals stay ignored: the process is ending, and a
        # second Ctrl-C must not kill it on its way out; otherwise restore what we found
        if main_thread and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
